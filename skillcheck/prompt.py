"""The scoring prompt, built from the taxonomy so that editing checks.yaml changes the ask."""

from __future__ import annotations

import json

from skillcheck.catalog import Scenario, Skill, Taxonomy

RISK_LEVELS = ("LOW", "MEDIUM", "HIGH", "CRITICAL")


def build_system_prompt(taxonomy: Taxonomy) -> str:
    lines = [
        "You audit an Agent Skill: a SKILL.md instruction file for an AI agent, with its",
        "reference files. You are given the skill and one realistic user prompt. Judge how well",
        "an agent following only this skill would handle the prompt, check by check.",
        "",
        "Score every check below as pass, fail, unclear or na (not applicable to this prompt).",
        "Quote the skill as evidence (file and line where you can).",
        "",
        "## Checks",
    ]
    for group, name in taxonomy.groups.items():
        checks = [c for c in taxonomy.model_checks if c.group == group]
        if not checks:
            continue
        lines.append(f"### {group} — {name}")
        lines.extend(f"- {c.id} [{c.severity}] {c.name}: {c.description}" for c in checks)
        lines.append("")
    example = {
        "risk_level": "MEDIUM",
        "checks": {
            c.id: {"result": "pass", "evidence": "SKILL.md:12 …", "summary": "…"}
            for c in taxonomy.model_checks[:2]
        },
    }
    lines += [
        "## Output format",
        "Answer in Markdown with the sections `## Approach`, `## Complexities`,",
        "`## Risk Assessment` and `## Verdict`. End with one fenced ```json block holding",
        f"`risk_level` (one of {', '.join(RISK_LEVELS)}) and `checks`: an object with every",
        "check id above as a key and {result, evidence, summary} as value, for example:",
        "```json",
        json.dumps(example, indent=2, ensure_ascii=False),
        "```",
    ]
    return "\n".join(lines)


def build_user_prompt(scenario: Scenario, skill: Skill) -> str:
    parts = [f"# User prompt\n\n{scenario.prompt}\n", f"# Skill: {skill.name}\n"]
    for path, text in skill.documents():
        rel = path.relative_to(skill.root)
        parts.append(f"## File: {rel}\n\n````markdown\n{text}\n````\n")
    return "\n".join(parts)
