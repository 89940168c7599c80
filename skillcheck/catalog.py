"""The catalog: skills, scenarios grouped in domains, and the check taxonomy.

Everything here is data read from YAML and Markdown. Bad input raises one ``CatalogError``
that names the file (and the line where one is known) and says what is wrong; a scenario
whose target skill is missing from the manifest is only reported in ``Catalog.warnings``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from skillcheck import bundled
from skillcheck.text import clean_data, clean_text
from skillcheck.vocabulary import Severity

DEFAULT_CHECKS_FILE = bundled.CHECKS_FILE
GROUP_ORDER = ("WF", "DK", "BP", "APF", "SEC")
# Every file read from a catalog (SKILL.md, references, YAML) is refused above this size: a
# document is sent whole with every task. The web app and commands pass their setting.
DEFAULT_MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
# YAML limits: aliases may not expand a file beyond this many values (an "alias bomb" of a few
# lines otherwise takes gigabytes), and nesting stops here (instead of a RecursionError).
MAX_YAML_VALUES = 100_000
MAX_YAML_DEPTH = 64


class UnknownDomains(KeyError):
    """Domain names the catalog does not have; the message lists the valid ones."""

    def __str__(self) -> str:
        return str(self.args[0])


class CatalogError(Exception):
    """A catalog file is unusable; the message names the file and what is wrong."""

    def __init__(self, path: Path | str, problem: str, line: int | None = None):
        self.path = Path(path)
        self.problem = problem
        self.line = line
        # The catalog folder being loaded (set by ``load_catalog``), so a page can name the
        # file relative to it instead of showing the server's layout.
        self.root: Path | None = None
        where = f"{self.path}:{line}" if line else str(self.path)
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Check:
    id: str
    group: str
    name: str
    severity: Severity
    description: str
    static: bool = False
    line: int | None = None  # where the check starts in its checks.yaml


@dataclass(frozen=True)
class Taxonomy:
    groups: dict[str, str]
    checks: tuple[Check, ...]
    dev_na: frozenset[str]
    path: Path | None = None

    @cached_property
    def by_id(self) -> dict[str, Check]:
        return {c.id: c for c in self.checks}

    @property
    def model_checks(self) -> tuple[Check, ...]:
        """The checks models are asked (all but the static BP ones)."""
        return tuple(c for c in self.checks if not c.static)

    @property
    def static_checks(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.static)

    def na_for(self, *, dev: bool) -> frozenset[str]:
        return self.dev_na if dev else frozenset()


@dataclass(frozen=True)
class Skill:
    name: str
    path: Path  # resolved, inside the catalog
    category: str = ""
    generalist: bool = False
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def is_dev(self) -> bool:
        return self.category == "dev"

    def document_paths(self) -> tuple[list[Path], list[Path]]:
        """(SKILL.md then every other Markdown file of the folder, sorted; links skipped).

        Only what resolves inside the skill's folder is sent to a model: a file or folder
        that is a symlink to somewhere else (a secret next to the catalog, ``/etc``) is
        skipped and returned second, for the catalog's warnings.
        """
        found: list[Path] = []
        skipped: list[Path] = []
        for folder, subfolders, files in os.walk(self.root):  # does not enter linked folders
            for name in sorted(subfolders):
                linked = Path(folder, name)
                if linked.is_symlink() and not _inside(linked, self.root):
                    skipped.append(linked)
            for name in files:
                path = Path(folder, name)
                if not name.endswith(".md") or path == self.path:
                    continue
                (found if _inside(path, self.root) else skipped).append(path)
        return [self.path, *sorted(found)], sorted(skipped)

    def documents(self) -> list[tuple[Path, str]]:
        """SKILL.md first, then every other Markdown file in the skill's folder, sorted."""
        paths, _ = self.document_paths()
        return [(p, read_text(p, self.max_document_bytes)) for p in paths]

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for path, text in self.documents():
            digest.update(str(path.relative_to(self.root)).encode())
            digest.update(b"\0" + text.encode() + b"\0")
        return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Scenario:
    id: str
    name: str
    prompt: str
    domain: str
    specialist: str
    target_skills: tuple[str, ...]
    is_dev: bool
    models: tuple[str, ...] = ()
    source: Path | None = None
    line: int | None = None

    def fingerprint(self) -> str:
        text = "\0".join([self.prompt, self.specialist, *self.target_skills])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Domain:
    id: str
    kind: str  # "domain" (one specialist per file) or "category" (WF/DK/APF/SEC files)
    source: Path
    scenarios: tuple[Scenario, ...]
    specialist: str = ""

    @property
    def skills(self) -> tuple[str, ...]:
        """Every skill audited in this domain, in first-seen order."""
        seen: dict[str, None] = {}
        for scenario in self.scenarios:
            seen.update(dict.fromkeys(scenario.target_skills))
        return tuple(seen)

    @property
    def is_dev(self) -> bool:
        return bool(self.scenarios) and all(s.is_dev for s in self.scenarios)


