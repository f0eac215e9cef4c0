# ukkbot in a container: runs as a non-root user, keeps its database on the /data volume and
# reports its health from /healthz. Build: docker build -t ukkbot .   (README "Operations")
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATABASE_PATH=/data/ukkbot.sqlite3 \
    CONTENT_DIR=/app/content \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
RUN pip install --no-cache-dir . \
    && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home ukkbot \
    && mkdir /data && chown ukkbot:ukkbot /data
# Content last: editing a topic rebuilds only this layer. Or mount your own over /app/content.
COPY content ./content

USER ukkbot
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HTTP_PORT', '8080'), timeout=4)"]
# SIGTERM (docker stop) lets the bot close Telegram and the database cleanly.
STOPSIGNAL SIGTERM
CMD ["ukkbot", "run"]
