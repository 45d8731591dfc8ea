# Shell state ends with each RUN: a cd or an export must not leak into the
# next command once RUNs are merged (after.Dockerfile scopes them in subshells).
FROM busybox:latest
RUN mkdir -p /opt/tool && (cd /opt/tool && echo v1 > VERSION) \
    && echo "cwd=$(pwd)" > /cwd.txt \
    && (cd /tmp) \
    && touch relative-file \
    && (export GREETING=hi) \
    && echo "greeting=${GREETING:-unset}" > /greeting.txt
