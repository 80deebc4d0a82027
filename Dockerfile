# syntax=docker/dockerfile:1.7
# Clearmix: one image, one-off and long-running commands (see docker/entrypoint.sh).
#   docker build -t clearmix .
#   migrate:    docker run clearmix migrate         (one-off, before web/worker start or after an upgrade)
#   web:        docker run clearmix web             (never migrates)
#   worker:     docker run clearmix worker          (default queue: rendering, payouts)
#   beat:       docker run clearmix beat
# torch is chosen when the image is BUILT, never at run time: the default image
# carries the CPU build. The GPU worker needs its own image with a CUDA build:
#   docker build --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128 -t clearmix:gpu .
#   docker run --gpus all clearmix:gpu gpu-worker   (gpu queue, one task at a time)
# (compose.yaml's gpu-worker service builds that image itself.)

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
COPY core ./core
COPY config ./config
COPY accounts ./accounts
COPY marketplace ./marketplace
COPY catalog ./catalog
COPY remixing ./remixing
COPY royalties ./royalties
COPY stripe_sandbox ./stripe_sandbox
RUN pip install .

FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    PATH="/opt/venv/bin:$PATH" \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    TORCH_HOME=/app/var/torch \
    NUMBA_CACHE_DIR=/app/numba-cache
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg libchromaprint-tools libsndfile1 tini \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system clearmix && useradd --system --gid clearmix --home /app clearmix
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=clearmix:clearmix . .
# collectstatic needs settings but no secrets: a throwaway key for this step only.
RUN DJANGO_SECRET_KEY="build-only-$(head -c 48 /dev/urandom | base64 | tr -dc A-Za-z0-9)" \
    DJANGO_ALLOWED_HOSTS=build.invalid \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/var /app/numba-cache && chown -R clearmix:clearmix /app/var /app/staticfiles /app/numba-cache
COPY --chmod=755 docker/entrypoint.sh /usr/local/bin/clearmix-entrypoint
USER clearmix
# librosa's numba kernels compiled once into the image, by one process: pool processes
# compiling them together at run time can corrupt the cache (remixing/engine/warmup.py).
RUN python -c "from remixing.engine.warmup import numba_cache_warm; numba_cache_warm()"
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status==200 else 1)" || exit 1
ENTRYPOINT ["/usr/bin/tini", "--", "clearmix-entrypoint"]
CMD ["web"]
