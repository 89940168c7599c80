"""Judging a skill's wording for the BP checks: vague or first-person descriptions, several
terms for one concept, numbers given without a reason, and links without saying when to read
them. The patterns lean towards few false positives: a finding is shown to skill authors as a
failed check."""

from __future__ import annotations

import re

from skillcheck.linter.documents import INLINE_CODE, LINK, URL, Doc, prose_units

MIN_DESCRIPTION_WORDS = 8
MIN_MAGIC_NUMBER = 10


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


_GENERIC_WORDS = _wordset(
    """a an the and or of for to with in on at by from into about as is are be this that it its
    skill skills helps help helper helpful tool tools utility utilities various things stuff
    useful general generic tasks task work works working data files file process processing
    handle handles handling manage manages management do does stuff thing etc assist assists
    assistant support supports anything everything something other many lots some any all"""
)
_TRIGGER = re.compile(
    r"\b(?:use|used|invoke|invoked|trigger|triggered|apply|activate|load)\b[^.]{0,40}?"
    r"\b(?:when|whenever|if|for|to)\b"
    r"|\bwhen(?:ever)?\s+(?:the\s+|a\s+|an\s+)?(?:user|users|someone|asked|requested|working|"
    r"needed|you)\b|\bif\s+the\s+user\b",
    re.IGNORECASE,
)
_FIRST_PERSON_START = re.compile(r"^\s*(?:I|You|We)\b(?!-)", re.IGNORECASE)
_PERSONAL_SUBJECT = re.compile(
    r"(?:\bI|\b[Ww]e|\b[Yy]ou)\s+(?:can|could|will|would|should|must|may|might|help|am|are|'ll)\b"
    r"|\bI'(?:m|ll|ve)\b"
)


def describe_problems(description: str) -> list[str]:
    """What is wrong with a skill description for BP-2 (empty when it is fine)."""
    problems: list[str] = []
    words = re.findall(r"[A-Za-z][\w'/-]*", description)
    meaningful = [w for w in words if w.lower() not in _GENERIC_WORDS]
    if len(words) < MIN_DESCRIPTION_WORDS:
        problems.append(f"description is too short ({len(words)} words) to say what and when")
    elif len(meaningful) < 3:
        problems.append("description is vague: only generic words")
    if not _TRIGGER.search(description):
        problems.append("description has no trigger conditions (e.g. 'Use when the user asks …')")
    if _FIRST_PERSON_START.match(description) or _PERSONAL_SUBJECT.search(description):
        problems.append("description is not in the third person (uses I/we/you as subject)")
    return problems


def _term_pattern(*variants: str) -> re.Pattern[str]:
    ordered = sorted(variants, key=len, reverse=True)
    body = "|".join(v.replace(" ", r"\s+") for v in ordered)
    return re.compile(rf"(?<![\w-])({body})s?(?![\w-])", re.IGNORECASE)


PROPER_NAME_BEFORE = re.compile(r"\b[A-Z][\w.-]*\s+$")


TERM_GROUPS = {
    "the automation program": _term_pattern("actor", "scraper", "bot", "crawler", "spider"),
    "the results store": _term_pattern(
        "dataset", "results table", "output table", "result set", "data table"
    ),
    "the credential": _term_pattern(
        "api token", "api key", "secret key", "access token", "auth token"
    ),
    "a folder": _term_pattern("folder", "directory", "dir"),
}


_DATE_OR_TIME = re.compile(
    r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?\b|\b\d{1,2}:\d{2}\b"
)
_SENTENCE = re.compile(r".+?(?:[.!?](?=\s)|$)")
_QUOTED = re.compile(r'"[^"]*"|“[^”]*”')
_VERSION_AFTER = re.compile(r"\s*(?:or\s+(?:newer|later|higher|above)|\+)", re.IGNORECASE)
_CALENDAR_AFTER = re.compile(r"\s*(?:months?|years?)\b", re.IGNORECASE)
_NUMBER = re.compile(r"[0-9]+(?:[.,][0-9]+)*")
_UNITS = _wordset(
    "ms s sec secs second seconds m min mins minute minutes h hr hrs hour hours d day days k kb mb "
    "gb tb kib mib gib px"
)
_ORDINAL_WORDS = re.compile(
    r"(?:step|phase|part|section|chapter|version|page|line|workflow|option|rule|item|level|"
    r"v|no|node|python|java|php|ruby|ios|android|windows|http|es|ecmascript|utf|iso|rfc|"
    r"top|per)\s*$",
    re.IGNORECASE,
)
_LIST_NUMBER = re.compile(r"^\s*(?:[-*+]\s+)?\d+[.)]\s")
_HTTP_STATUS = re.compile(r"http|status|error|code|response|writehead", re.IGNORECASE)
_SETTING = re.compile(
    r"\b(?:timeout|delay|retr(?:y|ies)|concurren|memory|interval|wait|sleep|batch|size|depth|ttl|"
    r"expir|backoff|throttle|rate|per.?page|threads|workers|pool)",
    re.IGNORECASE,
)
_EXPLAINED = re.compile(
    r"\b(?:because|since|so\s+that|so\s+the|so\s+it|to\s+avoid|to\s+prevent|to\s+keep|to\s+stay|"
    r"to\s+(?:check|test|verify|see|confirm|validate|cover|allow|match|fit|catch|reduce|save|"
    r"absorb|account|compensate|make\s+sure|ensure)|avoid|otherwise|whether|"
    r"limit|limits|limited|default|defaults|max|maximum|min|minimum|"
    r"cap|capped|at\s+most|at\s+least|up\s+to|no\s+more\s+than|recommended|typical|typically|"
    r"usually|why|ensures?|e\.g|for\s+example|example|such\s+as|about|around|approx|"
    r"approximately|roughly|budget|quota|rate|threshold|enough|required|requires|must|"
    r"test|tests|testing|sample|trial|cost|costs|price|pricing|credits|expensive|cheap|"
    r"retry|fails?|failed|failure)"
    r"|~\s*\d|\d%?\s*\(\s*[a-z]",
    re.IGNORECASE,
)


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group())


