"""JSON reports (this tool's and the original skill-checker's) into the database.

A report file is data from outside, so an import never changes a run that exists already:

- the report of a run in the database (its own file, or a copy whose every row the run
  holds already, with the same finish time) adds nothing;
- any other report claiming an existing run's id becomes a new run, ``{run_id}-import-N``;
- a report with no run id (the oldest format) is the run ``import-{file name}``;
- every field is type- and range-checked first (``skillcheck.report_checks``), and a bad
  file is refused with its reason while the other files are imported;
- a report that holds one task twice, or that was written (or finished a task) in the
  future, is refused: no run of this tool writes either (``report_check_consistent``).

An imported run's report is ``scored_run_{run_id}.json`` in the reports folder, written at
import when the file came from elsewhere, so its download and a later resume use that file.

An imported run is no source for the response cache (``Run.cache_source``): a report can
claim anything, and a result reused from it would show as the new run's own. Only an import
marked ``trusted`` (``import_reports --trust``, by staff in team mode) may answer later runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from heatmap.models import Catalog, Run
from heatmap.services.catalogs import catalog_for_path, catalog_imported
from heatmap.services.reports import (
    default_reports_dir,
    run_recount,
    run_report_path,
    run_report_sync,
    task_save,
)
from skillcheck.reports import REPORT_GLOB, ReportError, ScoredReport, load_scored_report
from skillcheck.results import TaskKey, parse_timestamp
from skillcheck.runids import run_id_from_text, run_id_with_suffix
from skillcheck.runs import DEFAULT_CONCURRENCY

IMPORT_SUFFIX = "-import-"
# A report from a machine whose clock runs this much ahead of this one's is still taken.
CLOCK_SKEW = timedelta(minutes=10)


@dataclass
class ImportOutcome:
    path: Path
    run: Run
    created: int
    skipped: int
    report_written: bool = False
    """The run's report file was (re)written from its rows: see ``report_path``."""
    claimed_run_id: str = ""
    """The run id the report claimed, when that run existed and the report became a new run."""


def _row_times(report: ScoredReport) -> dict[TaskKey, datetime]:
    written = report.generated
    return {r.key: parse_timestamp(r.finished_at) or written for r in report.results}


def _holder(report: ScoredReport, candidates: Iterable[Run]) -> Run | None:
    """The run among ``candidates`` that holds every row of ``report`` as it is, if any."""
    wanted = _row_times(report)
    for run in candidates:
        held = {
            (scenario, skill, model, epoch): finished
            for scenario, skill, model, epoch, finished in run.tasks.values_list(
                "scenario_id", "skill", "model", "epoch", "finished_at"
            )
        }
        if all(held.get(key) == when for key, when in wanted.items()):
            return run
    return None


def report_check_consistent(report: ScoredReport) -> None:
    """``ReportError`` for a report no run writes: a task twice (a run holds one row per
    task), or a time in the future (beyond ``CLOCK_SKEW``), which would make forged rows
    look like the newest results."""
    latest = timezone.now() + CLOCK_SKEW
    if report.generated > latest:
        raise ReportError(
            f"{report.path}: written in the future ({report.generated.isoformat()}); "
            "a report's time cannot be later than now"
        )
    first_row: dict[TaskKey, int] = {}
    for index, result in enumerate(report.results):
        finished = parse_timestamp(result.finished_at)
        if finished is not None and finished > latest:
            raise ReportError(
                f"{report.path}: results[{index}].finished_at: {result.finished_at!r} is in "
                "the future"
            )
        if result.key in first_row:
            scenario, skill, model, epoch = result.key
            raise ReportError(
                f"{report.path}: results[{index}] repeats the task of "
                f"results[{first_row[result.key]}] (scenario {scenario!r}, skill {skill!r}, "
                f"model {model!r}, epoch {epoch}); a report holds one row per task"
            )
        first_row[result.key] = index


def _same_file(a: Path | str, b: Path | str) -> bool:
    return Path(a).resolve() == Path(b).resolve()


def _report_catalog(report: ScoredReport) -> Catalog:
    """The catalog the report says it audited, or the "imported" one of the report's folder."""
    meta = report.metadata
    if path := meta.get("catalog_path"):
        return catalog_for_path(
            root=path, fingerprint=meta.get("catalog_fingerprint") or "", loaded=False
        )
    return catalog_imported(folder_name=Path(report.path).resolve().parent.name)


