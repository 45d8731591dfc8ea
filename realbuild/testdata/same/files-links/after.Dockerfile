# Files, directories, symlinks, a hard link, special modes, a fifo and a
# removal, one RUN each; after.Dockerfile does the same in one RUN. The hard
# link is made in the RUN that makes its file: the classic builder on the vfs
# storage driver stores a link to a file of an earlier layer as a copy.
FROM busybox:latest
RUN mkdir -p /opt/app/bin /opt/app/data /opt/app/cache /usr/local/bin \
    && echo 'hello' > /opt/app/data/greeting.txt && ln /opt/app/data/greeting.txt /opt/app/data/hello.txt \
    && printf '#!/bin/sh\necho run\n' > /opt/app/bin/run \
    && chmod 4755 /opt/app/bin/run && chmod 1777 /opt/app/cache \
    && ln -s /opt/app/bin/run /usr/local/bin/app \
    && mkfifo -m 600 /opt/app/fifo \
    && rm -rf /var/spool/mail \
    && echo temp > /opt/app/cache/tmp.txt \
    && rm /opt/app/cache/tmp.txt