def _mask(line: str, *, inline_code: bool = False) -> str:
    """The line with link targets, URLs, dates, quotes (and optionally inline code) blanked,
    keeping every other character at its position."""
    line = LINK.sub(lambda m: m.group(1).ljust(len(m.group())), line)
    for pattern in (URL, _DATE_OR_TIME, _QUOTED, *([INLINE_CODE] if inline_code else [])):
        line = pattern.sub(_blank, line)
    return line


def magic_numbers(line: str) -> list[str]:
    """Numbers ≥ 10 on a line that look like settings (not years, versions, list numbers,
    identifiers, dates, quoted text, URLs or ports), whether explained or not."""
    return [token for token, _ in _magic_spans(_mask(line))]


def _magic_spans(text: str) -> list[tuple[str, int]]:
    list_number = _LIST_NUMBER.match(text)
    found: list[tuple[str, int]] = []
    for match in _NUMBER.finditer(text):
        token, start, end = match.group(), match.start(), match.end()
        if list_number and start < list_number.end():
            continue
        before = text[start - 1] if start else " "
        before2 = text[start - 2] if start > 1 else " "
        after = text[end:]
        if before.isalnum() or before in "_./:#@$€£=\\^~<" or (before == "-" and before2.isalpha()):
            continue
        if "." in token or after[:1] in ("+", "/", ":", "°") or after[:2] == ".x":
            continue
        if after[:1].isalpha() or after[:1] == "_":
            letters = re.match(r"[^\W\d_]+", after)
            suffix = letters.group() if letters else ""
            if suffix.lower() not in _UNITS or (after[len(suffix) : len(suffix) + 1].isalnum()):
                continue
        if after[:1] == "-" and after[1:2].isalpha():
            continue
        if _VERSION_AFTER.match(after) or _CALENDAR_AFTER.match(after):
            continue
        value = int(token.replace(",", ""))
        if value < MIN_MAGIC_NUMBER:
            continue
        if len(token) == 4 and 1900 <= value <= 2100:
            continue
        if _ORDINAL_WORDS.search(text[:start]):
            continue
        if 100 <= value <= 599 and _HTTP_STATUS.search(text):
            continue
        found.append((token, start))
    return found


def code_constants(doc: Doc) -> list[tuple[int, list[str]]]:
    """Setting-like numbers in code blocks with no explaining comment on or above the line."""
    found: list[tuple[int, list[str]]] = []
    previous = ""
    for number, line, code in doc.body():
        if code:
            numbers = [t for t, _ in _magic_spans(_mask(line))]
            context = line + (" " + previous if _is_comment(previous) else "")
            if numbers and _SETTING.search(_words(line)) and not _EXPLAINED.search(context):
                found.append((number, numbers))
        previous = line
    return found


def prose_constants(doc: Doc) -> list[tuple[int, list[str]]]:
    """Numbers in prose whose sentence (or the next one) gives no reason for them."""
    found: dict[int, list[str]] = {}
    for unit in prose_units(doc):
        numbers_text = " ".join(_mask(line) for _, line in unit)
        context_text = " ".join(_mask(line, inline_code=True) for _, line in unit)
        starts, offset = [], 0
        for number, line in unit:
            starts.append((offset, number))
            offset += len(line) + 1
        sentences = [m.span() for m in _SENTENCE.finditer(context_text)]
        for token, position in _magic_spans(numbers_text):
            index = next((i for i, (a, b) in enumerate(sentences) if a <= position < b), 0)
            context = " ".join(context_text[a:b] for a, b in sentences[index : index + 2])
            if _EXPLAINED.search(context):
                continue
            line_no = max(n for start, n in starts if start <= position)
            found.setdefault(line_no, []).append(token)
    return sorted(found.items())


def _words(line: str) -> str:
    """Split camelCase and snake_case names into words, so keys match word patterns."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", line).replace("_", " ")


def _is_comment(line: str) -> bool:
    return line.strip().startswith(("#", "//", "/*", "*", "--", "<!--"))


_GUIDANCE_VERB = re.compile(
    r"\b(?:read|reads|see|consult|refer\s+to|check|open|load|review|follow|use)\b", re.IGNORECASE
)
_GUIDANCE_WHEN = re.compile(
    r"\b(?:when|whenever|if|before|for|while|during|after|once|based\s+on|depending\s+on)\b",
    re.IGNORECASE,
)
_GUIDANCE_FILLER = _wordset(
    "the a an more on about details detail info information further additional extra reading "
    "this that it these those them all everything rest other topic topics example examples "
    "reference references file files doc docs documentation md see read here there"
)


def is_guidance(text: str, stem: str = "") -> bool:
    """Whether ``text`` says when to read a reference: a verb such as read/see/consult and a
    condition (when/if/before/for …) that says more than "for more" or the file's own name."""
    if not _GUIDANCE_VERB.search(text):
        return False
    own = {w.rstrip("s") for w in re.findall(r"[a-z]+", stem.lower())}
    for match in _GUIDANCE_WHEN.finditer(text):
        clause = re.split(r"[.;:!?]", text[match.end() :], maxsplit=1)[0]
        words = re.findall(r"[a-z]+", clause.lower())
        if any(w not in _GUIDANCE_FILLER and w.rstrip("s") not in own for w in words):
            return True
    return False
