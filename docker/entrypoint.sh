#!/bin/sh
# web | worker | gpu-worker | beat | migrate | manage ARGS...
# Migrations are a one-off command (`migrate`), run once per release before the
# long-running services start: never by `web`, which may run many replicas.
set -e
case "$1" in
  web)
    # Threads (gthread): keep-alive, and a page's parallel requests (static files,
    # the studio's four stem streams) are not queued behind one another.
    exec gunicorn config.wsgi:application --bind "${WEB_BIND:-0.0.0.0:8000}" \
      --workers "${WEB_CONCURRENCY:-3}" --threads "${WEB_THREADS:-4}" --timeout 60 \
      --access-logfile - ;;
  worker)
    # `paid` first: a worker takes from its queues in this order (settings).
    exec celery -A config worker -Q paid,default --concurrency "${WORKER_CONCURRENCY:-2}" \
      --loglevel INFO ;;
  gpu-worker)
    # One task at a time: the model owns the GPU's memory.
    exec celery -A config worker -Q gpu --concurrency 1 --prefetch-multiplier 1 \
      --hostname "gpu@%h" --loglevel INFO ;;
  beat)
    exec celery -A config beat --loglevel INFO --schedule /app/var/celerybeat-schedule ;;
  migrate)
    exec python manage.py migrate --noinput ;;
  manage)
    shift; exec python manage.py "$@" ;;
  *)
    exec "$@" ;;
esac