@dataclass
class Catalog:
    root: Path
    skills: dict[str, Skill]
    domains: dict[str, Domain]
    taxonomy: Taxonomy
    warnings: list[str] = field(default_factory=list)

    @property
    def scenarios(self) -> list[Scenario]:
        return [s for d in self.domains.values() for s in d.scenarios]

    def select_domains(self, names: Sequence[str] | None) -> list[str]:
        """The named domains in catalog order (all of them for None or none): the one check
        of domain names, for the planner, the engine and every caller."""
        wanted = set(names or ())
        unknown = [d for d in dict.fromkeys(names or ()) if d not in self.domains]
        if unknown:
            raise UnknownDomains(
                f"unknown domain(s): {', '.join(unknown)}; valid domains: {', '.join(self.domains)}"
            )
        return [d for d in self.domains if not wanted or d in wanted]

    def scenario(self, scenario_id: str) -> Scenario:
        for s in self.scenarios:
            if s.id == scenario_id:
                return s
        raise KeyError(scenario_id)

    def fingerprints(self) -> dict[str, dict[str, str]]:
        """Per-skill and per-scenario content hashes, to tell what changed since a run."""
        return {
            "skills": {name: skill.fingerprint() for name, skill in self.skills.items()},
            "scenarios": {s.id: s.fingerprint() for s in self.scenarios},
        }

    def fingerprint(self) -> str:
        parts = self.fingerprints()
        digest = hashlib.sha256()
        for kind in ("skills", "scenarios"):
            for key, value in sorted(parts[kind].items()):
                digest.update(f"{kind}:{key}={value}\n".encode())
        return digest.hexdigest()[:16]


def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path``, links followed, is ``folder`` itself or lies under it."""
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        return False


def _require_inside(path: Path, root: Path) -> Path:
    """``path`` if, links followed, it lies inside the catalog folder ``root``; else a
    ``CatalogError``: a catalog file linked to somewhere else (``/etc``, a secret beside the
    catalog) would be read and its text shown or sent to models."""
    if not _inside(path, root):
        raise CatalogError(
            path,
            f"links outside the catalog folder (to {path.resolve()}); every catalog file "
            "must lie inside the catalog folder",
        )
    return path


# --- YAML with line numbers and limits ------------------------------------------------------


class YAMLLimitError(yaml.YAMLError):
    """A YAML file over a limit; shaped like PyYAML's errors (``problem``, ``problem_mark``)."""

    def __init__(self, problem: str, mark: Any):
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark


class _LineDict(dict):
    line: int | None = None


class _Limits:
    """Composition with aliases and nesting bounded (``YAMLLimitError``), for any loader.

    Composition counts every value, an alias counting as the whole value it repeats, so
    nested aliases that would expand a short file to billions of values stop at
    ``MAX_YAML_VALUES``; composition recurses per level, so nesting stops at ``MAX_YAML_DEPTH``.
    """

    def _reset_limits(self) -> None:
        self._depth = 0
        self._values = 0
        self._sizes: dict[int, int] = {}  # id(node) -> values it stands for, aliases expanded

    def _count(self, values: int, mark: Any) -> None:
        self._values += values
        if self._values > MAX_YAML_VALUES:
            raise YAMLLimitError(
                f"aliases expand this file beyond {MAX_YAML_VALUES:,} values (an alias bomb?)",
                mark,
            )

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[attr-defined]
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)  # type: ignore[misc]
            size = self._sizes.get(id(node))
            if size is None:
                raise YAMLLimitError(
                    "an alias refers to a value that contains it", event.start_mark
                )
            self._count(size, event.start_mark)
            return node
        self._depth += 1
        if self._depth > MAX_YAML_DEPTH:
            raise YAMLLimitError(f"nested deeper than {MAX_YAML_DEPTH} levels", event.start_mark)
        try:
            node = super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self._depth -= 1
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        else:
            children = []
        self._sizes[id(node)] = 1 + sum(self._sizes[id(child)] for child in children)
        self._count(1, event.start_mark)
        return node


class LimitedLoader(_Limits, yaml.SafeLoader):
    """PyYAML's safe loader with aliases and nesting bounded (see ``_Limits``)."""

    def __init__(self, stream: Any):
        super().__init__(stream)
        self._reset_limits()


