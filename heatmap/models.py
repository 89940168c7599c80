"""What must survive a process: runs, their task results and check results.

The database is the source of truth while a run goes on; the JSON report is a snapshot of it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from skillcheck.processes import owner_dead
from skillcheck.stats import ClusterSums, StratifiedSums
from skillcheck.vocabulary import Result


class Catalog(models.Model):
    """A catalog the app knows: a folder of skills and scenarios that runs audit.

    Registered when a run of it is first created (``services.catalogs.catalog_register``);
    the heatmap shows one catalog at a time. ``imported``: known only from an imported
    report whose catalog folder is not known here, named after the report's folder.
    """

    name = models.CharField(max_length=100, unique=True)
    # The resolved folder; blank for an imported catalog whose folder is unknown.
    root_path = models.CharField(max_length=1024, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True)  # as of ``loaded_at``
    loaded_at = models.DateTimeField(null=True, blank=True)
    imported = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["root_path"],
                condition=~models.Q(root_path=""),
                name="unique_catalog_root_path",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_folder(self) -> bool:
        """Whether the catalog's files are on this machine (its folder, as registered)."""
        return bool(self.root_path) and Path(self.root_path).is_dir()


class RunStatus(models.TextChoices):
    """Where a run (an audit or a routing run) is in its life."""

    PENDING = "pending"
    # Handed to a process that has no free execution slot yet; it keeps the heartbeat
    # fresh while the run waits, so a queued run is never taken for an interrupted one.
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"


# Not finished and, while its heartbeat is fresh, owned by some process.
UNFINISHED = (RunStatus.PENDING, RunStatus.QUEUED, RunStatus.RUNNING)


class Liveness:
    """Whether a run is still going on, from its status, owner process and heartbeat: the
    same rules for audit runs and routing runs."""

    status: str
    owner_host: str
    owner_pid: int | None
    heartbeat_at: Any
    started_at: Any
    created_at: Any
    UNFINISHED = UNFINISHED

    @property
    def last_sign_of_life(self):
        return self.heartbeat_at or self.started_at or self.created_at

    @property
    def is_stale(self) -> bool:
        """An unfinished run that nothing has touched for a while is interrupted.

        Running: its owner process is gone (seen at once on the owner's host), or its worker
        stopped beating (killed on another host, or hung). Pending: no worker picked it up
        (the process that should have started it died, or no ``runworker`` is running).
        Queued: the process holding it for a free slot is gone.
        """
        if self.status not in UNFINISHED:
            return False
        if self.status == RunStatus.RUNNING and owner_dead(self.owner_host, self.owner_pid):
            return True
        age = timezone.now() - self.last_sign_of_life
        return age > timedelta(seconds=settings.SKILLCHECK_HEARTBEAT_STALE_S)

    @property
    def display_status(self) -> str:
        return RunStatus.INTERRUPTED if self.is_stale else self.status

    @property
    def is_active(self) -> bool:
        return self.status in UNFINISHED and not self.is_stale


