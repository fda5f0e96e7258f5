# The bot's webhook server in a container (compose.yaml runs two of them behind nginx, on
# PostgreSQL). Every RUN line below also runs in CI, without Docker: .ci/dockerfile.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The package first: its layer (and the dependencies' download) is rebuilt only when the code
# changes, not when an article or a setting does. The source is removed once installed, so
# that `python -m bot` imports the installed package, not a copy beside it.
COPY pyproject.toml README.md src/
COPY bot src/bot
RUN pip install --no-cache-dir ./src \
    && rm -rf src

# The bundled articles and the settings file: the bot reads both from the folder (WORKDIR is
# where config/newsbot.toml is looked for). articles/feeds (entries of polled feeds) and var/
# (the SQLite file, when NEWSBOT_DATABASE is not set) are written at run time, so they belong
# to the user the bot runs as; compose.yaml mounts one volume on articles/feeds for every replica.
COPY articles articles
COPY config config
RUN mkdir -p articles/feeds var \
    && chown -R 10001:10001 articles/feeds var

# A container listens on every interface (the default, 127.0.0.1, is unreachable from outside).
ENV NEWSBOT_WEBHOOK_LISTEN=0.0.0.0 \
    NEWSBOT_WEBHOOK_PORT=8443 \
    NEWSBOT_ARTICLES_DIR=/app/articles

# No root at run time; a numeric id needs no account in /etc/passwd.
USER 10001:10001
EXPOSE 8443

CMD ["python", "-m", "bot", "run", "--webhook"]
