"""What must survive a process: runs, their task results and check results.

The database is the source of truth while a run goes on; the JSON report is a snapshot of it.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class Run(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"
        CANCELLED = "cancelled"
        INTERRUPTED = "interrupted"

    run_id = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    domains = models.JSONField(default=list)
    concurrency = models.PositiveSmallIntegerField(default=3)
    total = models.PositiveIntegerField(default=0)
    completed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    cost_usd = models.FloatField(default=0.0)
    catalog_path = models.CharField(max_length=1024, blank=True)
    catalog_fingerprint = models.CharField(max_length=64, blank=True)
    # Per-skill and per-scenario hashes, to warn on resume about what changed since.
    catalog_fingerprints = models.JSONField(default=dict, blank=True)
    report_path = models.CharField(max_length=1024, blank=True)
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Declared last: from here on, `models` in this class body names the field.
    models = models.JSONField(default=list)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return self.run_id

    @property
    def is_stale(self) -> bool:
        """A running run whose worker stopped beating (killed) is interrupted."""
        if self.status != self.Status.RUNNING or self.heartbeat_at is None:
            return False
        age = timezone.now() - self.heartbeat_at
        return age > timedelta(seconds=settings.SKILLCHECK_HEARTBEAT_STALE_S)

    @property
    def display_status(self) -> str:
        return self.Status.INTERRUPTED if self.is_stale else self.status

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.RUNNING) and not self.is_stale

    @property
    def duration(self) -> timedelta | None:
        if not self.started_at:
            return None
        return (self.finished_at or timezone.now()) - self.started_at


class TaskResult(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="tasks")
    scenario_id = models.CharField(max_length=200)
    domain = models.CharField(max_length=200, blank=True)
    skill = models.CharField(max_length=200)
    model = models.CharField(max_length=100)
    risk_level = models.CharField(max_length=16, default="UNKNOWN")
    duration_s = models.FloatField(default=0.0)
    input_tokens = models.IntegerField(default=0)
    output_tokens = models.IntegerField(default=0)
    cost_usd = models.FloatField(default=0.0)
    error = models.TextField(blank=True)
    markdown_response = models.TextField(blank=True)
    finished_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "scenario_id", "skill", "model"], name="unique_task_per_run"
            )
        ]
        indexes = [
            models.Index(fields=["scenario_id", "skill", "model", "-finished_at"]),
            models.Index(fields=["domain"]),
        ]

    def __str__(self) -> str:
        return f"{self.scenario_id} × {self.skill} × {self.model}"


class CheckResult(models.Model):
    task = models.ForeignKey(TaskResult, on_delete=models.CASCADE, related_name="checks")
    check_id = models.CharField(max_length=32)
    result = models.CharField(max_length=16)
    evidence = models.TextField(blank=True)
    summary = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "check_id"], name="unique_check_per_task")
        ]

    def __str__(self) -> str:
        return f"{self.check_id}: {self.result}"
