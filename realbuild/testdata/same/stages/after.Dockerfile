# A builder stage and a shipping stage, both with RUNs to merge (the builder's
# only with --merge=all); COPY --from carries the builder's files over.
FROM busybox:latest AS build
WORKDIR /src
RUN echo 'int main(void) { return 0; }' > main.c \
    && mkdir -p /out/bin \
    && printf '#!/bin/sh\necho built\n' > /out/bin/tool \
    && chmod 755 /out/bin/tool \
    && sha256sum main.c > /out/checksums

FROM busybox:latest
COPY --from=build /out/ /usr/local/
RUN /usr/local/bin/tool > /built.txt \
    && ln -s /usr/local/bin/tool /usr/bin/tool
