"""The worker's queue: jobs run oldest first, a failure is recorded and undone, and SIGTERM
ends the loop after the job in hand."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path

from django.core.management import call_command
from django.test import SimpleTestCase, TestCase

from articles.models import Article
from jobs.models import Job, enqueue


class WorkTest(TestCase):
    def test_jobs_run_oldest_first_and_record_their_result_or_error(self) -> None:
        Article.objects.create(slug="hello", title="Hello", body="one two three")
        first = enqueue("articles.word_count", slug="hello")
        missing = enqueue("articles.word_count", slug="nowhere")
        unknown = enqueue("mail.send", to="someone")
        out = StringIO()
        call_command("work", "--once", stdout=out)
        self.assertIn("worker: 3 jobs run", out.getvalue())
        first.refresh_from_db()
        self.assertEqual((first.state, first.result), ("done", {"slug": "hello", "words": 3}))
        missing.refresh_from_db()
        self.assertEqual(missing.state, "failed")
        self.assertIn("DoesNotExist", missing.error)
        unknown.refresh_from_db()
        self.assertEqual((unknown.state, unknown.error),
                         ("failed", "LookupError: no handler for jobs of kind 'mail.send'"))
        self.assertIsNotNone(unknown.finished_at)
        self.assertEqual(Job.objects.filter(state="pending").count(), 0)


class StopTest(SimpleTestCase):
    def test_sigterm_ends_the_worker_with_exit_0(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            environment = {**os.environ, "DJANGO_SECRET_KEY": "tests-only",
                           "DATABASE_URL": f"sqlite:///{folder}/db.sqlite3",
                           "WORKER_HEARTBEAT": f"{folder}/alive"}
            here = Path(__file__).resolve().parent.parent
            subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=here,
                           env=environment, check=True, capture_output=True, timeout=120)
            worker = subprocess.Popen(
                [sys.executable, "manage.py", "work", "--idle-seconds", "0.1"], cwd=here,
                env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                for _ in range(300):
                    if Path(folder, "alive").exists() or worker.poll() is not None:
                        break
                    time.sleep(0.1)
                self.assertIsNone(worker.poll(), "the worker runs until it is stopped")
                worker.send_signal(signal.SIGTERM)
                out, err = worker.communicate(timeout=20)
            finally:
                worker.kill()
        self.assertEqual(worker.returncode, 0, err)
        self.assertIn("worker: 0 jobs run", out)
