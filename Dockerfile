# One image, three services: the command picks which one runs (see compose.yaml).
# Two stages: wheels are built with the lock file in a builder, and the runtime stage gets only
# the installed environment, running as a non-root user.
# Base image: pinned to an exact release. Pin it by digest too on the first build with registry
# access (`docker buildx imagetools inspect python:3.11.11-slim-bookworm`); these machines cannot
# reach Docker Hub, so no digest is written here that nobody has checked.
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /venv
COPY requirements.lock ./
RUN /venv/bin/pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
RUN /venv/bin/pip install --no-deps .

FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/venv/bin:$PATH
RUN useradd --system --uid 10001 --no-create-home --home-dir /nonexistent civic
COPY --from=build /venv /venv
WORKDIR /app
USER 10001:10001
EXPOSE 8000
# Production: migrations are an explicit step (`civicsocial migrate`); services refuse
# readiness until the database is at head. No access log: it would record client addresses.
CMD ["sh", "-c", "echo 'choose a service: uvicorn services.<name>.asgi:app' && exit 64"]
