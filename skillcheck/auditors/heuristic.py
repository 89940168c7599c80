"""The embedded offline auditor: rule-based, deterministic, free, and fast.

It answers exactly like a model would (Markdown sections and a trailing JSON block) so the
one parser in ``skillcheck.parser`` reads it. The prompt decides which checks are relevant
(``heuristic_rules.read_prompt``); the skill text decides pass, fail or unclear by pattern
families per check (``heuristic_rules.RULES``), with ``file:line`` quotes as evidence.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType
from typing import TYPE_CHECKING

from skillcheck.auditors.base import AuditRequest, AuditResponse, Availability
from skillcheck.catalog import CatalogError, Check
from skillcheck.prompt import RISK_LEVELS
from skillcheck.vocabulary import Result, Severity

if TYPE_CHECKING:
    from skillcheck.auditors.heuristic_rules import Family, PromptSignals, Rule


def _rules() -> ModuleType:
    """The rule tables, compiled on first use: their 70 patterns cost 33 ms of CPU, which a
    run that never audits with the heuristic (every API run) need not pay at its start."""
    from skillcheck.auditors import heuristic_rules

    return heuristic_rules


NO_RULE_SUMMARY = "no heuristic rule for this check"
QUOTE_LIMIT = 160
NEGATION_WINDOW = 60  # characters before a forbidden match searched for "never", "do not"
_FENCE_RX = re.compile(r"`{3,}")  # a quoted fence must not end the answer's JSON block

Documents = tuple[tuple[str, str], ...]  # (path relative to the skill folder, text)


@dataclass(frozen=True)
class Hit:
    """Where a pattern matched: file, 1-based line, and the quoted line."""

    file: str
    line: int
    quote: str

    def __str__(self) -> str:
        return f'{self.file}:{self.line}: "{self.quote}"'


@dataclass(frozen=True)
class Verdict:
    check: Check
    result: Result
    evidence: str
    summary: str


def _body_start(name: str, text: str) -> int:
    """Skip SKILL.md frontmatter: the trigger description is not guidance to the agent."""
    if name != "SKILL.md" or not text.startswith("---"):
        return 0
    end = text.find("\n---", 3)
    return 0 if end == -1 else end + 4


def _hit_at(name: str, text: str, start: int) -> Hit:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    line_end = len(text) if line_end == -1 else line_end
    line = text[line_start:line_end]
    if len(line) > QUOTE_LIMIT:
        offset = start - line_start
        left = max(0, min(offset - QUOTE_LIMIT // 3, len(line) - QUOTE_LIMIT))
        line = ("…" if left else "") + line[left : left + QUOTE_LIMIT] + "…"
    quote = _FENCE_RX.sub("`", " ".join(line.split()).replace('"', "'"))
    return Hit(name, text.count("\n", 0, start) + 1, quote)


def _negated(text: str, start: int) -> bool:
    """A negation shortly before the match on its line ("never paste the token ...")."""
    window = max(text.rfind("\n", 0, start) + 1, start - NEGATION_WINDOW)
    return _rules().NEGATION_RX.search(text, window, start) is not None


def _is_heading(text: str, start: int) -> bool:
    return text.startswith("#", text.rfind("\n", 0, start) + 1)


@lru_cache(maxsize=64)
def _lowered(text: str) -> str | None:
    """The text lower-cased for the fast patterns, or None when lower-casing would move
    offsets (a few Unicode letters lower-case to two characters)."""
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else None


@lru_cache(maxsize=4096)
def _find(
    family: Family, documents: Documents, forbidden: bool = False, whole: bool = False
) -> Hit | None:
    """The first match of a family in document order, preferring body text to headings.

    A heading ("## Personal data") only names a topic, so it is quoted only when no body
    line matches. Forbidden instructions skip negated matches ("never paste ..."). ``whole``
    searches SKILL.md's frontmatter too.
    """
    heading: Hit | None = None
    for name, text in documents:
        begin = 0 if whole else _body_start(name, text)
        body_at = len(text)
        lowered = _lowered(text)
        searches = [(family.lowered, lowered) if lowered else (family.pattern, text)]
        if family.exact is not None:
            searches.append((family.exact, text))
        for pattern, haystack in searches:
            for match in pattern.finditer(haystack, begin):
                start = match.start()
                if start >= body_at:
                    break
                if forbidden and _negated(text, start):
                    continue
                if not _is_heading(text, start):
                    body_at = start
                    break
                if heading is None:
                    heading = _hit_at(name, text, start)
        if body_at < len(text):
            return _hit_at(name, text, body_at)
    return heading


def _irrelevant(rule: Rule, signals: PromptSignals) -> str | None:
    """Why the check does not apply to this prompt, or None when it does."""
    if rule.collection and signals.has("docs_only"):
        return "not applicable: the prompt is a documentation question, not a collection job"
    if rule.relevant_if and not any(signals.has(t) for t in rule.relevant_if):
        wanted = " or ".join(_rules().TRAIT_LABELS[t] for t in sorted(rule.relevant_if))
        return f"not applicable: the prompt does not involve {wanted}"
    return None


def _searched(documents: Documents) -> str:
    return ", ".join(name for name, _ in documents)


def _decide(check: Check, rule: Rule, signals: PromptSignals, documents: Documents) -> Verdict:
    for family in rule.forbid:
        hit = _find(family, documents, True, rule.whole_file)
        if hit:
            return Verdict(check, Result.FAIL, str(hit), f"The skill contains {family.label}.")
    if not rule.require and not rule.when:
        labels = "; ".join(f.label for f in rule.forbid)
        return Verdict(
            check,
            Result.PASS,
            f"searched {_searched(documents)} for {labels}: not found",
            f"Not found in the skill: {labels}.",
        )
    required = list(rule.require) + [f for trait, f in rule.when if signals.has(trait)]
    found = [(f, _find(f, documents)) for f in required]
    present = [(f, h) for f, h in found if h]
    missing = [f for f, h in found if not h]
    if not missing:
        evidence = "; ".join(str(h) for _, h in present)
        labels = "; ".join(f.label for f, _ in present)
        return Verdict(check, Result.PASS, evidence, f"The skill covers {labels}.")
    weak = [(f, h) for f in rule.weak if (h := _find(f, documents))]
    partial = present + weak
    not_found = "; ".join(f.label for f in missing)
    if partial:
        evidence = "; ".join(str(h) for _, h in partial)
        evidence += f" — not found: {not_found}"
        labels = "; ".join(f.label for f, _ in partial)
        return Verdict(
            check,
            Result.UNCLEAR,
            evidence,
            f"Only partial guidance ({labels}); missing {not_found}.",
        )
    evidence = f"searched {_searched(documents)} for {not_found}: not found"
    return Verdict(check, Result.FAIL, evidence, f"The skill gives no guidance on {not_found}.")


def evaluate(
    checks: tuple[Check, ...], signals: PromptSignals, documents: Documents, dev_na: frozenset[str]
) -> list[Verdict]:
    verdicts: list[Verdict] = []
    for check in checks:
        rule = _rules().RULES.get(check.id)
        if rule is None:
            verdicts.append(Verdict(check, Result.UNCLEAR, "", NO_RULE_SUMMARY))
        elif check.id in dev_na:
            verdicts.append(Verdict(check, Result.NA, "", "not applicable in a dev domain"))
        elif reason := _irrelevant(rule, signals):
            verdicts.append(Verdict(check, Result.NA, "", reason))
        else:
            verdicts.append(_decide(check, rule, signals, documents))
    return verdicts


def risk_level(verdicts: list[Verdict]) -> str:
    """The highest severity among failed checks; LOW when nothing failed."""
    ranks = [Severity.rank_of(v.check.severity) for v in verdicts if v.result == Result.FAIL]
    return RISK_LEVELS[max([0, *ranks])]


def render(
    skill_name: str, signals: PromptSignals, documents: Documents, verdicts: list[Verdict]
) -> str:
    """The answer text: the four Markdown sections, then the JSON block."""
    risk = risk_level(verdicts)
    counts = {r: sum(v.result == r for v in verdicts) for r in Result}
    lines = [
        "## Approach",
        "",
        f"Offline heuristic audit of `{skill_name}`: the prompt's wording decides which checks "
        "apply; each applicable check is decided by searching the skill's text for the guidance "
        "it describes. Files read: " + ", ".join(f"`{n}`" for n, _ in documents) + ".",
        "",
        "## Complexities",
        "",
    ]
    if signals.traits:
        labels = _rules().TRAIT_LABELS
        lines += [f'- {labels[t]} ("{w}")' for t, w in signals.traits.items()]
    else:
        lines.append("- No recurring, personal-data, login, geography or volume signals.")
    failed = sorted(
        (v for v in verdicts if v.result == Result.FAIL),
        key=lambda v: -Severity.rank_of(v.check.severity),
    )
    lines += ["", "## Risk Assessment", "", f"Risk level: **{risk}**.", ""]
    if failed:
        lines += [
            f"- {v.check.id} [{v.check.severity}] {v.check.name}: {v.summary}" for v in failed
        ]
    else:
        lines.append("- No applicable check failed.")
    lines += [
        "",
        "## Verdict",
        "",
        f"{counts[Result.PASS]} pass, {counts[Result.FAIL]} fail, "
        f"{counts[Result.UNCLEAR]} unclear, {counts[Result.NA]} not applicable.",
        "",
    ]
    data = {
        "risk_level": risk,
        "checks": {
            v.check.id: {"result": v.result, "evidence": v.evidence, "summary": v.summary}
            for v in verdicts
        },
    }
    lines += ["```json", json.dumps(data, indent=2, ensure_ascii=False), "```", ""]
    return "\n".join(lines)


class HeuristicAuditor:
    """Always available; the default auditor when no model is configured."""

    name = "heuristic"

    def availability(self) -> Availability:
        return Availability(True, "rule-based, runs offline", via="offline")

    def audit(self, request: AuditRequest) -> AuditResponse:
        started = time.perf_counter()
        skill = request.skill
        try:
            documents: Documents = tuple(
                (path.relative_to(skill.root).as_posix(), text) for path, text in skill.documents()
            )
        except (CatalogError, OSError, ValueError) as exc:
            return AuditResponse(
                error=f"cannot read skill {skill.name}: {exc}",
                duration_s=time.perf_counter() - started,
                model_id=self.name,
            )
        signals = _rules().read_prompt(request.scenario.prompt)
        verdicts = evaluate(
            request.taxonomy.model_checks,
            signals,
            documents,
            request.taxonomy.na_for(dev=request.scenario.is_dev),
        )
        text = render(skill.name, signals, documents, verdicts)
        return AuditResponse(
            text=text, duration_s=time.perf_counter() - started, model_id=self.name
        )
