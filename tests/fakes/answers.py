"""Deterministic auditor answers for the fakes: same (model, prompt) in, same verdict out.

Standard library only: the fake ``claude`` executable imports this under any python3.
"""

from __future__ import annotations

import hashlib
import json
import re

CHECK_LINE = re.compile(r"^- ([A-Z]+-\d+) \[(CRITICAL|HIGH|MEDIUM|LOW)\]", re.MULTILINE)
RESULTS = ("pass", "pass", "pass", "fail", "fail", "unclear", "na")
RISKS = ("LOW", "MEDIUM", "HIGH", "CRITICAL")


def check_ids(system_prompt: str) -> list[str]:
    """Every check id the scoring prompt asks for, in order."""
    return list(dict.fromkeys(m.group(1) for m in CHECK_LINE.finditer(system_prompt or "")))


BOUNDARY = re.compile(r"SKILLCHECK-DATA-[0-9a-f]{16}")


def stable(user_prompt: str) -> str:
    """The prompt without its random boundary marker, so one task always gets one answer."""
    return BOUNDARY.sub("SKILLCHECK-DATA-marker", user_prompt)


def seed(model: str, user_prompt: str) -> str:
    return hashlib.sha256(f"{model}\0{stable(user_prompt)}".encode()).hexdigest()


def _pick(digest: str, salt: str, options: tuple[str, ...]) -> str:
    value = int(hashlib.sha256(f"{digest}:{salt}".encode()).hexdigest()[:8], 16)
    return options[value % len(options)]


def verdicts(model: str, system_prompt: str, user_prompt: str) -> dict[str, str]:
    digest = seed(model, user_prompt)
    return {cid: _pick(digest, cid, RESULTS) for cid in check_ids(system_prompt)}


# What a steered model may write: a lone surrogate and NUL (JSON-escaped in the block).
HOSTILE = "\ud800 and \x00"


def answer(
    model: str,
    system_prompt: str,
    user_prompt: str,
    hostile: bool = False,
    results: dict[str, str] | None = None,
) -> str:
    """A Markdown audit with the four sections and a JSON block scoring every asked check.

    ``hostile`` puts ``HOSTILE`` into the prose and into every check's evidence; ``results``
    gives the verdicts (default: ``verdicts``, the same for the same prompt).
    """
    digest = seed(model, user_prompt)
    if results is None:
        results = verdicts(model, system_prompt, user_prompt)
    risk = _pick(digest, "risk", RISKS)
    skill = re.search(r"^# Skill: (.+)$", user_prompt, re.MULTILINE)
    skill_name = skill.group(1).strip() if skill else "the skill"
    failed = [cid for cid, result in results.items() if result == "fail"]
    block = {
        "risk_level": risk,
        "checks": {
            cid: {
                "result": result,
                "evidence": f"SKILL.md:{int(digest[:4], 16) % 200 + 1}"
                + (f" {HOSTILE}" if hostile else ""),
                "summary": f"{model} judged {cid} as {result} for {skill_name}.",
            }
            for cid, result in results.items()
        },
    }
    return "\n".join(
        [
            "## Approach",
            f"An agent following {skill_name} would read SKILL.md first, then the references."
            + (f" {HOSTILE}" if hostile else ""),
            "",
            "## Complexities",
            f"The prompt hashes to {digest[:12]}; this fake answer is derived from it.",
            "",
            "## Risk Assessment",
            f"Risk is {risk}. Failed checks: {', '.join(failed) or 'none'}.",
            "",
            "## Verdict",
            f"{len(results) - len(failed)} of {len(results)} checks are not failed.",
            "",
            "```json",
            json.dumps(block, indent=2),
            "```",
        ]
    )


def token_counts(system_prompt: str, user_prompt: str, text: str) -> tuple[int, int]:
    """Rough token counts (4 characters a token), never zero."""
    return (len(system_prompt) + len(user_prompt)) // 4 + 1, len(text) // 4 + 1
