# Shell state ends with each RUN: a cd or an export must not leak into the
# next command once RUNs are merged (after.Dockerfile scopes them in subshells).
FROM busybox:latest
RUN mkdir -p /opt/tool && cd /opt/tool && echo v1 > VERSION
RUN echo "cwd=$(pwd)" > /cwd.txt
RUN cd /tmp
RUN touch relative-file
RUN export GREETING=hi
RUN echo "greeting=${GREETING:-unset}" > /greeting.txt
