"""`python manage.py work`: the worker service's process. It takes pending jobs one at a time,
oldest first, runs each and records its result or error, and sleeps when there are none. ECS
stops a task with SIGTERM, then SIGKILL 30 seconds later: the job in hand is finished, and the
process exits 0. Each loop touches a heartbeat file, which the task's health check reads."""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from jobs.handlers import HANDLERS
from jobs.models import Job

log = logging.getLogger("jobs")
HEARTBEAT = Path(os.environ.get("WORKER_HEARTBEAT", "/tmp/worker-alive"))


def take_one() -> Job | None:
    """Run the oldest pending job, if there is one; another worker never takes the same one
    (SKIP LOCKED; SQLite, for the tests, has one writer anyway)."""
    with transaction.atomic():
        job = (Job.objects.select_for_update(skip_locked=True)
               .filter(state=Job.State.PENDING).order_by("id").first())
        if job is None:
            return None
        handler = HANDLERS.get(job.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for jobs of kind {job.kind!r}")
            with transaction.atomic():  # a failing handler's writes are undone, not the record
                job.result = handler(**job.payload)
            job.state = Job.State.DONE
        except Exception as error:  # noqa: BLE001 - any failure is the job's, recorded
            job.state, job.error = Job.State.FAILED, f"{type(error).__name__}: {error}"
            log.warning("job %s (%s) failed: %s", job.pk, job.kind, job.error)
        job.finished_at = timezone.now()
        job.save()
        return job


class Command(BaseCommand):
    help = "Run queued jobs until stopped (SIGTERM finishes the job in hand, then exits 0)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true",
                            help="run the pending jobs, then exit")
        parser.add_argument("--idle-seconds", type=float, default=2.0,
                            help="sleep this long when no job is pending")

    def handle(self, *args: Any, once: bool = False, idle_seconds: float = 2.0,
               **options: Any) -> None:
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        done = 0
        while not stopping:
            HEARTBEAT.touch()
            job = take_one()
            if job is not None:
                done += 1
                continue
            if once:
                break
            time.sleep(idle_seconds)
        self.stdout.write(f"worker: {done} jobs run")
