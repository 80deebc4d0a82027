# syntax=docker/dockerfile:1.7
# Clearmix: one image, three commands (web, worker, gpu-worker).
#   docker build -t clearmix .
#   web:        docker run clearmix web
#   worker:     docker run clearmix worker          (default queue: rendering, payouts)
#   gpu worker: docker run --gpus all -e TORCH_INDEX=... clearmix gpu-worker  (gpu queue, one task at a time)
# For a CUDA build of torch, build with --build-arg TORCH_SPEC="torch==2.13.0" and
# --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128.

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ARG TORCH_SPEC="torch==2.13.0"
ARG TORCH_INDEX="https://download.pytorch.org/whl/cpu"
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:$PATH"
# torch first, from the index matching the target (CPU by default), so the
# project's own dependency range never pulls a different build.
RUN pip install --index-url "${TORCH_INDEX}" "${TORCH_SPEC}"
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY marketplace ./marketplace
COPY catalog ./catalog
COPY remixing ./remixing
COPY royalties ./royalties
COPY stripe_sandbox ./stripe_sandbox
RUN pip install .

FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    PATH="/opt/venv/bin:$PATH" \
    DJANGO_SETTINGS_MODULE=marketplace.settings.production \
    TORCH_HOME=/app/var/torch
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg libsndfile1 tini \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system clearmix && useradd --system --gid clearmix --home /app clearmix
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=clearmix:clearmix . .
# collectstatic needs settings but no secrets: a throwaway key for this step only.
RUN DJANGO_SECRET_KEY="build-only-$(head -c 48 /dev/urandom | base64 | tr -dc A-Za-z0-9)" \
    DJANGO_ALLOWED_HOSTS=build.invalid \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/var && chown -R clearmix:clearmix /app/var /app/staticfiles
COPY --chmod=755 docker/entrypoint.sh /usr/local/bin/clearmix-entrypoint
USER clearmix
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status==200 else 1)" || exit 1
ENTRYPOINT ["/usr/bin/tini", "--", "clearmix-entrypoint"]
CMD ["web"]
