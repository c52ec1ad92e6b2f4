"""`rq cron` configuration: enqueue the Release Unhandled Replies sweep every minute.

Run it with `make cron` (`rq cron --url $REDIS_URL jobs/cron.py`); `make worker` runs the job.
"""

import os

from rq import cron

from jobs.release import release_unhandled

cron.register(
    release_unhandled,
    queue_name=os.environ.get("RQ_QUEUE", "spoke"),
    interval=60,
    # A sweep older than a minute is superseded by the next one; don't let them pile up.
    ttl=60,
    job_timeout=600,
)