class Run(Liveness, models.Model):
    Status = RunStatus

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
    # Prompt caching totals (input tokens written to / read from the cache).
    cache_write_tokens = models.BigIntegerField(default=0)
    cache_read_tokens = models.BigIntegerField(default=0)
    # Batch mode: tasks go through the Message Batches API (half price, results within hours).
    # ``batches`` lists each submitted batch with the task keys it carries, saved before any
    # wait, so a killed process resumes by polling them instead of submitting again.
    batch = models.BooleanField(default=False)
    batches = models.JSONField(default=list, blank=True)
    catalog = models.ForeignKey(Catalog, on_delete=models.PROTECT, related_name="runs")
    catalog_path = models.CharField(max_length=1024, blank=True)
    catalog_fingerprint = models.CharField(max_length=64, blank=True)
    # Per-skill and per-scenario hashes, to warn on resume about what changed since.
    catalog_fingerprints = models.JSONField(default=dict, blank=True)
    # How the calls of each CLI model were isolated, read from `claude --help` when the run
    # (or its latest resume) started: {model: {level: full|partial, flags, missing, ...}}.
    isolation = models.JSONField(default=dict, blank=True)
    report_path = models.CharField(max_length=1024, blank=True)
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The process executing the run: on its own host a dead owner means interrupted at once;
    # from another host only the heartbeat tells (``is_stale``).
    owner_host = models.CharField(max_length=255, blank=True)
    owner_pid = models.PositiveIntegerField(null=True, blank=True)
    # The response cache: reuse stored successful results whose fingerprint matches.
    use_cache = models.BooleanField(default=True)
    # Whether the response cache may reuse this run's results: the project's own runs, and
    # imports marked trusted (``import_reports --trust``); any other import never, so a
    # forged report cannot answer a later run.
    cache_source = models.BooleanField(default=True)
    # Team mode: the user who started the run. Everyone sees it; only they or staff may
    # cancel, resume, retry or delete it. Null: started from the command line.
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="runs",
    )
    cached = models.PositiveIntegerField(default=0)  # tasks taken from the cache, not called
    # A run of chosen tasks ("re-run stale"): [[scenario_id, skill, model], ...] (every
    # sample of each), or with an epoch, that sample; null: all.
    task_keys = models.JSONField(null=True, blank=True)
    # Samples per (scenario, skill, model): each is its own task, numbered by its epoch.
    epochs = models.PositiveSmallIntegerField(default=1)
    # "Retry errors": the next execution runs only the run's failed tasks.
    errors_only = models.BooleanField(default=False)
    # Declared last: from here on, `models` in this class body names the field.
    models = models.JSONField(default=list)
    # Not columns: set by services.resume.run_resume on the instance it returns, saying what
    # changed in the catalog since the run started, and what the catalog skipped.
    resume_warnings: list[str]
    catalog_warnings: list[str]

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return self.run_id

    @property
    def duration(self) -> timedelta | None:
        if not self.started_at:
            return None
        return (self.finished_at or timezone.now()) - self.started_at

    def covers_domain(self, domain_id: str) -> bool:
        """Whether the run audits this domain (a run of no chosen domains audits them all)."""
        return not self.domains or domain_id in self.domains


TALLY_COUNT_FIELDS = {
    Result.PASS: "pass_count",
    Result.FAIL: "fail_count",
    Result.UNCLEAR: "unclear_count",
    Result.NA: "na_count",
}
FAILED_CHECKS_SEPARATOR = " "


