"""Scored reports on disk: one JSON file per run, written atomically, read back leniently.

A run's file (``scored_run_{run_id}.json``) is a snapshot of its database rows, rewritten as
tasks finish. Writes go to a temporary file in the same folder that is then renamed over the
report, so a reader sees the old file or the new one, never half of one. ``ReportSnapshot``
keeps every row already serialized, so a rewrite is one join plus one write, and it falls back
to at most one write a second once writes stop being cheap, keeping per-task cost flat.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from skillcheck.report_checks import ReportFieldError, check_metadata, check_row
from skillcheck.results import ScoredRun, TaskKey, cost_from_text, parse_timestamp, task_key
from skillcheck.text import clean_data

logger = logging.getLogger(__name__)

REPORT_GLOB = "scored_*.json"


class ReportError(ValueError):
    """A report file is unreadable or not a scored report; the message names the file."""


# The project's reports folder, for scripts that name none; the engine never reads the
# environment (the web app and commands always pass SKILLCHECK_REPORTS_DIR from settings).
DEFAULT_REPORTS_DIR = Path(__file__).resolve().parent.parent / "reports"


def incremental_report_path(run_id: str, reports_dir: Path | str | None = None) -> Path:
    return Path(reports_dir or DEFAULT_REPORTS_DIR) / f"scored_run_{run_id}.json"


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --- Writing ------------------------------------------------------------------------------

_path_locks: dict[Path, threading.Lock] = {}
_path_locks_guard = threading.Lock()


def _lock_for(path: Path) -> threading.Lock:
    """One writer at a time per report file within this process."""
    key = path.resolve()
    with _path_locks_guard:
        return _path_locks.setdefault(key, threading.Lock())


def atomic_write_bytes(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Write ``data`` to ``path`` so that readers never see a partial file.

    As Django's file session backend does: write a temporary file in the same folder (so the
    rename stays on one filesystem), flush and fsync it, rename it over the target, and
    remove it if anything fails on the way. The temporary name carries the process id: the
    lock below only covers this process, and another one (an import rewriting a run's file)
    must not truncate or rename our half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}{path.suffix}.tmp")
    chunks = [data] if isinstance(data, bytes | bytearray) else data
    with _lock_for(path):
        try:
            with open(tmp, "wb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def _row(result: ScoredRun | Mapping[str, Any]) -> dict[str, Any]:
    return result.to_dict() if isinstance(result, ScoredRun) else dict(result)


def _encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def _document_chunks(head: dict[str, Any], rows: Iterable[bytes]) -> list[bytes]:
    """``head`` as a JSON object with ``results`` (pre-encoded rows) as its last key."""
    opening = _encode(head)[:-1]  # drop the closing brace
    separator = b', "results": [' if head else b'"results": ['
    chunks = [opening, separator]
    for index, row in enumerate(rows):
        if index:
            chunks.append(b", ")
        chunks.append(row)
    chunks.append(b"]}\n")
    return chunks


def save_scored_report(
    results: Iterable[ScoredRun | Mapping[str, Any]],
    metadata: Mapping[str, Any] | None = None,
    *,
    reports_dir: Path | str | None = None,
) -> Path:
    """Write a single-shot report ``scored_{YYYYmmdd_HHMM}.json`` (never over another one)."""
    folder = Path(reports_dir or DEFAULT_REPORTS_DIR)
    stamp = datetime.now(UTC).strftime("%Y%m%d_%H%M")
    path = folder / f"scored_{stamp}.json"
    counter = 2
    while path.exists():
        path = folder / f"scored_{stamp}_{counter}.json"
        counter += 1
    rows = [_row(r) for r in results]
    document = {"type": "scored", "generated": _now_iso(), **(metadata or {}), "results": rows}
    atomic_write_bytes(path, json.dumps(document, ensure_ascii=False, indent=1).encode())
    return path


def save_scored_report_incremental(
    run_id: str,
    results: Iterable[ScoredRun | Mapping[str, Any]],
    metadata: Mapping[str, Any] | None = None,
    *,
    reports_dir: Path | str | None = None,
) -> Path:
    """Rewrite ``scored_run_{run_id}.json`` atomically with every result so far."""
    snapshot = ReportSnapshot(run_id, reports_dir=reports_dir, metadata=metadata)
    snapshot.extend(results)
    snapshot.write(force=True)
    return snapshot.path


class ReportSnapshot:
    """The JSON file of one run, kept as serialized rows and rewritten on demand.

    ``write()`` writes when the writes' cost stays under ``max_write_share`` of the time since
    the last one (so slow tasks get a rewrite after every task, a flood of instant ones does
    not), and in any case once ``interval_s`` has passed (or four times the last write's
    duration, for huge files). A report larger than ``max_write_rate`` (bytes per second)
    × ``interval_s`` is also written at most at that rate, however fast the disk: one of
    100 MB every 10 s, not every second (which wrote 4.5 GB in a run of 10,000 instant
    tasks). The cost is a moving average, so one slow fsync does not count.
    ``write(force=True)`` always writes: at the end, on cancel and on failure.
    """

    def __init__(
        self,
        run_id: str,
        *,
        reports_dir: Path | str | None = None,
        metadata: Mapping[str, Any] | None = None,
        max_write_share: float = 0.1,
        interval_s: float = 1.0,
        max_write_rate: float = 10e6,
    ) -> None:
        self.run_id = run_id
        self.path = incremental_report_path(run_id, reports_dir)
        self.metadata = dict(metadata or {})
        self.max_write_share = max_write_share
        self.interval_s = interval_s
        self.max_write_rate = max_write_rate
        self._rows: dict[TaskKey, bytes] = {}
        self._lock = threading.Lock()
        self._dirty = False
        self._last_write_at = 0.0
        self._last_write_s = 0.0
        self._last_write_bytes = 0
        self._average_write_s = 0.0
        self.writes = 0
        self.bytes_written = 0

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, result: ScoredRun | Mapping[str, Any]) -> None:
        """Add or replace the row of this result's (scenario, skill, model, epoch)."""
        row = _row(result)
        key = task_key([row["scenario_id"], row["skill"], row.get("model") or "", row.get("epoch")])
        encoded = _encode(row)
        with self._lock:
            self._rows.pop(key, None)  # a replaced row moves to the end, as it finished last
            self._rows[key] = encoded
            self._dirty = True

    def extend(self, results: Iterable[ScoredRun | Mapping[str, Any]]) -> None:
        for result in results:
            self.add(result)

    def discard(self, key: TaskKey) -> None:
        with self._lock:
            if self._rows.pop(key, None) is not None:
                self._dirty = True

    def update_metadata(self, **values: Any) -> None:
        with self._lock:
            self.metadata.update(values)
            self._dirty = True

    def due(self) -> bool:
        wait = min(self.interval_s, self._average_write_s / self.max_write_share)
        if wait >= self.interval_s:
            wait = max(wait, 4 * self._last_write_s)
        if self._last_write_bytes > self.max_write_rate * self.interval_s:  # a large report
            wait = max(wait, self._last_write_bytes / self.max_write_rate)
        return time.monotonic() - self._last_write_at >= wait

    def write(self, *, force: bool = False) -> bool:
        """Write the file if it changed and a write is due (or forced); True if written."""
        with self._lock:
            if not force and (not self._dirty or not self.due()):
                return False
            started = time.monotonic()
            head = {
                "type": "scored",
                "run_id": self.run_id,
                "generated": _now_iso(),
                **{k: v for k, v in self.metadata.items() if k != "results"},
                "result_count": len(self._rows),
            }
            chunks = _document_chunks(head, self._rows.values())
            atomic_write_bytes(self.path, chunks)
            self._dirty = False
            self.writes += 1
            self._last_write_bytes = sum(len(c) for c in chunks)
            self.bytes_written += self._last_write_bytes
            self._last_write_at = time.monotonic()
            self._last_write_s = self._last_write_at - started
            self._average_write_s += 0.3 * (self._last_write_s - self._average_write_s)
            return True


