#!/bin/sh
# web | worker | gpu-worker | beat | migrate | manage ARGS...
set -e
case "$1" in
  web)
    python manage.py migrate --noinput
    exec gunicorn marketplace.wsgi:application --bind 0.0.0.0:8000 \
      --workers "${WEB_CONCURRENCY:-3}" --timeout 60 --access-logfile - ;;
  worker)
    exec celery -A marketplace worker -Q default --concurrency "${WORKER_CONCURRENCY:-2}" \
      --loglevel INFO ;;
  gpu-worker)
    # One task at a time: the model owns the GPU's memory.
    exec celery -A marketplace worker -Q gpu --concurrency 1 --prefetch-multiplier 1 \
      --hostname "gpu@%h" --loglevel INFO ;;
  beat)
    exec celery -A marketplace beat --loglevel INFO --schedule /app/var/celerybeat-schedule ;;
  migrate)
    exec python manage.py migrate --noinput ;;
  manage)
    shift; exec python manage.py "$@" ;;
  *)
    exec "$@" ;;
esac