class TaskResult(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="tasks")
    # The run's catalog, kept on the task so that the newest task per key of one catalog
    # reads one range of the ranking index (it leads it) instead of joining the runs.
    catalog = models.ForeignKey(Catalog, on_delete=models.PROTECT, related_name="+", db_index=False)
    scenario_id = models.CharField(max_length=200)
    domain = models.CharField(max_length=200, blank=True)
    skill = models.CharField(max_length=200)
    model = models.CharField(max_length=100)
    # Which sample of (scenario, skill, model) in its run, from 1 (``Run.epochs``).
    epoch = models.PositiveSmallIntegerField(default=1)
    risk_level = models.CharField(max_length=16, default="UNKNOWN")
    duration_s = models.FloatField(default=0.0)
    input_tokens = models.IntegerField(default=0)
    output_tokens = models.IntegerField(default=0)
    cost_usd = models.FloatField(default=0.0)
    cache_write_tokens = models.IntegerField(default=0)
    cache_read_tokens = models.IntegerField(default=0)
    batch = models.BooleanField(default=False)  # priced at the Message Batches rate
    # Cost text from a report that gave no figures (the original format's "unknown (...)").
    cost_note = models.TextField(blank=True)
    error = models.TextField(blank=True)
    # ``error`` is not blank: kept beside it so that the newest-task ranking, which puts a
    # successful result before a failed one, reads the index alone.
    errored = models.BooleanField(default=False)
    markdown_response = models.TextField(blank=True)
    finished_at = models.DateTimeField(default=timezone.now)
    # A tally of the task's check rows, written with them (see ``task_tally``), so that
    # the overview aggregates one row per task instead of one per check.
    pass_count = models.PositiveSmallIntegerField(default=0)
    fail_count = models.PositiveSmallIntegerField(default=0)
    unclear_count = models.PositiveSmallIntegerField(default=0)
    na_count = models.PositiveSmallIntegerField(default=0)
    failed_checks = models.TextField(blank=True)  # failing check ids, sorted, space-separated
    # What produced the result (``skillcheck.fingerprints``): the combined key finds a result
    # to reuse; the components tell a stale result what changed. Blank on older rows.
    fingerprint = models.CharField(max_length=16, blank=True)
    skill_fingerprint = models.CharField(max_length=16, blank=True)
    scenario_fingerprint = models.CharField(max_length=16, blank=True)
    prompt_fingerprint = models.CharField(max_length=16, blank=True)
    model_id = models.CharField(max_length=100, blank=True)
    cached_from = models.CharField(max_length=64, blank=True)  # the run that paid for it

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "scenario_id", "skill", "model", "epoch"],
                name="unique_task_per_run",
            )
        ]
        indexes = [
            # The order of "newest task per key" (``selectors.newest_tasks``), ties by id
            # included, so ranking needs no sort; the tally columns follow, so the
            # overview reads this index alone, never the rows with their long answers.
            models.Index(
                fields=[
                    "catalog",
                    "scenario_id",
                    "skill",
                    "model",
                    "errored",
                    "-finished_at",
                    "-id",
                    *TALLY_COUNT_FIELDS.values(),
                    "failed_checks",
                    "fingerprint",
                ],
                name="taskresult_catalog_newest",
            ),
            models.Index(fields=["domain"]),
            models.Index(fields=["fingerprint", "-finished_at"], name="taskresult_fingerprint"),
        ]

    def __str__(self) -> str:
        sample = f" #{self.epoch}" if self.epoch != 1 else ""
        return f"{self.scenario_id} × {self.skill} × {self.model}{sample}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Keep ``errored`` in step with ``error``, and the catalog with the run's, for every
        writer that saves a row."""
        self.errored = bool(self.error)
        if self.catalog_id is None and self.run_id is not None:
            self.catalog_id = self.run.catalog_id
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "error" in update_fields:
            kwargs["update_fields"] = {*update_fields, "errored"}
        super().save(*args, **kwargs)


def task_tally(checks: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``TaskResult``'s tally fields from its (check_id, result) pairs, one per check.

    The one place that defines the tally: every writer of task rows passes its result
    here, so the counts cannot drift from the check rows written beside them. Results other
    than pass/fail/unclear/na are not counted (the overview never showed them).
    """
    pairs = list(checks)
    counts = Counter(result for _, result in pairs)
    fields: dict[str, Any] = {name: counts[result] for result, name in TALLY_COUNT_FIELDS.items()}
    fields["failed_checks"] = FAILED_CHECKS_SEPARATOR.join(
        sorted(check_id for check_id, result in pairs if result == Result.FAIL)
    )
    return fields


def failed_check_ids(failed_checks: str) -> list[str]:
    return failed_checks.split(FAILED_CHECKS_SEPARATOR) if failed_checks else []


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


class NewestResult(models.Model):
    """The newest task per (catalog, scenario, skill, model), kept as tasks are saved and
    deleted (``services.newest``), with the tally the overview sums.

    The overview, its stale marks and its check filters read these rows, one per key,
    instead of ranking every task of the catalog's history (``selectors.newest_tasks``);
    ``task`` is the ranking's first task: the newest successful one, else the newest failed.
    """

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="+")
    scenario_id = models.CharField(max_length=200)
    skill = models.CharField(max_length=200)
    model = models.CharField(max_length=100)
    domain = models.CharField(max_length=200, blank=True)
    # No database constraint: the row is rewritten in the same transaction as the task's
    # deletion (``services.newest``), after the task row is gone.
    task = models.ForeignKey(
        TaskResult, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    errored = models.BooleanField(default=False)
    finished_at = models.DateTimeField()
    pass_count = models.PositiveSmallIntegerField(default=0)
    fail_count = models.PositiveSmallIntegerField(default=0)
    unclear_count = models.PositiveSmallIntegerField(default=0)
    na_count = models.PositiveSmallIntegerField(default=0)
    failed_checks = models.TextField(blank=True)
    fingerprint = models.CharField(max_length=16, blank=True)
    # The task ids the tallies count for this key, comma-separated: every sample of the
    # newest task's run that succeeded, or the newest task alone when it failed. Kept, not
    # derived, so the deletions of one cascade (signals for all before any row goes) each
    # take out exactly what was counted.
    samples = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["catalog", "scenario_id", "skill", "model"], name="unique_newest_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scenario_id} × {self.skill} × {self.model}: task {self.task_id}"


class AgreementGroup(models.Model):
    """One (catalog, scenario, skill, check): how many models' newest successful results
    gave each verdict (a key of several samples: their majority, as the matrix shows it),
    kept with ``NewestResult``.

    The agreement section counts a group that two or more models scored, agreeing when one
    verdict holds them all (``skillcheck.compare.verdicts_agree``): a sum over these rows,
    however many runs the catalog has had. ``other_count``: verdicts outside ``Result``.
    """

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="+")
    scenario_id = models.CharField(max_length=200)
    skill = models.CharField(max_length=200)
    check_id = models.CharField(max_length=32)
    domain = models.CharField(max_length=200, blank=True)
    pass_count = models.IntegerField(default=0)
    fail_count = models.IntegerField(default=0)
    unclear_count = models.IntegerField(default=0)
    na_count = models.IntegerField(default=0)
    other_count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["catalog", "scenario_id", "skill", "check_id"],
                name="unique_agreement_group",
            )
        ]

    def __str__(self) -> str:
        return f"{self.scenario_id} × {self.skill} × {self.check_id}"


