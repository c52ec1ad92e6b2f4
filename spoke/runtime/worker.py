"""`make worker`: run an RQ worker, and start it again with a backoff whenever it exits.

RQ's worker rides out a lost Redis connection while it waits for a job (it reconnects with
its own backoff), but it quits on other Redis errors: a timeout, a failed heartbeat, Redis
restarting under it. This loop starts it again after 1 s, then 2, 4 ... up to 60 s between
starts, and back to 1 s once a worker has stayed up for a minute. A job the dead worker
held is not lost: a delivery's row stays `queued` or `sending` and the outbox sweep hands
it out again. Under systemd or supervisord, let them restart `rq worker` instead (README).

Run with `python -m spoke.runtime.worker` (REDIS_URL, RQ_QUEUE and DATABASE_URL from the env).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType

log = logging.getLogger("spoke.worker")

FIRST_DELAY = 1.0
MAX_DELAY = 60.0
HEALTHY_AFTER = 60.0  # a worker that ran this long resets the backoff


def worker_command(redis_url: str, queue: str) -> list[str]:
    """The `rq worker` command line: with the scheduler, which runs RQ's delayed retries."""
    rq = str(Path(sys.executable).parent / "rq")
    return [rq, "worker", "--url", redis_url, "--with-scheduler", queue]


class Supervisor:
    """Runs `command` until stopped, restarting it with an exponential backoff when it exits."""

    def __init__(
        self,
        command: list[str],
        first_delay: float = FIRST_DELAY,
        max_delay: float = MAX_DELAY,
        healthy_after: float = HEALTHY_AFTER,
    ) -> None:
        self.command = command
        self.first_delay, self.max_delay, self.healthy_after = first_delay, max_delay, healthy_after
        self.stopped = threading.Event()
        self.child: subprocess.Popen[bytes] | None = None

    def run(self) -> int:
        """Start the worker, wait, and start it again until `stop`; return its last exit code."""
        delay, code = self.first_delay, 0
        while not self.stopped.is_set():
            started = time.monotonic()
            self.child = subprocess.Popen(self.command)
            log.info("started rq worker (pid %d)", self.child.pid)
            code = self.child.wait()
            if self.stopped.is_set():
                break
            if time.monotonic() - started >= self.healthy_after:
                delay = self.first_delay
            log.warning(
                "rq worker (pid %d) exited with code %s; starting it again in %.0f s",
                self.child.pid,
                code,
                delay,
            )
            if self.stopped.wait(delay):
                break
            delay = min(delay * 2, self.max_delay)
        return code

    def stop(self, signum: int, _frame: FrameType | None = None) -> None:
        """Stop restarting; pass SIGTERM on (Ctrl-C already reached the worker's group)."""
        self.stopped.set()
        if signum == signal.SIGTERM and self.child is not None and self.child.poll() is None:
            self.child.terminate()


def main() -> None:
    """Supervise one `rq worker` on $RQ_QUEUE (default "spoke") at $REDIS_URL."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url:
        sys.exit("REDIS_URL is not set: the worker takes its jobs from Redis.")
    supervisor = Supervisor(worker_command(redis_url, os.environ.get("RQ_QUEUE") or "spoke"))
    signal.signal(signal.SIGTERM, supervisor.stop)
    signal.signal(signal.SIGINT, supervisor.stop)
    sys.exit(supervisor.run())


if __name__ == "__main__":
    main()