def _new_run(
    report: ScoredReport, run_id: str, reports_dir: Path, *, trusted: bool, user: Any
) -> Run:
    meta = report.metadata
    models = list(dict.fromkeys(r.model for r in report.results))
    return Run.objects.create(
        run_id=run_id,
        catalog=_report_catalog(report),
        status=Run.Status.COMPLETED,
        models=meta.get("models") or models,
        domains=meta.get("domains") or sorted({r.domain for r in report.results if r.domain}),
        concurrency=meta.get("concurrency") or DEFAULT_CONCURRENCY,
        epochs=meta.get("epochs") or max((r.epoch for r in report.results), default=1),
        total=max(meta.get("total") or 0, len(report.results)),
        catalog_path=meta.get("catalog_path") or "",
        catalog_fingerprint=meta.get("catalog_fingerprint") or "",
        # How the run was made, so a resume of the import runs the same way.
        use_cache=meta.get("use_cache") is not False,
        batch=meta.get("batch") is True,
        isolation=meta.get("isolation") or {},
        report_path=str(reports_dir / f"scored_run_{run_id}.json"),
        cache_source=trusted,
        started_by=user,
        started_at=report.generated,
        finished_at=report.generated,
    )


def _free_import_id(claimed: str) -> str:
    number = 1
    while Run.objects.filter(
        run_id=(candidate := run_id_with_suffix(claimed, f"{IMPORT_SUFFIX}{number}"))
    ).exists():
        number += 1
    return candidate


def report_import(*, path: Path | str, trusted: bool = False, user: Any = None) -> ImportOutcome:
    """Put one JSON report in the database, never touching a run that exists already.

    ``trusted``: its results may answer later runs through the response cache; ``user``: the
    account the new run is recorded as started by. ``ReportError`` when the file is
    unreadable or a field is invalid (nothing is saved).
    """
    report = load_scored_report(path)
    report_check_consistent(report)
    claimed = report.run_id or run_id_from_text(report.path.stem, prefix="import-")
    reports_dir = default_reports_dir().resolve()
    existing = Run.objects.filter(run_id=claimed).first()
    if existing is not None:
        own_file = _same_file(run_report_path(existing), path)
        copies = Run.objects.filter(run_id__startswith=f"{claimed}{IMPORT_SUFFIX}")
        holder = existing if own_file else _holder(report, [existing, *copies])
        if holder is not None:
            return _already_there(report, holder, own_file=own_file)
    run_id = claimed if existing is None else _free_import_id(claimed)
    try:
        with transaction.atomic():
            run = _new_run(report, run_id, reports_dir, trusted=trusted, user=user)
            for result in report.results:
                task_save(run=run, result=result, finished_at=report.generated)
            run_recount(run=run)
            if run.completed < run.total:
                run.status = Run.Status.INTERRUPTED
            run.save()
    except IntegrityError as exc:  # another import took the same id at the same moment
        raise ReportError(f"{path}: run id {run_id} was taken meanwhile ({exc}); retry") from None
    except DatabaseError as exc:
        raise ReportError(f"{path}: the database refused it ({exc})") from None
    written = False
    if not _same_file(run.report_path, path):
        run_report_sync(run=run)
        written = True
    return ImportOutcome(
        Path(path),
        run,
        created=len(report.results),
        skipped=0,
        report_written=written,
        claimed_run_id=claimed if existing is not None else "",
    )


def _already_there(report: ScoredReport, run: Run, *, own_file: bool) -> ImportOutcome:
    """Nothing to add. A run's own file that lags its rows (a kill) is brought up to date."""
    written = False
    if own_file and not run.is_active and run.tasks.count() > len(report.results):
        run_report_sync(run=run)
        written = True
    return ImportOutcome(report.path, run, 0, len(report.results), report_written=written)


def report_files(*, paths: Sequence[Path | str]) -> list[Path]:
    """The reports ``paths`` name: a file as it is, a folder's reports in name order; no paths:
    the reports folder's. A path that is neither is a ``FileNotFoundError`` naming it."""
    found: list[Path] = []
    for raw in paths or [str(default_reports_dir())]:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(path.glob(REPORT_GLOB)))
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"no such report file or folder: {path}")
    return found


def import_user(*, username: str | None, trusted: bool) -> Any:
    """The account ``--user`` names (the imported runs' owner), checked: in team mode a
    trusted import needs a staff one, since its results answer everyone's later runs.
    ``ValueError`` says what is wrong."""
    user = None
    if username:
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise ValueError(f"no active user {username!r}")
    if trusted and settings.SKILLCHECK_REQUIRE_LOGIN and not (user and user.is_staff):
        raise ValueError(
            "--trust in team mode needs --user naming a staff account: trusted results "
            "answer everyone's later runs"
        )
    return user


def reports_import(
    *, paths: Iterable[Path | str], trusted: bool = False, user: Any = None
) -> tuple[list[ImportOutcome], list[str]]:
    """Import many reports; a bad file is reported with its reason, never fatal."""
    outcomes, problems = [], []
    for path in paths:
        try:
            outcomes.append(report_import(path=path, trusted=trusted, user=user))
        except ReportError as exc:
            problems.append(str(exc))
    return outcomes, problems
