# See before.Dockerfile. /d/same differs only in its time: never reported.
FROM busybox:latest
RUN mkdir /d \
    && echo same > /d/same \
    && touch -d '2001-02-03 04:05:06' /d/same \
    && echo two > /d/content \
    && echo abc > /d/size \
    && touch /d/mode /d/owner /d/new \
    && chmod 755 /d/mode \
    && chmod 644 /d/owner /d/new \
    && chown 1:1 /d/owner \
    && mkdir /d/kind \
    && chmod 755 /d/kind \
    && ln -s /d/content /d/link \
    && ln /d/content /d/x-hard
ENV MODE=after
LABEL kind=after
WORKDIR /
USER 1