# --- Reading ------------------------------------------------------------------------------


@dataclass
class ScoredReport:
    path: Path
    metadata: dict[str, Any]
    results: list[ScoredRun] = field(default_factory=list)

    @property
    def run_id(self) -> str | None:
        value = self.metadata.get("run_id")
        return str(value) if value else None

    @property
    def generated(self) -> datetime:
        """When the report was written: its ``generated`` field, else the file's mtime."""
        written = parse_timestamp(self.metadata.get("generated") or self.metadata.get("timestamp"))
        if written is not None:
            return written
        try:
            return datetime.fromtimestamp(self.path.stat().st_mtime, UTC)
        except OSError:
            return datetime.fromtimestamp(0, UTC)


def _old_checks(raw: Any) -> list[dict[str, Any]]:
    """Older reports kept checks as {check_id: {result, ...}} or {check_id: "pass"}."""
    if isinstance(raw, dict):
        rows = []
        for check_id, value in raw.items():
            entry = value if isinstance(value, dict) else {"result": value}
            rows.append({**entry, "check_id": check_id})
        return rows
    return raw if isinstance(raw, list) else []


def _result_from_row(row: Any, default_model: str, where: str = "") -> ScoredRun:
    if not isinstance(row, dict):
        raise ValueError(f"{where.rstrip('.')}: a result is not an object")
    data = dict(row)
    data["checks"] = _old_checks(data.get("checks"))
    data["model"] = data.get("model") or default_model
    if "cost_info" not in data:
        data["cost_info"] = {k: data.get(k) for k in ("input_tokens", "output_tokens", "cost_usd")}
    if isinstance(data["cost_info"], str):  # the original skill-checker wrote cost as text
        data["cost_info"] = cost_from_text(data["cost_info"])
    check_row(data, where)
    return ScoredRun.from_dict(data)


