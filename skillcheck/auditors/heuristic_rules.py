"""The heuristic auditor's knowledge: what a prompt asks for, and what each check looks for.

Two tables, both plain data compiled once at import time:

- ``TRAITS``: prompt signals (recurring work, personal data, logins, ...). A check whose
  relevance traits are absent from the prompt is ``na``, as a human auditor would mark it.
- ``RULES``: per check id, the families of skill-text patterns that make it ``pass`` (all
  required families found), ``unclear`` (only some, or only weak signals) or ``fail`` (none,
  or a forbidden instruction such as asking for the token in the chat).

Patterns are line-bound (no ``.`` across newlines, bounded gaps) so a search stays linear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FLAGS = re.IGNORECASE | re.MULTILINE


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{a})" for a in alternatives), _FLAGS)


@dataclass(frozen=True)
class Family:
    """One kind of guidance a check looks for, e.g. "privacy rules (GDPR, consent)"."""

    label: str
    pattern: re.Pattern[str]  # case-insensitive, for any text
    lowered: re.Pattern[str]  # the same, for lower-cased text: about three times faster
    exact: re.Pattern[str] | None = None  # case-sensitive terms (acronyms like "ToS")


@dataclass(frozen=True)
class Rule:
    """How one check is decided.

    ``relevant_if``: traits of which at least one must be in the prompt (empty: always).
    ``collection``: the check is about running a collection job, so docs-only questions
    make it ``na``. ``require``: every family must be found for ``pass``. ``when``: extra
    required families that apply only when the prompt has a trait. ``weak``: families that
    alone only make the check ``unclear``. ``forbid``: instructions that make it ``fail``
    unless negated on their line ("never ...").
    """

    require: tuple[Family, ...]
    relevant_if: frozenset[str] = frozenset()
    collection: bool = True
    when: tuple[tuple[str, Family], ...] = ()
    weak: tuple[Family, ...] = ()
    forbid: tuple[Family, ...] = ()
    whole_file: bool = False  # search the SKILL.md frontmatter too, not only the body


# --- Prompt traits -------------------------------------------------------------------------

_DAYS = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_UNITS = rf"(?:minute|hour|day|night|morning|evening|week|month|quarter|year|{_DAYS})s?"

_COUNTRIES = (
    "afghanistan|argentina|australia|austria|belgium|brazil|bulgaria|canada|chile|china|"
    "colombia|croatia|czech republic|czechia|czech|denmark|egypt|estonia|finland|france|"
    "germany|greece|hungary|iceland|india|indonesia|ireland|israel|italy|japan|kenya|korea|"
    "latvia|lithuania|luxembourg|malaysia|mexico|morocco|netherlands|new zealand|nigeria|"
    "norway|pakistan|peru|philippines|poland|portugal|romania|russia|saudi arabia|serbia|"
    "singapore|slovakia|slovenia|south africa|spain|sweden|switzerland|taiwan|thailand|"
    "turkey|ukraine|united kingdom|united states|vietnam|europe|european union|asia|"
    "latin america|middle east|africa"
)
_CCTLD = r"(?:co\.)?(?:jp|cz|de|fr|uk|it|es|pl|sk|at|ch|nl|br|cn|kr|au|ca|mx|se|dk|no|fi|hu)"

TRAIT_LABELS: dict[str, str] = {
    "recurring": "recurring work",
    "personal": "personal data",
    "login": "logins or private data",
    "geo": "geography-specific content",
    "volume": "a large volume",
    "multi_source": "several sources",
    "docs_only": "a documentation question",
    "integration": "a hand-off to another system",
    "blocking": "a target that blocks scrapers",
    "heavy": "a long or heavy run",
}

_TRAIT_PATTERNS: dict[str, re.Pattern[str]] = {
    "recurring": _rx(
        rf"\bevery\s+(?:\d+\s+|other\s+|single\s+)?{_UNITS}\b",
        r"\b(?:daily|weekly|monthly|hourly|nightly|quarterly)\b",
        r"\bmonitor(?:s|ed|ing)?\b",
        r"\btrack(?:s|ed|ing)?\b[^\n.]{0,60}\b(?:over time|changes?|history|daily|weekly)\b",
        r"\bover time\b",
        r"\b(?:recurring|periodic(?:ally)?|regularly|repeatedly)\b",
        r"\bschedul\w*",
        rf"\beach\s+{_UNITS}\b",
        r"\bkeep\b[^\n.]{0,40}\b(?:updated|up to date)\b",
        r"\breal[- ]time\b",
        r"\balerts?\b",
    ),
    "personal": _rx(
        r"\be-?mails?\b(?!\s+me\b)",
        r"\bphones?\b",
        r"\bprofiles?\b",
        r"\bcontacts?\b",
        r"\bpersonal\b",
        r"\bnames?\b[^\n.]{0,20}\b(?:of|for)\b[^\n.]{0,20}\b(?:people|persons?|employees|"
        r"staff|contacts|owners|founders|head)\b",
        r"\bname/e-?mail\b",
        r"\b(?:CTO|CEO|CFO|CMO|COO|founder|owner|decision[- ]maker|recruiter)s?\b",
        r"\bhead of\b",
        r"\bfollowers?\b",
        r"\bdemographics?\b",
        r"\binfluencers?\b",
        r"\bhome address(?:es)?\b",
        r"\blinkedin\b",
    ),
    "login": _rx(
        r"\blog[- ]?ins?\b",
        r"\blogged[- ]in\b",
        r"\bsign(?:ed)?[- ]in\b",
        r"\bcookies?\b",
        r"\bsessions?\b",
        r"\bpasswords?\b",
        r"\bcredentials?\b",
        r"\bprivate\b",
        r"\bpaywall\w*",
        r"\bmembers?[- ]only\b",
        r"\bmy (?:own )?account\b",
        r"\bnot publicly (?:visible|available|accessible)\b",
    ),
    "geo": _rx(
        rf"\b(?:{_COUNTRIES})\b",
        r"\bonly available in\b",
        r"\b(?:geo[- ]?(?:restricted|blocked|specific|targeted)|region(?:al|s)?|locale)\b",
        r"\bcountry\b|\bcountries\b|\b[a-z]+-specific\b",
        r"\blocal (?:store|site|version|market|pricing|prices)\b",
        r"\b(?:currency|currencies|language)\b",
        rf"\b[a-z0-9-]+\.{_CCTLD}\b",
    ),
    "volume": _rx(
        r"\ball\b",
        rf"\bevery(?:thing)?\b(?!\s+(?:\d+\s+|other\s+|single\s+)?{_UNITS}\b)",
        r"\b(?:entire|bulk|complete list|thousands|millions|hundreds of thousands)\b",
    ),
    "multi_source": _rx(
        r"\bthen\s+(?:scrape|extract|collect|find|fetch|get|pull|look up|match|enrich|check|"
        r"cross|compare|combine|merge|use)\b",
        r"\bcross[- ]?referenc\w*",
        r"\bcombin(?:e|es|ed|ing)\b",
        r"\bmerg(?:e|es|ed|ing)\b",
        r"\bjoin(?:ed|ing)?\b",
        r"\benrich\w*",
        r"\band finally\b",
    ),
    "integration": _rx(
        r"\bwebhooks?\b",
        r"\bslack\b",
        r"\bgoogle sheets?\b",
        r"\bairtable\b",
        r"\bzapier\b",
        r"\bn8n\b",
        r"\bmake\.com\b",
        r"(?-i:\bCRM\b)",
        r"\bdatabase\b",
        r"\bdashboard\b",
        r"\bnotif(?:y|ication)\w*",
        r"\balerts?\b",
        r"\bsend (?:it|them|the results|me)\b",
        r"\be-?mail me\b",
        r"\bquery\b[^\n.]{0,30}\blater\b",
    ),
    "blocking": _rx(
        r"\bcloudflare\b",
        r"\bcaptchas?\b",
        r"\bblock(?:s|ed|ing)?\b",
        r"\banti[- ]?bot\b",
        r"\b403\b",
        r"\bbanned\b",
        r"\brate[- ]limit\w*",
    ),
    "heavy": _rx(
        r"\btim(?:e|es|ed|ing) ?out\b",
        r"\btimeouts?\b",
        r"\bslow\b",
        r"\bheavy\b",
        r"\blong[- ]running\b",
        r"\b(?:playwright|puppeteer|headless|selenium)\b",
        r"\bout of memory\b|\bmemory\b",
    ),
}

# Platforms and sites: two distinct ones in a prompt make it a multi-source request.
_SOURCE_RX = _rx(
    rf"\b[a-z0-9-]+\.(?:com|net|org|io|{_CCTLD})\b",
    r"\b(?:instagram|tiktok|facebook|youtube|linkedin|twitter|reddit|pinterest|threads)\b",
    r"\bgoogle (?:maps|search|trends|shopping|news)\b",
    r"\b(?:tripadvisor|booking\.com|airbnb|yelp|trustpilot|g2|capterra|glassdoor|indeed)\b",
    r"\b(?:amazon|walmart|ebay|etsy|aliexpress|ikea|zillow)\b",
)
_NUMBER_RX = re.compile(
    r"(?<![\w$€£.,])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(k|m|thousand|million|mil)?\b"
    r"(?!\s*(?:followers|subscribers|likes|views|employees|stars|usd|eur|/|%|-))",
    re.IGNORECASE,
)
_MULTIPLIERS = {"k": 1_000, "thousand": 1_000, "m": 1_000_000, "million": 1_000_000}
_MULTIPLIERS["mil"] = 1_000_000
_US_RX = re.compile(r"\b(?:US|USA|UK|EU|UAE)\b")
_DOCS_QUESTION_RX = _rx(
    r"^\s*(?:how (?:do|can|should|would) (?:i|we|you)|how to|what (?:is|are|does|do)|why|"
    r"explain)\b",
    r"\bshow me (?:the |a |an )?(?:full |complete )?(?:input schema|docs|documentation|"
    r"code example|example)\b",
    r"\b(?:documentation|docs)\b",
)
_COLLECTION_VERB_RX = _rx(
    r"\b(?:scrape|scraping|extract|collect|gather|monitor|track|find|build|export|download|"
    r"crawl|get me|aggregate|compare|analy[sz]e|discover|research|measure)\b"
)


@dataclass(frozen=True)
class PromptSignals:
    """The traits found in a prompt, each with the words that triggered it."""

    traits: dict[str, str]

    def has(self, trait: str) -> bool:
        return trait in self.traits


def _large_number(prompt: str) -> str | None:
    for match in _NUMBER_RX.finditer(prompt):
        value = float(match.group(1).replace(",", ""))
        unit = (match.group(2) or "").lower()
        if value * _MULTIPLIERS.get(unit, 1) >= 1000:
            return match.group(0).strip()
    return None


def read_prompt(prompt: str) -> PromptSignals:
    """Find which kinds of work the prompt asks for; deterministic, in a fixed order."""
    found: dict[str, str] = {}
    for trait, pattern in _TRAIT_PATTERNS.items():
        match = pattern.search(prompt)
        if match:
            found[trait] = match.group(0)
    if "geo" not in found and (us := _US_RX.search(prompt)):
        found["geo"] = us.group(0)
    if number := _large_number(prompt):
        found["volume"] = number
    sources = sorted({m.group(0).lower() for m in _SOURCE_RX.finditer(prompt)})
    if "multi_source" not in found and len(sources) >= 2:
        found["multi_source"] = " + ".join(sources[:3])
    if "volume" in found:
        found.setdefault("heavy", found["volume"])
    docs = _DOCS_QUESTION_RX.search(prompt)
    if docs and not _COLLECTION_VERB_RX.search(prompt):
        found["docs_only"] = docs.group(0).strip()
    return PromptSignals({t: found[t] for t in TRAIT_LABELS if t in found})


# --- Check rules ---------------------------------------------------------------------------


def _f(label: str, *alternatives: str, exact: str = "") -> Family:
    """A family; ``exact`` terms are matched case-sensitively in a separate pattern, since a
    scoped ``(?-i:...)`` group inside an alternation makes the whole search several times
    slower."""
    pattern = _rx(*alternatives)
    # The patterns use no upper-case escapes (non-space, non-word...), so lower-casing keeps their
    # meaning; ASCII classes only differ next to non-ASCII letters, rare in skill text.
    lowered = re.compile(pattern.pattern.lower(), re.MULTILINE | re.ASCII)
    return Family(label, pattern, lowered, re.compile(exact, re.MULTILINE) if exact else None)


_ENV_TOKEN = _f(
    "the token kept in the environment or a .env file",
    r"\.env\b",
    r"\benvironment variables?\b",
    r"\benv vars?\b",
    r"--env-file\b",
    r"\bprocess\.env\b",
    r"\bos\.environ\b",
)
_SECRET_VERBS = r"(?:print|log|echo|commit|paste|share|expose|embed|display|output|hard-?code)"
_NEVER_EXPOSE = _f(
    "a rule never to print, log, commit or paste the token",
    rf"\b(?:never|do not|don'?t|must not|should not|avoid)\b[^\n]{{0,30}}\b{_SECRET_VERBS}\w*",
    r"\bcensor\w*",
    r"\b(?:mask|redact)\w*\b[^\n]{0,30}\b(?:token|secret|key|credential)s?\b",
    r"\bkeep\b[^\n]{0,30}\b(?:token|secret|key)s?\b[^\n]{0,20}\bsecret\b",
    r"\.gitignore\b",
)
_ASK_FOR_SECRET = _f(
    "an instruction to have the token or password pasted into the chat",
    r"\bpaste\b[^\n]{0,60}\b\w*(?:token|api key|key|password|secret|credentials?)\b",
    r"\b\w*(?:token|api key|password|secret|credentials?)\b[^\n]{0,40}\b(?:in|into) (?:the |this )?"
    r"(?:chat|conversation|message)\b",
    r"\bask (?:the user |them )?(?:for|to (?:send|share|provide|give|paste|type)) "
    r"(?:me |us )?(?:their|your|the|his|her) (?:apify |api )?(?:token|api key|password|"
    r"credentials)\b",
    r"\b(?:send|share|give) (?:me|us) (?:your|the) (?:apify |api )?(?:token|key|password)\b",
    r"\b(?:echo|print|cat)\b[^\n]{0,20}\$\{?APIFY_TOKEN\b",
)
_USE_USER_SESSION = _f(
    "an instruction to use the user's cookies, session or login",
    r"\b(?:use|paste|export|import|provide|add|load|reuse)\b[^\n]{0,20}\b(?:your|the user'?s|"
    r"their|my) (?:own )?(?:browser )?(?:session cookies|cookies|session|login|password|"
    r"credentials)\b",
    r"\blog ?in (?:as|with) (?:the user|your account|their account)\b",
)

_AUDIT_ROLE = r"(?:auditors?|reviewers?|evaluators?|graders?|assessors?|scorers?|judges?)"
_AUDITOR_DIRECTED = _f(
    "an instruction aimed at the auditor",
    rf"\b{_AUDIT_ROLE}\b[^\n]{{0,80}}\b(?:mark|score|rate|grade|report|set|treat|consider|"
    r"evaluate|judge|approve)\b[^\n]{0,60}\b(?:checks?|pass(?:ed|es|ing)?|compliant|safe|"
    r"risk|low|verdict|scores?|ratings?|findings?)\b",
    r"\b(?:mark|score|rate|grade|report)\b[^\n]{0,30}\b(?:every|all|each|this skill'?s?)\b"
    r"[^\n]{0,20}\b(?:checks?|items?|criteri\w+)\b[^\n]{0,30}\b(?:pass(?:ed|ing)?|ok|green|"
    r"compliant)\b",
    r"\b(?:ignore|disregard|forget|override)\b[^\n]{0,30}\b(?:previous|prior|above|earlier|"
    r"preceding|system|other|your)\b[^\n]{0,20}\b(?:instructions?|prompts?|rules?|"
    r"directions?|guidelines?)\b",
    r"\bif you are (?:an? )?(?:ai|llm|(?:large )?language model|model|auditor|reviewer|"
    r"evaluator|grader)\b[^\n]{0,60}\b(?:audit|review|evaluat|scor|grad|assess|judg)\w*",
    rf"\b(?:note|message|instructions?|attention) (?:to|for) (?:the |any |all )?(?:ai |llm )?"
    rf"(?:{_AUDIT_ROLE}|ai|llms?|models?)\b",
    r"\b(?:set|report|give|use|return)\b[^\n]{0,20}\brisk_level\b",
)

RULES: dict[str, Rule] = {
    "WF-1": Rule(
        collection=False,
        require=(
            _f(
                "an ordered step-by-step workflow",
                r"\bstep\s*[1-9]\b",
                r"\btask progress\b",
                r"^#{1,4}[ \t]+[^\n]{0,30}\bworkflow\b",
                r"^[ \t]*1\.[ \t]+\*\*",
            ),
            _f(
                "a delivery step (summarise, report or export the result)",
                r"\bsummari[sz]e\b[^\n]{0,20}\bresults?\b",
                r"\breport\b[^\n]{0,20}\b(?:back|results?|to the user|findings)\b",
                r"\bdeliver\w*",
                r"\bpresent\b[^\n]{0,20}\bresults?\b",
                r"\bdeploy\b",
                r"--output\b",
                r"\bafter completion\b",
            ),
        ),
    ),
    "WF-2": Rule(
        require=(
            _f(
                "a step that verifies intermediate results",
                r"\b(?:verify|validate|check|inspect|confirm|review)\w*\b[ \t]+(?:that[ \t]+)?"
                r"(?:the[ \t]+)?(?:results?|counts?|output|data|sample|rows?|items|run status|"
                r"dataset)\b",
                r"\b(?:spot|sanity)[- ]check\w*",
                r"\bsample (?:rows|items|records|results)\b",
            ),
        ),
        weak=(
            _f(
                "a reported result count",
                r"\bnumber of \w+ (?:found|returned|scraped)\b",
                r"\bno results\b",
                r"\bempty (?:results?|dataset)\b",
            ),
        ),
    ),
    "WF-3": Rule(
        collection=False,
        require=(
            _f(
                "room to adapt to the request",
                r"\bskip this step\b",
                r"\bfor (?:simple|small|larger|large) (?:lookups|requests|tasks|scraping)\b",
                r"\bdepending on\b",
                r"\bbased on (?:the )?(?:user|use case|character|request|needs)\b",
                r"\bas needed\b",
                r"\bif (?:the user|needed|necessary|applicable)\b",
                r"\b(?:select|choose) the (?:appropriate|best|right)\b",
                r"\badapt\w*",
            ),
            _f(
                "firm rules for fragile steps",
                r"\b(?:always|never|must|mandatory|important)\b",
                r"\bdo not\b|\bdon'?t\b",
            ),
        ),
    ),
    "WF-4": Rule(
        collection=False,
        require=(
            _f(
                "when not to use the skill and where to route instead",
                r"\b(?:do not|don'?t|not) use (?:this skill )?(?:for|when|if)\b",
                r"\bout of scope\b",
                r"\bnot (?:meant|intended|designed|suitable) for\b",
                r"\b(?:another|a different|a separate|the \w+) skill\b",
                r"\broute (?:to|the request|it)\b",
                r"\b(?:documentation|docs) (?:questions?|requests?)\b",
                r"\bdoes not (?:apply|cover)\b",
            ),
        ),
        weak=(
            _f(
                "pointers to documentation for other questions",
                r"\b(?:search|fetch)-apify-docs\b",
                r"\bllms(?:-full)?\.txt\b",
            ),
        ),
    ),
    "WF-5": Rule(
        require=(
            _f(
                "asking the user before running",
                r"\bask\b[^\n]{0,15}\b(?:user|them|for|which|whether|about|preferences)\b",
                r"\bbefore running, ask\b",
                r"\bclarif\w*",
                r"\bconfirm with the user\b",
            ),
            _f(
                "the essentials to ask about (volume, location, format, time range)",
                r"\bnumber of (?:results|items|leads|posts|reviews)\b",
                r"\boutput format\b",
                r"\b(?:time|date) range\b",
                r"\bhow many\b",
                r"\blocation\b",
                r"\bprogramming language\b",
            ),
        ),
    ),
    "WF-6": Rule(
        collection=False,
        require=(
            _f(
                "runnable command or input examples",
                r"^[ \t]*```(?:bash|sh|shell|json|python|py|javascript|js|typescript|ts)\b",
            ),
            _f(
                "examples that say what they show",
                r"\bexamples?\b",
                r"\be\.g\.",
                r"\bfor instance\b",
            ),
        ),
    ),
    "DK-1": Rule(
        require=(
            _f(
                "terms of service and legal limits",
                r"\bterms of (?:service|use)\b",
                r"\blegal\w*",
                r"\blawful\w*",
                r"\brobots\.txt\b",
                r"\bcopyright\w*",
                exact=r"\bToS\b",
            ),
        ),
        weak=(_f("a general call for responsible scraping", r"\bethic\w*", r"\brespect\b"),),
    ),
    "DK-2": Rule(
        relevant_if=frozenset({"personal"}),
        require=(
            _f(
                "privacy rules for personal data (GDPR, consent, minimisation)",
                r"\bGDPR\b",
                r"\bCCPA\b",
                r"\bpersonal data\b",
                r"\bprivacy\b",
                r"\bconsent\b",
                r"\bdata protection\b",
                r"\blawful basis\b",
                r"\bdata minimi[sz]ation\b",
                r"\bpersonally identifiable\b",
                exact=r"\bPII\b",
            ),
        ),
        weak=(
            _f(
                "a passing mention of sensitive data",
                r"\bsensitive data\b",
                r"\bpersonal/sensitive\b",
                r"\banonymi[sz]\w*",
                r"\bopt[- ]out\b",
            ),
        ),
    ),
    "DK-3": Rule(
        require=(
            _f(
                "deduplication or normalisation",
                r"\bde-?dup\w*",
                r"\bduplicates?\b",
                r"\bnormali[sz]\w*",
                r"\bclean\w*\b[^\n]{0,20}\bdata\b",
                r"\bvalidate\b[^\n]{0,20}\bdata\b",
            ),
            _f(
                "reporting missing or partial fields",
                r"\bmissing (?:fields?|values?|data)\b",
                r"\bpartial (?:data|fields?|results?)\b",
                r"\bempty fields?\b",
                r"\bnull (?:values?|fields?)\b",
                r"\bincomplete (?:data|records?|results?)\b",
                r"\bdata quality\b",
            ),
        ),
    ),
    "DK-4": Rule(
        require=(
            _f(
                "the target's rate limits, anti-bot measures or pagination caps",
                r"\brate[- ]limit\w*",
                r"\banti[- ]?bot\b",
                r"\bcaptchas?\b",
                r"\bthrottl\w*",
                r"\bpagination\b",
                r"\bblock(?:ed|ing|s)?\b",
                r"\bconcurrency\b",
                r"\bcloudflare\b",
                r"\bban(?:ned|s)?\b",
            ),
        ),
    ),
    "DK-5": Rule(
        relevant_if=frozenset({"geo"}),
        require=(
            _f(
                "country, language or currency handling",
                r"\bcountr(?:y|ies)\b",
                r"\bcountryCode\b",
                r"\blocale\b",
                r"\blanguages?\b",
                r"\bcurrenc(?:y|ies)\b",
                r"\bgeo[- ]?\w*",
                r"\bregion(?:al|s)?\b",
                r"\blocali[sz]\w*",
            ),
        ),
        weak=(_f("a location input", r"\blocations?\b", r"\bcit(?:y|ies)\b"),),
    ),
    "DK-6": Rule(
        relevant_if=frozenset({"recurring"}),
        require=(
            _f(
                "how to repeat the job",
                r"\bschedul\w*",
                r"\brecurring\b",
                r"\bperiodic\w*",
                r"\b(?:daily|weekly|monthly|hourly)\b",
                r"\bmonitor\w*\b[^\n]{0,30}\bover time\b",
                r"\bre-?run\b",
            ),
            _f(
                "how to compare runs over time",
                r"\bcompar\w*\b[^\n]{0,30}\b(?:previous|last|earlier|prior|past) (?:runs?|results?|"
                r"data|snapshots?)\b",
                r"\b(?:diff|delta|changes since|incremental|baseline|snapshot)\w*",
                r"\bonly new\b|\bnew (?:items|reviews|results|posts) since\b",
                r"\bhistor(?:y|ical)\b",
                r"\btrack\w*\b[^\n]{0,30}\bchanges?\b",
            ),
        ),
    ),
    "DK-7": Rule(
        require=(
            _f(
                "a named output format (CSV, JSON, table)",
                r"\bCSV\b",
                r"\bJSON\b",
                r"\bexcel\b|\bxlsx\b",
                r"\bspreadsheet\b",
                r"\bmarkdown table\b|\bsummary table\b",
            ),
            _f(
                "the fields or columns to deliver",
                r"\bfields?\b",
                r"\bcolumns?\b",
                r"\bproperties\b",
            ),
        ),
    ),
    "DK-8": Rule(
        require=(
            _f(
                "what to do when a step fails",
                r"\berror handling\b",
                r"\bif\b[^\n]{0,40}\bfails?\b",
                r"\bwhen\b[^\n]{0,30}\bfails?\b",
                r"\bon (?:failure|error)\b",
                r"\btroubleshoot\w*",
                r"\berrors?\b[^\n]{0,10}\|",
            ),
            _f(
                "a remedy: retry, fallback or partial results",
                r"\bretr(?:y|ies|ying)\b",
                r"\bfall ?back\w*",
                r"\balternatives?\b",
                r"\bpartial results?\b",
                r"\btry (?:again|another)\b",
                r"\breduce\b[^\n]{0,20}\b(?:input|size|scope)\b",
                r"\bincrease\b[^\n]{0,20}\b(?:timeout|memory|--timeout)\b",
            ),
        ),
    ),
    "APF-1": Rule(
        require=(
            _f(
                "how to choose the Actor for the target",
                r"\b(?:select|choose|pick)\b[^\n]{0,30}\bactors?\b",
                r"\bactor selection\b",
                r"\|\s*actor(?: id)?\s*\|",
            ),
            _f(
                "what to do when no known Actor fits (Store search)",
                r"\bsearch\b[^\n]{0,20}\b(?:apify )?store\b",
                r"\bsearch[_-]actors\b",
                r"\bnone of the actors\b",
                r"\bcan'?t find a suitable actor\b",
                r"\bno (?:suitable|matching) actor\b",
            ),
        ),
    ),
    "APF-2": Rule(
        collection=False,
        require=(
            _f(
                "fetching the Actor's input schema before building the input",
                r"\binput schema\b",
                r"\binput_schema\.json\b",
                r"\bfetch[-_ ]actor[-_ ]details\b",
                r"\bactor schema\b",
            ),
        ),
    ),
    "APF-3": Rule(
        collection=False,
        require=(
            _f(
                "where the Apify token comes from (environment or .env)",
                r"\.env\b[^\n]{0,40}\bAPIFY_TOKEN\b",
                r"\bAPIFY_TOKEN\b[^\n]{0,60}\b(?:environment|env var|\.env)\b",
                r"\bexport APIFY_TOKEN\b",
                r"\benv(?:ironment)? var\w*\b[^\n]{0,40}\btoken\b",
            ),
            _f(
                "what happens without the token",
                r"\btoken not found\b",
                r"\bwithout (?:a|the|an) (?:api )?token\b",
                r"\bnot logged in\b",
                r"\bif\b[^\n]{0,30}\btoken\b[^\n]{0,30}\b(?:missing|not (?:set|defined|found))\b",
                r"\bif it is not (?:logged in|defined|set)\b",
            ),
        ),
    ),
    "APF-4": Rule(
        require=(
            _f(
                "usage cost (compute units, pay-per-result, credits, budget)",
                r"\bcosts?\b",
                r"\bcompute units?\b",
                r"\b(?:actor|apify|usage|platform)\s+pricing\b",
                r"\bpricing (?:model|plan|tier)\b",
                r"\bpay[- ]per[- ](?:result|event|usage)\b",
                r"\bbudget\b",
                r"\b(?:apify )?credits\b",
                exact=r"\bCUs?\b",
            ),
        ),
        when=(
            (
                "volume",
                _f(
                    "a small test run before the large one",
                    r"\b(?:small|test|trial|sample)\s+(?:run|batch|scrape)\b",
                    r"\bstart (?:small|with a (?:few|small))\b",
                    r"\bdefault to \d+\b",
                    r"\bwarn\b[^\n]{0,40}\blarge\b",
                ),
            ),
        ),
    ),
    "APF-5": Rule(
        require=(
            _f(
                "a result cap (maxItems or equivalent)",
                r"\bmax(?:Items|Results|CrawledPages|\w*Results|\w*Items)\b",
                r"\bresultsLimit\b",
                r"\bresults? limit\b",
                r"\blimit\b[^\n]{0,20}\b(?:results|items)\b",
                r"\bcap\b[^\n]{0,20}\b(?:results|items)\b",
            ),
        ),
        when=(
            (
                "volume",
                _f(
                    "handling large volumes in batches",
                    r"\bbatch\w*",
                    r"\bpaginat\w*",
                    r"\bin chunks\b",
                    r"\bsplit\b[^\n]{0,20}\b(?:runs?|jobs?|input|requests?)\b",
                ),
            ),
        ),
    ),
    "APF-6": Rule(
        require=(
            _f(
                "where results land (dataset, key-value store)",
                r"\bdatasets?\b",
                r"\bkey[- ]value stores?\b",
            ),
            _f(
                "how to fetch or export them",
                r"\bexport\w*\b[^\n]{0,30}\b(?:results?|data|datasets?|items|CSV|JSON|Excel)\b",
                r"\bdownload\w*",
                r"--output\b",
                r"--format\b",
                r"\bget[- ]?dataset\w*",
                r"\bdataset items\b",
                r"\blistItems\b",
                r"\bfetch\b[^\n]{0,20}\b(?:results|items|dataset)\b",
            ),
        ),
    ),
    "APF-7": Rule(
        relevant_if=frozenset({"geo", "blocking"}),
        collection=False,
        require=(
            _f(
                "proxy configuration",
                r"\bprox(?:y|ies)\b",
                r"\bproxyConfiguration\b",
                r"\bresidential\b",
            ),
        ),
        when=(
            (
                "geo",
                _f(
                    "country-specific proxies",
                    r"\bcountryCode\b",
                    r"\bapifyProxyCountry\b",
                    r"\bprox(?:y|ies)\b[^\n]{0,40}\bcountr(?:y|ies)\b",
                    r"\bcountr(?:y|ies)\b[^\n]{0,40}\bprox(?:y|ies)\b",
                ),
            ),
        ),
    ),
    "APF-8": Rule(
        relevant_if=frozenset({"recurring"}),
        require=(
            _f(
                "Apify schedules or saved tasks",
                r"\bschedul\w*",
                r"\b(?:saved|actor) tasks?\b",
                r"\bcron\b",
            ),
        ),
    ),
    "APF-9": Rule(
        relevant_if=frozenset({"integration", "recurring"}),
        require=(
            _f(
                "webhooks or integrations",
                r"\bwebhooks?\b",
                r"\bintegrations?\b",
                r"\b(?:zapier|n8n|make\.com|slack|airtable|google sheets)\b",
            ),
        ),
    ),
    "APF-10": Rule(
        require=(
            _f(
                "checking run status or logs",
                r"\brun status\b",
                r"\bstatus of the run\b",
                r"\b(?:check|inspect|read|view|watch|poll)\w*\b[^\n]{0,30}\b(?:logs?|status|console)\b",
                r"\bconsole link\b",
                exact=r"\b(?:SUCCEEDED|RUNNING|TIMED-OUT|ABORTED)\b",
            ),
            _f(
                "what to do when a run fails or stalls",
                r"\bfail(?:s|ed|ure)?\b",
                r"\bstall\w*",
                r"\bstuck\b",
                r"\btim(?:e|ed|es)[- ]?outs?\b",
            ),
        ),
    ),
    "APF-11": Rule(
        relevant_if=frozenset({"multi_source"}),
        require=(
            _f(
                "passing one Actor's output into the next",
                r"\bchain\w*",
                r"\bmulti-actor\b",
                r"\bpass\w*\b[^\n]{0,40}\b(?:output|results)\b[^\n]{0,20}\b(?:to|into)\b",
                r"\b(?:feed|pipe)\w*\b[^\n]{0,30}\b(?:output|results)\b",
                r"→",
            ),
            _f(
                "matching records across sources",
                r"\bmatch\w*\b[^\n]{0,20}\b(?:records?|by|on|across)\b",
                r"\bjoin\w*\b[^\n]{0,20}\b(?:on|by|records?)\b",
                r"\bmerg\w*",
                r"\bcross[- ]?referenc\w*",
                r"\benrich\w*",
            ),
        ),
    ),
    "APF-12": Rule(
        collection=False,
        require=(
            _f(
                "the tools the workflow needs",
                r"\bprerequisites?\b",
                r"\bnode(?:\.js)?\s*v?\d",
                r"\bpython\s*3",
                r"\bmcpc\b",
                r"\bapify[- ]cli\b|\bapify CLI\b",
                r"\bMCP (?:server|client)\b",
            ),
            _f(
                "how to install them",
                r"\b(?:npm|pip|brew|uv|pipx) install\b",
                r"\binstall(?:ed)? (?:via|with|using)\b",
            ),
        ),
    ),
    "APF-13": Rule(
        collection=False,
        relevant_if=frozenset({"heavy"}),
        require=(
            _f("a memory setting", r"\bmemory\w*", r"--memory\b"),
            _f(
                "a timeout setting",
                r"\btimeouts?\b",
                r"\btimeoutSecs\b",
                r"--timeout\b",
            ),
        ),
    ),
    "SEC-1": Rule(
        collection=False,
        require=(_ENV_TOKEN, _NEVER_EXPOSE),
        forbid=(_ASK_FOR_SECRET,),
    ),
    "SEC-4": Rule(
        collection=False,
        relevant_if=frozenset({"login"}),
        require=(
            _f(
                "a refusal to use the user's cookies or logins for private data",
                r"\b(?:do not|don'?t|never|refuse|won'?t|will not|must not|cannot)\b[^\n]{0,40}"
                r"\b(?:cookies?|sessions?|log ?ins?|logged[- ]in|passwords?|credentials|"
                r"private)\b",
                r"\bonly\b[^\n]{0,20}\bpublic(?:ly)?\b",
                r"\bpublic(?:ly available)? data only\b",
            ),
        ),
        weak=(
            _f(
                "a mention of public alternatives",
                r"\bpublic(?:ly)? (?:available|accessible|visible)\b",
                r"\bpublic (?:alternatives?|sources?|pages|profiles|data)\b",
                r"\bad library\b",
            ),
        ),
        forbid=(_USE_USER_SESSION,),
    ),
    "SEC-5": Rule(
        collection=False,
        require=(),
        forbid=(_AUDITOR_DIRECTED,),
        whole_file=True,
    ),
}

NEGATION_RX = re.compile(
    r"\b(?:never|not|no|don'?t|do not|must not|avoid|refuse|without)\b", re.IGNORECASE
)
