# One image, three services: the command picks which one runs (see compose.yaml).
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN useradd --system --uid 10001 --home /app civic
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
RUN pip install --upgrade pip && pip install .
USER civic
EXPOSE 8000
# Production: migrations are an explicit step (`civicsocial migrate`); services refuse
# readiness until the database is at head. No access log: it would record client addresses.
CMD ["sh", "-c", "echo 'choose a service: uvicorn services.<name>.asgi:app' && exit 64"]
