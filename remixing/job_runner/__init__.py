"""The job runner: what the worker tasks do to a stem set or a remix render,
with the Celery wrapping kept out (see tasks.py).

Every job (a stem set, a remix render) follows the same shape, so a
redelivered, duplicated or swept message is harmless:

1. claim: lock the row, compare-and-set its status to running, bump
   `attempts` (the attempt number is the claim token) and take a lease:
   `lease_owner` (host:pid) and `lease_expires_at`. A live lease held by
   someone else is left alone and the task checks again once it expires
   (outcome "busy"); an expired one, or one whose holder process on this
   host is gone, is taken over. No claim past `attempt_limit`: the job
   fails for good instead.
2. work: on local scratch files only; progress is written (throttled) with
   `UPDATE ... WHERE attempts = <mine> AND status = running`, which renews
   the lease and is also how a job notices it was cancelled or superseded.
3. finish: lock again, check the token, re-check remixability, move files
   to their deterministic names (atomic renames) and mark ready in one
   transaction. Nothing reaches storage before this step, so a failed job
   leaves no partial output.

A failed attempt goes back to the queue with backoff while attempts are
left (`*_attempt_failed`); the sweep (`remixing.sweep`) re-queues jobs whose
lease expired or whose message was lost. Fans read plain words (`error`),
staff the technical detail (`error_detail`).

The package holds one module per side: `stem_sets` (separation, official stems,
structure analysis) and `remixes` (renders), both on `attempts`, which owns what
every job does the same way: the claim's and the finish's locked openings
(`job_claim_locked`, `job_finish_locked`), the run with its heartbeat and lease
keeper (`job_run`), a failed attempt (`job_attempt_failed`) and an expired lease
(`job_lease_expired`); each side says only what is its own.
"""

from .attempts import (
    PROGRESS_MIN_INTERVAL_S,
    JobCancelled,
    JobFailed,
    JobSuperseded,
    Progress,
    job_wait_seconds,
    lease_kept,
)
from .remixes import (
    REMIX_BAD_INPUT,
    REMIX_FAILED,
    REMIX_GAVE_UP,
    REMIX_INTERRUPTED,
    REMIX_RETRYING,
    REMIX_TOO_LONG,
    remix_claim,
    remix_file_tags,
    remix_lease_expired,
    render_execute,
)
from .stem_sets import (
    STEMS_INTERRUPTED,
    STEMS_NOT_REMIXABLE,
    STEMS_RETRYING,
    stemset_execute,
    stemset_lease_expired,
    stemset_structure_run,
)

__all__ = [
    "PROGRESS_MIN_INTERVAL_S",
    "REMIX_BAD_INPUT",
    "REMIX_FAILED",
    "REMIX_GAVE_UP",
    "REMIX_INTERRUPTED",
    "REMIX_RETRYING",
    "REMIX_TOO_LONG",
    "STEMS_INTERRUPTED",
    "STEMS_NOT_REMIXABLE",
    "STEMS_RETRYING",
    "JobCancelled",
    "JobFailed",
    "JobSuperseded",
    "Progress",
    "job_wait_seconds",
    "lease_kept",
    "remix_claim",
    "remix_file_tags",
    "remix_lease_expired",
    "render_execute",
    "stemset_execute",
    "stemset_lease_expired",
    "stemset_structure_run",
]
