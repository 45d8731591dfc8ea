# A user (Debian's busybox has no adduser: /etc/passwd by hand), ENV, WORKDIR,
# USER, EXPOSE and CMD between RUNs; after.Dockerfile merges the RUNs that sit
# side by side and keeps every other instruction where it was.
FROM busybox:latest
ENV APP_HOME=/srv/app \
    APP_USER=app
RUN echo "$APP_USER:x:1000:1000::$APP_HOME:/bin/sh" >> /etc/passwd
RUN echo "$APP_USER:x:1000:" >> /etc/group
RUN mkdir -p "$APP_HOME/data"
RUN chown -R "$APP_USER:$APP_USER" "$APP_HOME"
WORKDIR $APP_HOME
RUN echo "home=$(pwd)" > settings.conf
RUN echo "user=$(id -un)" >> settings.conf
USER app
RUN echo "whoami=$(id -un) uid=$(id -u)" > data/whoami.txt
RUN touch data/owned-by-app
EXPOSE 8080/tcp
CMD ["sh", "-c", "cat settings.conf"]
