# Expert version of microblog's Dockerfile: same base, same requirements (and the same
# three unpinned extras), same entrypoint and port. Every dependency is a wheel, so one
# stage suffices; the wins are no pip cache, a non-root user and one install layer.
FROM python:slim
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    FLASK_APP=microblog.py
RUN useradd --create-home microblog
WORKDIR /home/microblog
COPY requirements.txt requirements.txt
RUN pip install -r requirements.txt gunicorn pymysql cryptography
COPY app app
COPY migrations migrations
COPY microblog.py config.py boot.sh ./
# compile the translations at build time (create_app() also makes logs/ as root: removed,
# the app recreates it); the app user writes its SQLite database (app.db beside config.py)
# and logs/microblog.log in the work directory
RUN flask translate compile \
    && rm -rf logs \
    && chmod a+x boot.sh \
    && chown microblog:microblog /home/microblog
USER microblog
EXPOSE 5000
ENTRYPOINT ["./boot.sh"]
