# TestCompareDetectsDifference builds this and after.Dockerfile, which differ on
# purpose in every way the comparison looks at; its want list names each.
FROM busybox:latest
RUN mkdir /d \
    && echo same > /d/same \
    && echo one > /d/content \
    && echo a > /d/size \
    && touch /d/mode /d/owner /d/kind /d/gone \
    && chmod 644 /d/mode /d/owner /d/kind /d/gone \
    && ln -s /d/same /d/link \
    && ln /d/same /d/x-hard
ENV MODE=before
LABEL kind=before
WORKDIR /d
