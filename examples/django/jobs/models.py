"""A job queue in the app's own database: the web app enqueues, the worker service
(`python manage.py work`, dockyard.yml's `worker` app) runs them. No broker to run: PostgreSQL's
SELECT ... FOR UPDATE SKIP LOCKED lets several workers take jobs without taking the same one."""

from __future__ import annotations

from django.db import models


class Job(models.Model):
    class State(models.TextChoices):
        PENDING = "pending"
        DONE = "done"
        FAILED = "failed"

    kind = models.CharField(max_length=100)
    payload = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["state", "id"])]


def enqueue(kind: str, **payload: object) -> Job:
    """A job for the worker; ``kind`` names one of jobs.handlers.HANDLERS."""
    return Job.objects.create(kind=kind, payload=payload)
