"""A report exactly as the original skill-checker (``sim_core.py`` of the seed project) wrote it.

Its rows have no ``domain`` or ``finished_at``, a naive local ``generated``, ``duration_s``
rounded to 0.1 s, and ``cost_info`` as text: ``"input=N, output=N"`` from the CLI's JSON,
``"unknown (non-JSON output)"`` when the CLI printed plain text, ``""`` on error. A failed task
has every one of the 29 model-scored checks ``unclear`` with ``Error: …`` evidence and risk
``UNKNOWN``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

LLM_CHECK_IDS = [
    *(f"WF-{n}" for n in range(1, 7)),
    *(f"DK-{n}" for n in range(1, 9)),
    *(f"APF-{n}" for n in range(1, 14)),
    "SEC-1",
    "SEC-4",
]
ERROR = "claude -p exited with 1: Error: rate limited"


def _check(check_id: str, result: str, evidence: str, summary: str = "") -> dict[str, str]:
    return {"check_id": check_id, "result": result, "evidence": evidence, "summary": summary}


def original_rows() -> list[dict[str, Any]]:
    success = {
        "scenario_id": "pt-01",
        "skill": "apify-ecommerce",
        "model": "sonnet",
        "risk_level": "MEDIUM",
        "duration_s": 41.3,
        "cost_info": "input=5200, output=1900",
        "error": None,
        "markdown_response": "## Approach\nThe agent picks the Amazon actor.\n",
        "checks": [
            _check(cid, "fail" if cid == "DK-6" else "pass", "SKILL.md mentions it", "ok")
            for cid in LLM_CHECK_IDS
        ],
    }
    plain_text = {
        **success,
        "scenario_id": "pt-02",
        "cost_info": "unknown (non-JSON output)",
        "duration_s": 12.0,
    }
    error = {
        "scenario_id": "pt-03",
        "skill": "apify-ecommerce",
        "model": "sonnet",
        "risk_level": "UNKNOWN",
        "duration_s": 0,
        "cost_info": "",
        "error": ERROR,
        "markdown_response": "",
        "checks": [_check(cid, "unclear", f"Error: {ERROR}") for cid in LLM_CHECK_IDS],
    }
    return [success, plain_text, error]


def write_original_report(folder: Path, run_id: str = "20250301_101500") -> Path:
    """``save_scored_report_incremental`` of the original: metadata, then the rows."""
    document = {
        "type": "scored",
        "generated": "2025-03-01T10:22:41.123456",
        "run_id": run_id,
        "models": ["sonnet"],
        "domains": ["price-tracking"],
        "concurrency": 3,
        "result_count": 3,
        "results": original_rows(),
    }
    path = folder / f"scored_run_{run_id}.json"
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False))
    return path
