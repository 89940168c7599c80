"""A small routing catalog written by a test: skills with chosen descriptions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from skillcheck.catalog import Catalog, load_catalog

DESCRIPTIONS = {
    "price-watch": "Tracks product prices across shops. Use when the user asks about prices.",
    "review-digest": "Collects customer reviews and ratings. Use when the user asks about reviews.",
    "job-board": "Finds job postings and salaries. Use when the user asks about open jobs.",
}


def write_skill(root: Path, name: str, description: str) -> None:
    folder = root / "skills" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "SKILL.md").write_text(
        f"---\nname: {name}\ndescription: {description}\n---\n\n# {name}\n\nSteps.\n",
        encoding="utf-8",
    )


def write_routing_catalog(
    root: Path,
    descriptions: dict[str, str] | None = None,
    scenarios: dict[str, list[str]] | None = None,
    routing: list[dict[str, Any]] | None = None,
) -> Catalog:
    """One domain file per skill (its scenarios), and ``routing`` in the first file."""
    descriptions = descriptions or DESCRIPTIONS
    for name, text in descriptions.items():
        write_skill(root, name, text)
    manifest = {"skills": {n: {"path": f"skills/{n}/SKILL.md"} for n in descriptions}}
    (root / "skills_manifest.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    scenarios = scenarios or {
        "price-watch": ["What does the Dyson V15 cost on amazon.de?", "Compare prices of bikes"],
        "review-digest": ["Summarise the reviews of my cafe"],
        "job-board": ["Find data engineer jobs in Berlin"],
    }
    (root / "scenarios").mkdir(exist_ok=True)
    for index, (skill, prompts) in enumerate(scenarios.items()):
        data: dict[str, Any] = {
            "domain": skill,
            "target_skill": skill,
            "scenarios": [
                {"id": f"{skill}-{i}", "name": f"{skill} {i}", "prompt": p}
                for i, p in enumerate(prompts, 1)
            ],
        }
        if index == 0 and routing:
            data["routing"] = routing
        (root / "scenarios" / f"{skill}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_catalog(root)
