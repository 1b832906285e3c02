# The DeepSentinel gateway. Not built in CI here (no Docker on the CI machine): an example to adapt.
#   docker build -t deepsentinel-gateway .
#   docker run -p 8080:8080 -e OPENAI_API_KEY=... -e DEEPSENTINEL_GATEWAY_KEYS=team=... deepsentinel-gateway
FROM python:3.12-slim

RUN useradd --create-home --uid 10001 sentinel
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir '.[gateway]'

USER sentinel
ENV DEEPSENTINEL_AUDIT_PATH=/home/sentinel/audit/audit.sqlite3
EXPOSE 8080
# Exec form: SIGTERM reaches the server, which drains in-flight streams (--drain-seconds) before exiting.
CMD ["deepsentinel", "serve", "--host", "0.0.0.0", "--port", "8080", "--workers", "2", "--drain-seconds", "25"]
