"""The routing report, ``routing_run_{id}.json``: the one place that knows its format.

Top level: ``"type": "routing"``, ``run_id``, ``catalog``, ``models``, ``runs`` (K),
``generated``, ``status``, ``catalog_fingerprint``, ``descriptions`` (per skill: its
fingerprint, length and the linter's findings on it), ``cases`` and ``metrics``.
``cases`` has one row per case and model: ``case_id``, ``prompt``, ``expected``, ``tags``,
``model``, ``picks`` (the answers so far, ``null`` for an errored call), ``pick`` (their
majority, ``null`` when every call errored), ``errors``, the fingerprint the answers were
given for, token counts and cost. ``metrics`` is recounted from ``cases`` on every save
(``recount``), so a reader can check it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from skillcheck.reports import ReportError, atomic_write_bytes
from skillcheck.routing.metrics import PickedCase, majority_pick, model_metrics
from skillcheck.text import clean_data

REPORT_TYPE = "routing"


def routing_report_path(run_id: str, reports_dir: Path | str) -> Path:
    return Path(reports_dir) / f"routing_run_{run_id}.json"


@dataclass
class CaseRow:
    case_id: str
    prompt: str
    expected: str
    model: str
    tags: list[str] = field(default_factory=list)
    picks: list[str | None] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    fingerprint: str = ""  # catalog_fingerprint + prompt + model id: what the picks answer
    cached_from: str | None = None  # the run whose picks were reused
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def pick(self) -> str | None:
        return majority_pick(self.picks)

    @property
    def key(self) -> tuple[str, str]:
        return (self.case_id, self.model)

    def to_dict(self) -> dict[str, Any]:
        row = asdict(self)
        row["pick"] = self.pick
        row["cost_usd"] = round(self.cost_usd, 6)
        return row

    @classmethod
    def from_dict(cls, raw: Any, where: str) -> CaseRow:
        if not isinstance(raw, dict):
            raise ReportError(f"{where}: a case row must be an object")
        try:
            row = cls(
                case_id=str(raw["case_id"]),
                prompt=str(raw["prompt"]),
                expected=str(raw["expected"]),
                model=str(raw["model"]),
                tags=[str(t) for t in raw.get("tags") or []],
                picks=[None if p is None else str(p) for p in raw.get("picks") or []],
                errors=[str(e) for e in raw.get("errors") or []],
                fingerprint=str(raw.get("fingerprint") or ""),
                cached_from=raw.get("cached_from"),
                input_tokens=int(raw.get("input_tokens") or 0),
                output_tokens=int(raw.get("output_tokens") or 0),
                cache_write_tokens=int(raw.get("cache_write_tokens") or 0),
                cache_read_tokens=int(raw.get("cache_read_tokens") or 0),
                cost_usd=float(raw.get("cost_usd") or 0.0),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ReportError(f"{where}: bad case row ({exc})") from None
        return row


@dataclass
class RoutingReport:
    run_id: str
    catalog: str
    models: list[str]
    runs: int
    skills: list[str]
    catalog_fingerprint: str
    descriptions: dict[str, dict[str, Any]]
    cases: list[CaseRow]
    status: str = "running"  # running | completed | cancelled | failed
    generated: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # cost estimate, routers' settings

    def recount(self) -> dict[str, Any]:
        """Per-model metrics from the saved picks alone."""
        return {
            model: model_metrics(
                (
                    PickedCase(row.case_id, row.expected, row.pick, row.picks.count(None))
                    for row in self.cases
                    if row.model == model
                ),
                self.skills,
            )
            for model in self.models
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": REPORT_TYPE,
            "run_id": self.run_id,
            "catalog": self.catalog,
            "models": self.models,
            "runs": self.runs,
            "generated": self.generated or datetime.now(UTC).isoformat(timespec="seconds"),
            "status": self.status,
            "skills": self.skills,
            "catalog_fingerprint": self.catalog_fingerprint,
            "descriptions": self.descriptions,
            **self.extra,
            "cases": [row.to_dict() for row in self.cases],
            "metrics": self.recount(),
        }


def save_routing_report(report: RoutingReport, path: Path) -> None:
    """Write the whole report atomically (readers never see half a file)."""
    report.generated = datetime.now(UTC).isoformat(timespec="seconds")
    data = json.dumps(report.to_dict(), ensure_ascii=False, indent=1).encode()
    atomic_write_bytes(path, data)


KNOWN_KEYS = {
    "type", "run_id", "catalog", "models", "runs", "generated", "status", "skills",
    "catalog_fingerprint", "descriptions", "cases", "metrics",
}  # fmt: skip


def load_routing_report(path: Path | str) -> RoutingReport:
    """Read a routing report; ``ReportError`` naming the file when it is not one."""
    path = Path(path)
    try:
        raw = clean_data(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise ReportError(f"{path}: cannot be read as JSON ({exc})") from None
    if not isinstance(raw, dict) or raw.get("type") != REPORT_TYPE:
        raise ReportError(f'{path}: not a routing report (no "type": "routing")')
    try:
        models = [str(m) for m in raw["models"]]
        return RoutingReport(
            run_id=str(raw["run_id"]),
            catalog=str(raw["catalog"]),
            models=models,
            runs=int(raw["runs"]),
            skills=[str(s) for s in raw.get("skills") or []],
            catalog_fingerprint=str(raw.get("catalog_fingerprint") or ""),
            descriptions=dict(raw.get("descriptions") or {}),
            cases=[
                CaseRow.from_dict(row, f"{path}: cases[{index}]")
                for index, row in enumerate(raw.get("cases") or [])
            ],
            status=str(raw.get("status") or "running"),
            generated=str(raw.get("generated") or ""),
            extra={k: v for k, v in raw.items() if k not in KNOWN_KEYS},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ReportError(f"{path}: bad routing report ({exc})") from None


def load_routing_reports(reports_dir: Path | str) -> list[RoutingReport]:
    """Every readable routing report in ``reports_dir``, oldest first; unreadable ones are
    skipped (a half-copied file must not stop a run from using the others)."""
    found = []
    for path in sorted(Path(reports_dir).glob("routing_run_*.json")):
        try:
            found.append(load_routing_report(path))
        except ReportError:
            continue
    return sorted(found, key=lambda r: r.generated)