class NewestTally(models.Model):
    """Sums over the samples the newest tasks stand for (``NewestResult.samples``: all of the
    newest run's samples of a key) of one (catalog, domain, skill, model): their result
    counts, failures per check and the pass interval's sums
    (``skillcheck.stats.StratifiedSums``), kept with them.

    The overview reads these, a row per skill, model and domain, whatever the number of keys.
    """

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="+")
    domain = models.CharField(max_length=200, blank=True)
    skill = models.CharField(max_length=200)
    model = models.CharField(max_length=100)
    pass_count = models.BigIntegerField(default=0)
    fail_count = models.BigIntegerField(default=0)
    unclear_count = models.BigIntegerField(default=0)
    na_count = models.BigIntegerField(default=0)
    fails = models.JSONField(default=dict)  # check id → newest tasks that failed it
    clusters = models.BigIntegerField(default=0)
    passed = models.BigIntegerField(default=0)
    scored = models.BigIntegerField(default=0)
    pp = models.BigIntegerField(default=0)
    pn = models.BigIntegerField(default=0)
    nn = models.BigIntegerField(default=0)
    singles = models.BigIntegerField(default=0)  # keys of one scored sample
    strata = models.JSONField(default=dict)  # K → [keys, A, B, C] (``StratifiedSums.strata``)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["catalog", "domain", "skill", "model"], name="unique_newest_tally"
            )
        ]

    def __str__(self) -> str:
        return f"{self.domain} × {self.skill} × {self.model}"

    @property
    def pass_sums(self) -> StratifiedSums:
        """The pass interval's sums kept in this row's columns."""
        totals = ClusterSums(*(getattr(self, name) for name in TALLY_SUM_FIELDS))
        return StratifiedSums(totals, self.singles, strata_loaded(self.strata))

    @pass_sums.setter
    def pass_sums(self, sums: StratifiedSums) -> None:
        for name in TALLY_SUM_FIELDS:
            setattr(self, name, getattr(sums.totals, name))
        self.singles = sums.singles
        self.strata = strata_stored(sums.strata)


TALLY_SUM_FIELDS = ("clusters", "passed", "scored", "pp", "pn", "nn")  # ``ClusterSums``'


def strata_stored(strata: dict[int, list[int]]) -> dict[str, list[int]]:
    """``StratifiedSums.strata`` as ``NewestTally.strata`` holds it (JSON keys are text)."""
    return {str(k): v for k, v in sorted(strata.items())}


def strata_loaded(stored: dict[str, list[int]]) -> dict[int, list[int]]:
    """``NewestTally.strata`` back as ``StratifiedSums.strata``."""
    return {int(k): list(v) for k, v in stored.items()}


class AgreementTally(models.Model):
    """Per (catalog, domain, skill, check): the agreement groups (``AgreementGroup``) two or
    more models scored, and how many of them agree; the agreement section sums these."""

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="+")
    domain = models.CharField(max_length=200, blank=True)
    skill = models.CharField(max_length=200)
    check_id = models.CharField(max_length=32)
    groups = models.IntegerField(default=0)
    agreeing = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["catalog", "domain", "skill", "check_id"], name="unique_agreement_tally"
            )
        ]

    def __str__(self) -> str:
        return f"{self.domain} × {self.skill} × {self.check_id}"


