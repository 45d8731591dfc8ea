# MAINTAINER and ADD of a local file, which dfopt turns into LABEL maintainer
# and COPY; context/ is the build context.
FROM busybox:latest
MAINTAINER Jane Doe <jane@example.com>
ADD config.txt /etc/app/
RUN cat /etc/app/config.txt > /etc/app/copy.txt
RUN chmod 600 /etc/app/copy.txt
