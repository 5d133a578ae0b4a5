# One image for every role (api, worker, beat, flower, migrate); the command picks the role.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml README.md ./
COPY workers ./workers
COPY api ./api
COPY migrations ./migrations
RUN pip install --no-cache-dir . && useradd --create-home app && mkdir -p /data && chown app /data
USER app
ENV VAR_DIR=/data STORAGE_DIR=/data/media
EXPOSE 8000
CMD ["abstrakt-queue", "api", "--host", "0.0.0.0", "--port", "8000"]
