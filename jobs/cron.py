"""`rq cron` configuration: the periodic sweeps, every minute.

Run it with `make cron` (`rq cron --url $REDIS_URL jobs/cron.py`); `make worker` runs the jobs.
"""

import os

from rq import cron

from jobs.outbox import sweep_outbox
from jobs.release import release_unhandled

for job in (release_unhandled, sweep_outbox):
    cron.register(
        job,
        queue_name=os.environ.get("RQ_QUEUE", "spoke"),
        interval=60,
        # A sweep older than a minute is superseded by the next one; don't let them pile up.
        ttl=60,
        job_timeout=600,
    )