class RoutingRun(Liveness, models.Model):
    """A routing run of one catalog: which skill each model picks for each case, K times.

    The rows (``RoutingCaseResult``) are the source of truth while the run goes on; the JSON
    report ``routing_run_{id}.json`` is rewritten from them after every answer. Its life
    (status, owner process, heartbeat, cancel) follows an audit run's (``Liveness``).
    """

    Status = RunStatus

    run_id = models.CharField(max_length=64, unique=True)
    catalog = models.ForeignKey(Catalog, on_delete=models.PROTECT, related_name="routing_runs")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    runs = models.PositiveSmallIntegerField(default=3)  # K samples per case and model
    # Every description's fingerprint when the run was planned (skill -> hash), and the hash
    # over all of them: an edit to any one makes every pick of the run stale.
    catalog_fingerprint = models.CharField(max_length=64, blank=True)
    descriptions = models.JSONField(default=dict, blank=True)
    estimate = models.JSONField(default=dict, blank=True)
    use_cache = models.BooleanField(default=True)
    report_path = models.CharField(max_length=1024, blank=True)
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The process executing the run, as for an audit run (``Run.owner_host``).
    owner_host = models.CharField(max_length=255, blank=True)
    owner_pid = models.PositiveIntegerField(null=True, blank=True)
    # Batch mode: the calls go through Message Batches; ``batches`` are the submitted
    # batches with the (case, model, sample) keys they carry, saved before any wait.
    batch = models.BooleanField(default=False)
    batches = models.JSONField(default=list, blank=True)
    # Last: the name shadows the models module in the class body.
    models = models.JSONField(default=list)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.run_id


class RoutingCaseResult(models.Model):
    """One case as one model answered it: the K picks so far and their majority."""

    run = models.ForeignKey(RoutingRun, on_delete=models.CASCADE, related_name="cases")
    case_id = models.CharField(max_length=200)
    model = models.CharField(max_length=100)
    prompt = models.TextField()
    expected = models.CharField(max_length=200)
    tags = models.JSONField(default=list, blank=True)
    picks = models.JSONField(default=list, blank=True)  # null for an errored call
    pick = models.CharField(max_length=200, blank=True)  # the majority; blank: none answered
    errors = models.JSONField(default=list, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True)
    cached_from = models.CharField(max_length=64, blank=True)
    input_tokens = models.IntegerField(default=0)
    output_tokens = models.IntegerField(default=0)
    cache_write_tokens = models.IntegerField(default=0)
    cache_read_tokens = models.IntegerField(default=0)
    cost_usd = models.FloatField(default=0.0)
    position = models.PositiveIntegerField(default=0)  # the case's place in the report

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "case_id", "model"], name="unique_routing_case_per_run"
            )
        ]
        indexes = [models.Index(fields=["fingerprint"], name="routing_case_fingerprint")]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.model}"


class ScenarioEdit(models.Model):
    """One change the scenario editor made to a catalog's ``scenarios/`` file: who, when,
    and the file's SHA-256 before and after (``.bak`` holds the text before)."""

    class Action(models.TextChoices):
        CREATE = "create"
        UPDATE = "update"
        DELETE = "delete"

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="scenario_edits")
    file = models.CharField(max_length=255)  # its name in scenarios/
    action = models.CharField(max_length=8, choices=Action.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # Kept when the account is deleted; "" in local mode (no login).
    username = models.CharField(max_length=150, blank=True)
    sha256_before = models.CharField(max_length=64, blank=True)  # blank: created
    sha256_after = models.CharField(max_length=64, blank=True)  # blank: deleted
    # The catalog's scenario-skill pairs after it (tasks per model); null: it does not load.
    pairs = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.action} scenarios/{self.file}"


class SkillSnapshot(models.Model):
    """The text of a skill's files at one version (its fingerprint, as task results record
    it), kept once when a run that saw it is created or resumed: the compare page diffs a
    skill between two runs from these. Up to the catalog's limit for one skill
    (``SKILLCHECK_MAX_SKILL_BYTES``) a version; an unchanged skill adds nothing."""

    fingerprint = models.CharField(max_length=16, unique=True)
    # [{"path": "SKILL.md", "sha256": "…", "text": "…"}, …], SKILL.md first.
    files = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"skill files {self.fingerprint}"
