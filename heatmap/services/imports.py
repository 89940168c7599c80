"""JSON reports (this tool's and the original skill-checker's) into the database."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from heatmap.models import Run
from heatmap.services.reports import run_recount, run_report_sync, task_save
from skillcheck.reports import ReportError, ScoredReport, load_scored_report
from skillcheck.runs import DEFAULT_CONCURRENCY


@dataclass
class ImportOutcome:
    path: Path
    run: Run
    created: int
    skipped: int
    report_rewritten: bool = False


def _imported_run_id(report: ScoredReport) -> str:
    return report.run_id or f"import-{report.path.stem}"


def report_import(*, path: Path | str) -> ImportOutcome:
    """Put one JSON report in the database; importing it again adds nothing.

    Rows already in the database win (the database is the truth for its own runs). When the
    database holds more of a run than its JSON (a kill), the JSON is rewritten from it.
    """
    report = load_scored_report(path)
    run_id = _imported_run_id(report)
    meta = report.metadata
    models = list(dict.fromkeys(r.model for r in report.results))
    with transaction.atomic():
        run, created_run = Run.objects.get_or_create(
            run_id=run_id,
            defaults={
                "status": Run.Status.COMPLETED,
                "models": meta.get("models") or models,
                "domains": meta.get("domains")
                or sorted({r.domain for r in report.results if r.domain}),
                "concurrency": int(meta.get("concurrency") or DEFAULT_CONCURRENCY),
                "total": int(meta.get("total") or len(report.results)),
                "catalog_path": str(meta.get("catalog_path") or ""),
                "catalog_fingerprint": str(meta.get("catalog_fingerprint") or ""),
                "report_path": str(Path(path).resolve()),
                "started_at": report.generated,
                "finished_at": report.generated,
            },
        )
        existing = set(run.tasks.values_list("scenario_id", "skill", "model"))
        created = skipped = 0
        for result in report.results:
            if result.key in existing:
                skipped += 1
                continue
            task_save(run=run, result=result, finished_at=report.generated)
            existing.add(result.key)
            created += 1
        run_recount(run=run)
        if created_run and run.completed < run.total:
            run.status = Run.Status.INTERRUPTED
        run.save()
    rewritten = False
    if report.run_id and run.completed > len(report.results):
        run_report_sync(run=run)
        rewritten = True
    return ImportOutcome(Path(path), run, created, skipped, rewritten)


def reports_import(*, paths: Iterable[Path | str]) -> tuple[list[ImportOutcome], list[str]]:
    """Import many reports; a bad file is reported, never fatal."""
    outcomes, problems = [], []
    for path in paths:
        try:
            outcomes.append(report_import(path=path))
        except ReportError as exc:
            problems.append(str(exc))
    return outcomes, problems
