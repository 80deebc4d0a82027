"""The Celery queues, by name. Which task goes to which is the settings'
routes (CELERY_TASK_ROUTES); this is only what the queues are called and the
order a worker takes from them."""

from __future__ import annotations

# What a fan who has paid waits for: a paid order's fulfilment and its render.
PAID = "paid"
# Everything else that needs no GPU: previews, stem imports, analyses, payouts, checks.
DEFAULT = "default"
# Separation, one task at a time on the GPU worker.
GPU = "gpu"

# The queues a (non-GPU) worker takes from, in the order it takes them
# (`-Q paid,default`, Redis' queue_order_strategy "priority"); beat sends each
# a heartbeat that /healthz shows.
WORKER_QUEUES = (PAID, DEFAULT)