def safe_yaml_load(text: str) -> Any:
    """``yaml.safe_load`` with the limits of ``LimitedLoader``, for YAML outside the catalog
    files (SKILL.md frontmatter)."""
    return yaml.load(text, Loader=LimitedLoader)


class _LineMappings(yaml.constructor.SafeConstructor):
    """Mappings that remember the line they start on, for messages."""

    def construct_mapping(self, node: Any, deep: bool = False) -> _LineDict:
        mapping = _LineDict(super().construct_mapping(node, deep=deep))
        mapping.line = node.start_mark.line + 1
        return mapping


class _LineLoader(_LineMappings, LimitedLoader):
    """A limited safe loader whose mappings remember their line: pure Python."""


_LineLoader.add_constructor(  # type: ignore[type-var]  # the stubs know only PyYAML's loaders
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LineLoader.construct_mapping
)

_FastLineLoader: type | None = None
if getattr(yaml, "__with_libyaml__", False):
    from yaml._yaml import CParser

    class _CLineLoader(
        _LineMappings,
        _Limits,
        yaml.composer.Composer,
        CParser,
        yaml.constructor.SafeConstructor,
        yaml.resolver.Resolver,
    ):
        """``_LineLoader`` with libyaml scanning and parsing: the same limits and line
        numbers (composition stays in Python), a quarter of the time on a large catalog."""

        def __init__(self, stream: Any):
            CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self._reset_limits()

    _CLineLoader.add_constructor(  # type: ignore[type-var]
        yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _CLineLoader.construct_mapping
    )
    _FastLineLoader = _CLineLoader


