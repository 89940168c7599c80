"""The heatmap as CSV: one row per cell result a matrix shows (``?format=csv``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from django.http import HttpResponse

from heatmap import selectors
from skillcheck.catalog import Catalog
from skillcheck.spreadsheet import SpreadsheetCsvWriter

CSV_HEADER = (
    "domain",
    "scenario",
    "skill",
    "model",
    "check",
    "result",
    "severity",
    "run_id",
    "finished_at",
)


def csv_response(
    filename: str, rows: Iterable[Sequence], header: Sequence[str] = CSV_HEADER
) -> HttpResponse:
    """A CSV download: the header, then ``rows``. Cells a spreadsheet would run as formulas
    are escaped (``skillcheck.spreadsheet``); ``filename`` comes from ``download_filename``."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = SpreadsheetCsvWriter(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response


def csv_rows(
    catalog: Catalog, domain_ids: Iterable[str], filters: selectors.HeatmapFilter
) -> Iterator[tuple]:
    """One row per cell result a matrix shows (not-run cells have no run and no time)."""
    for domain_id in domain_ids:
        matrix = selectors.heatmap_domain_matrix(
            catalog=catalog, domain_id=domain_id, filters=filters
        )
        times = selectors.heatmap_task_times(
            scenario_ids=[s.id for s in matrix.scenarios], filters=filters
        )
        for row in matrix.rows:
            for cell in row.cells:
                for r in cell.results:
                    run_id, finished = times.get(
                        (cell.scenario_id, r.skill, cell.model), ("", None)
                    )
                    yield (
                        domain_id,
                        cell.scenario_id,
                        r.skill,
                        cell.model,
                        row.check.id,
                        r.result,
                        row.check.severity,
                        run_id,
                        finished.isoformat() if finished else "",
                    )