def load_scored_report(path: Path | str) -> ScoredReport:
    """Read one report, old (``scored_{timestamp}.json``) or per-run; ``ReportError`` if bad."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ReportError(f"{path}: not a readable JSON report ({exc})") from None
    document = clean_data(document)  # JSON escapes can hold lone surrogates and NUL
    if isinstance(document, list):  # the oldest reports were a bare list of results
        document = {"type": "scored", "results": document}
    if not isinstance(document, dict) or not isinstance(document.get("results"), list):
        raise ReportError(f"{path}: not a scored report (no 'results' list)")
    if document.get("type", "scored") != "scored":
        raise ReportError(f"{path}: report type is {document.get('type')!r}, not 'scored'")
    metadata = {k: v for k, v in document.items() if k != "results"}
    try:
        check_metadata(metadata)
    except ReportFieldError as exc:
        raise ReportError(f"{path}: {exc}") from None
    models = metadata.get("models")
    default_model = str(
        metadata.get("model")
        or (models[0] if isinstance(models, list) and len(models) == 1 else "")
    )
    default_model = default_model or "unknown"
    try:
        results = [
            _result_from_row(row, default_model, f"results[{index}].")
            for index, row in enumerate(document["results"])
        ]
    except ReportFieldError as exc:
        raise ReportError(f"{path}: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise ReportError(f"{path}: a result is malformed ({exc})") from None
    return ScoredReport(path=path, metadata=metadata, results=results)


def load_all_scored_reports(reports_dir: Path | str | None = None) -> list[ScoredReport]:
    """Every readable ``scored_*.json`` in the folder, newest first; bad files are skipped."""
    folder = Path(reports_dir or DEFAULT_REPORTS_DIR)
    reports = []
    for path in sorted(folder.glob(REPORT_GLOB)):
        try:
            reports.append(load_scored_report(path))
        except ReportError as exc:
            logger.warning("skipping report: %s", exc)
    reports.sort(key=lambda r: (r.generated, r.path.name), reverse=True)
    return reports


def merge_scored_runs(reports: Iterable[ScoredReport] | None = None) -> list[ScoredRun]:
    """The newest result per (scenario, skill, model, epoch) across reports: the newest successful
    one, or the newest failed one when none succeeded (the heatmap's rule: a failed task says
    nothing about the skill, so it does not hide an older result that does).

    A row's own ``finished_at`` says how new it is; rows of older reports that have none
    count as of their report's ``generated``. On a tie the later report and row win.
    """
    if reports is None:
        reports = load_all_scored_reports()
    merged: dict[TaskKey, tuple[tuple[bool, datetime], ScoredRun]] = {}
    for report in sorted(reports, key=lambda r: (r.generated, r.path.name)):
        written = report.generated
        for result in report.results:
            rank = (not result.error, parse_timestamp(result.finished_at) or written)
            current = merged.get(result.key)
            if current is None or rank >= current[0]:
                merged[result.key] = (rank, result)
    return [result for _, result in merged.values()]