def read_text(path: Path, max_bytes: int | None = DEFAULT_MAX_DOCUMENT_BYTES) -> str:
    """Read a UTF-8 file of at most ``max_bytes``; any problem is a ``CatalogError`` naming it.

    NUL becomes U+FFFD (``skillcheck.text``): catalog text reaches the database and reports.
    """
    try:
        with open(path, "rb") as handle:
            raw = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise CatalogError(path, "file not found") from None
    except OSError as exc:
        raise CatalogError(path, f"cannot be read ({exc.strerror or exc})") from None
    if max_bytes is not None and len(raw) > max_bytes:
        raise CatalogError(
            path,
            f"file is larger than the limit of {max_bytes:,} bytes for a catalog document "
            "(SKILLCHECK_MAX_DOCUMENT_BYTES)",
        )
    try:
        return clean_text(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CatalogError(path, f"not valid UTF-8 (byte {exc.start})") from None


def _parse_yaml(text: str) -> Any:
    """A catalog file's YAML: with libyaml if PyYAML has it, else (or if libyaml refuses the
    text) in pure Python, whose verdict decides: libyaml refuses some text PyYAML reads (a
    surrogate escape such as "\\ud800") and stops nesting at its own depth."""
    if _FastLineLoader is not None:
        try:
            return yaml.load(text, Loader=_FastLineLoader)
        except yaml.YAMLError:
            pass
    return yaml.load(text, Loader=_LineLoader)


def load_yaml(path: Path, max_bytes: int | None = DEFAULT_MAX_DOCUMENT_BYTES) -> Any:
    text = read_text(path, max_bytes)
    try:
        # YAML escapes ("\0", "\ud800") make what the file's bytes could not hold.
        return clean_data(_parse_yaml(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise CatalogError(path, f"invalid YAML: {problem}", line) from None


def _line(node: Any) -> int | None:
    return getattr(node, "line", None)


def _require(node: Any, keys: Iterable[str], path: Path, what: str) -> None:
    if not isinstance(node, dict):
        raise CatalogError(path, f"{what} must be a mapping", _line(node))
    missing = [k for k in keys if node.get(k) in (None, "")]
    if missing:
        raise CatalogError(
            path, f"{what} is missing required key(s): {', '.join(missing)}", _line(node)
        )


# --- Loading ------------------------------------------------------------------------------


def load_taxonomy(path: Path = DEFAULT_CHECKS_FILE) -> Taxonomy:
    data = load_yaml(path)
    _require(data, ["groups", "checks"], path, "checks file")
    groups_raw = data["groups"]
    if not isinstance(groups_raw, dict):
        raise CatalogError(path, "'groups' must be a mapping of code to {name}", _line(data))
    # A group is {name, static?} or just its name.
    groups_raw = {code: g if isinstance(g, dict) else {"name": g} for code, g in groups_raw.items()}
    groups = {code: str(g.get("name") or code) for code, g in groups_raw.items()}
    static_groups = {code for code, g in groups_raw.items() if g.get("static")}
    checks: list[Check] = []
    seen: set[str] = set()
    for raw in data["checks"] or []:
        _require(raw, ["id", "name", "severity", "description"], path, "check")
        check_id = str(raw["id"])
        group = raw.get("group") or check_id.split("-")[0]
        if group not in groups:
            raise CatalogError(path, f"check {check_id} names unknown group {group!r}", _line(raw))
        severity = str(raw["severity"]).upper()
        if severity not in Severity._value2member_map_:
            raise CatalogError(
                path,
                f"check {check_id} has severity {raw['severity']!r}; "
                f"expected one of {', '.join(reversed(Severity))}",
                _line(raw),
            )
        if check_id in seen:
            raise CatalogError(path, f"duplicate check id {check_id}", _line(raw))
        seen.add(check_id)
        checks.append(
            Check(
                id=check_id,
                group=group,
                name=str(raw["name"]),
                severity=Severity(severity),
                description=str(raw["description"]).strip(),
                static=group in static_groups,
                line=_line(raw),
            )
        )
    dev_na = frozenset(str(c) for c in data.get("dev_na") or [])
    unknown = sorted(dev_na - seen)
    if unknown:
        raise CatalogError(path, f"dev_na names unknown check(s): {', '.join(unknown)}")
    return Taxonomy(groups=groups, checks=tuple(checks), dev_na=dev_na, path=path)


def load_manifest(
    path: Path, root: Path | None = None, max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES
) -> dict[str, Skill]:
    """The manifest's skills; every SKILL.md must resolve inside ``root`` (default: the
    manifest's folder), so a manifest cannot send ``/etc/hostname`` to a model."""
    root = (root or path.parent).resolve()
    data = load_yaml(path, max_document_bytes)
    _require(data, ["skills"], path, "manifest")
    if not isinstance(data["skills"], dict):
        raise CatalogError(path, "'skills' must be a mapping of skill name to {path, ...}")
    skills: dict[str, Skill] = {}
    for name, entry in data["skills"].items():
        _require(entry, ["path"], path, f"skill {name!r}")
        if not isinstance(entry["path"], str):
            raise CatalogError(path, f"skill {name!r}: 'path' must be text", _line(entry))
        skill_path = Path(entry["path"])
        if not skill_path.is_absolute():
            skill_path = (path.parent / skill_path).resolve()
        skill_path = skill_path.resolve()
        if not skill_path.is_relative_to(root):
            raise CatalogError(
                path,
                f"skill {name!r}: {entry['path']} resolves to {skill_path}, outside the "
                "catalog folder",
                _line(entry),
            )
        if not skill_path.is_file():
            raise CatalogError(
                path, f"skill {name!r}: SKILL.md not found at {skill_path}", _line(entry)
            )
        read_text(skill_path, max_document_bytes)
        skills[str(name)] = Skill(
            name=str(name),
            path=skill_path,
            category=str(entry.get("category") or ""),
            generalist=bool(entry.get("generalist", False)),
            max_document_bytes=max_document_bytes,
        )
    return skills


def target_skills_for(specialist: Skill, skills: dict[str, Skill]) -> tuple[str, ...]:
    """The specialist plus every generalist, except in dev domains (specialist only)."""
    if specialist.is_dev:
        return (specialist.name,)
    generalists = [s.name for s in skills.values() if s.generalist and s.name != specialist.name]
    return (specialist.name, *generalists)


def _models(value: Any, path: Path, what: str, line: int | None) -> tuple[str, ...]:
    """A list of model names; one bare name counts as a list of one."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(m, str) for m in value):
        raise CatalogError(path, f"{what}: 'models' must be a list of model names", line)
    return tuple(value)


def _load_scenario_file(
    path: Path,
    skills: dict[str, Skill],
    warnings: list[str],
    seen_ids: dict[str, Path],
    max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
) -> Domain:
    """One domain or category file; ``seen_ids`` (id -> file) spans the whole catalog."""
    data = load_yaml(path, max_bytes)
    if not isinstance(data, dict):
        raise CatalogError(path, "a scenario file must be a mapping with 'scenarios'")
    if "category" in data:
        kind, domain_id = "category", str(data["category"]).lower()
        _require(data, ["category", "scenarios"], path, "category file")
        file_models = _models(data.get("default_models"), path, "category file", _line(data))
    else:
        kind = "domain"
        _require(data, ["domain", "target_skill", "scenarios"], path, "domain file")
        domain_id, file_models = str(data["domain"]), ()
    if not isinstance(data["scenarios"], list):
        raise CatalogError(path, "'scenarios' must be a list", _line(data))
    scenarios: list[Scenario] = []
    for index, raw in enumerate(data["scenarios"], start=1):
        what = f"scenario #{index}"
        required = ["id", "name", "prompt"] + (["target_skill"] if kind == "category" else [])
        if isinstance(raw, dict) and raw.get("id"):
            what = f"scenario {raw['id']!r}"
        if isinstance(raw, dict) and "prompt" in raw and not str(raw["prompt"] or "").strip():
            raise CatalogError(path, f"{what} has an empty prompt", _line(raw))
        _require(raw, required, path, what)
        line = _line(raw)
        if not isinstance(raw["prompt"], str):
            raise CatalogError(path, f"{what}: 'prompt' must be text", line)
        scenario_id = str(raw["id"])
        if scenario_id in seen_ids:
            raise CatalogError(
                path,
                f"duplicate scenario id {scenario_id!r} (also in {seen_ids[scenario_id]})",
                line,
            )
        seen_ids[scenario_id] = path
        models = _models(raw.get("models"), path, what, line) or file_models
        specialist_name = str(raw.get("target_skill") or data.get("target_skill"))
        if specialist_name not in skills:
            warnings.append(
                f"{path}:{line}: scenario {scenario_id!r} targets skill "
                f"{specialist_name!r}, which is not in the manifest; skipped"
            )
            continue
        specialist = skills[specialist_name]
        scenarios.append(
            Scenario(
                id=scenario_id,
                name=str(raw["name"]),
                prompt=raw["prompt"].strip(),
                domain=domain_id,
                specialist=specialist_name,
                target_skills=target_skills_for(specialist, skills),
                is_dev=specialist.is_dev,
                models=models,
                source=path,
                line=line,
            )
        )
    return Domain(
        id=domain_id,
        kind=kind,
        source=path,
        scenarios=tuple(scenarios),
        specialist=str(data.get("target_skill") or ""),
    )


def _check_documents(skill: Skill, warnings: list[str]) -> None:
    """Warn about linked files the skill will not send; refuse one over the size limit."""
    paths, skipped = skill.document_paths()
    for path in skipped:
        warnings.append(
            f"{path}: skill {skill.name!r}: links outside the skill's folder "
            f"(to {path.resolve()}); not sent to models"
        )
    for path in paths:
        try:
            size = path.stat().st_size
        except OSError:
            continue  # reported when the file is read
        if size > skill.max_document_bytes:
            read_text(path, skill.max_document_bytes)  # raises the CatalogError naming it


def load_catalog(
    root: Path | str,
    checks_path: Path | None = None,
    *,
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
) -> Catalog:
    """Load ``skills_manifest.yaml``, ``scenarios/*.yaml`` and the taxonomy from ``root``.

    The taxonomy is ``checks_path``, else the catalog's own ``checks.yaml``, else the
    project's default one. Every file read (SKILL.md, references, YAML) must be at most
    ``max_document_bytes``; every file read must lie inside the catalog folder, links
    followed (a skill's reference file that does not is skipped with a warning; any other
    file is an error).
    """
    root = Path(root).resolve()
    try:
        return _load_catalog(root, checks_path, max_document_bytes)
    except CatalogError as exc:
        exc.root = root
        raise


def _load_catalog(root: Path, checks_path: Path | None, max_document_bytes: int) -> Catalog:
    if not root.is_dir():
        raise CatalogError(root, "catalog folder not found")
    manifest = root / "skills_manifest.yaml"
    if not manifest.is_file():
        raise CatalogError(manifest, "manifest not found (a catalog needs skills_manifest.yaml)")
    _require_inside(manifest, root)
    if checks_path is None:
        own = root / "checks.yaml"
        checks_path = _require_inside(own, root) if own.is_file() else DEFAULT_CHECKS_FILE
    taxonomy = load_taxonomy(checks_path)
    skills = load_manifest(manifest, root, max_document_bytes)
    warnings: list[str] = []
    for skill in skills.values():
        _check_documents(skill, warnings)
    domains: dict[str, Domain] = {}
    seen_ids: dict[str, Path] = {}
    files = sorted((root / "scenarios").glob("*.yaml")) + sorted((root / "scenarios").glob("*.yml"))
    if not files:
        raise CatalogError(root / "scenarios", "no scenario files (*.yaml) found")
    for path in files:
        _require_inside(path, root)
        domain = _load_scenario_file(path, skills, warnings, seen_ids, max_document_bytes)
        if domain.id in domains:
            raise CatalogError(
                path, f"duplicate domain {domain.id!r} (also in {domains[domain.id].source})"
            )
        if domain.scenarios:
            domains[domain.id] = domain
    return Catalog(root=root, skills=skills, domains=domains, taxonomy=taxonomy, warnings=warnings)
