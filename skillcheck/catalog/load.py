"""Loading a catalog folder: ``skills_manifest.yaml``, ``scenarios/*.yaml`` and the taxonomy.

Bad input raises one ``CatalogError`` that names the file (and the line where one is known)
and says what is wrong; a scenario whose target skill is missing from the manifest is only
reported in ``Catalog.warnings``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from skillcheck import bundled
from skillcheck.catalog.files import (
    DEFAULT_MAX_DOCUMENT_BYTES,
    DEFAULT_MAX_SKILL_BYTES,
    CatalogError,
    key_line,
    load_yaml,
    read_text,
    require_inside,
)
from skillcheck.catalog.model import (
    NO_SKILL,
    Catalog,
    Check,
    Domain,
    RoutingPrompt,
    Scenario,
    Skill,
    Taxonomy,
)
from skillcheck.vocabulary import Severity

DEFAULT_CHECKS_FILE = bundled.CHECKS_FILE
MAX_ROUTING_PROMPTS_PER_FILE = 500
MAX_ROUTING_TAGS = 10
MAX_ROUTING_TAG_CHARS = 64
# A domain id, skill name or scenario id is a URL path segment (``/heatmap/<domain>/``,
# ``/skills/<name>/``) and a database key: no "/", no control character, not "." or "..",
# at most as long as the database columns.
MAX_ID_CHARS = 200
_NOT_IN_IDS = re.compile(r"[/\x00-\x1f\x7f]")


def _line(node: Any) -> int | None:
    return getattr(node, "line", None)


def check_id(value: str, kind: str, path: Path, line: int | None) -> str:
    """``value`` if it can be a URL path segment and a database key, else a ``CatalogError``
    naming the file and line: pages link every domain, skill and scenario by its id."""
    problem = ""
    if not value.strip():
        problem = "is empty"
    elif value in (".", ".."):
        problem = "cannot be '.' or '..'"
    elif _NOT_IN_IDS.search(value):
        problem = "holds a '/' or a control character"
    elif len(value) > MAX_ID_CHARS:
        problem = f"is longer than {MAX_ID_CHARS} characters"
    if problem:
        raise CatalogError(
            path,
            f"{kind} {value!r} {problem}: ids name pages in URLs (/heatmap/<domain>/, "
            "/skills/<name>/); rename it",
            line,
        )
    return value


def _require(node: Any, keys: Iterable[str], path: Path, what: str) -> None:
    if not isinstance(node, dict):
        raise CatalogError(path, f"{what} must be a mapping", _line(node))
    missing = [k for k in keys if node.get(k) in (None, "")]
    if missing:
        raise CatalogError(
            path, f"{what} is missing required key(s): {', '.join(missing)}", _line(node)
        )


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
        check_id(str(name), "skill name", path, _line(entry))
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


# A routing prompt's tag naming the skill a near miss should lose to: "near:<skill>".
NEAR_TAG = "near:"

SeenIds = dict[str, tuple[Path, int | None]]
"""Every scenario and routing id read so far in the catalog: id -> (file, line)."""


def _seen_at(seen_ids: SeenIds, value: str) -> str:
    path, line = seen_ids[value]
    return f"{path}:{line}" if line else str(path)


def _load_scenario_file(
    path: Path,
    skills: dict[str, Skill],
    warnings: list[str],
    seen_ids: SeenIds,
    max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
    text: str | None = None,
) -> Domain:
    """One domain or category file (``text``: what it would hold, if not what it holds);
    ``seen_ids`` spans the whole catalog."""
    data = load_yaml(path, max_bytes, text)
    if not isinstance(data, dict):
        raise CatalogError(path, "a scenario file must be a mapping with 'scenarios'")
    if "category" in data:
        kind, domain_id = "category", str(data["category"]).lower()
        _require(data, ["category", "scenarios"], path, "category file")
        file_models = _models(
            data.get("default_models"), path, "category file", key_line(data, "default_models")
        )
    else:
        kind = "domain"
        _require(data, ["domain", "target_skill", "scenarios"], path, "domain file")
        domain_id, file_models = str(data["domain"]), ()
    check_id(domain_id, "domain id", path, key_line(data, kind))
    if not isinstance(data["scenarios"], list):
        raise CatalogError(path, "'scenarios' must be a list", key_line(data, "scenarios"))
    scenarios: list[Scenario] = []
    for index, raw in enumerate(data["scenarios"], start=1):
        what = f"scenario #{index}"
        required = ["id", "name", "prompt"] + (["target_skill"] if kind == "category" else [])
        if isinstance(raw, dict) and raw.get("id"):
            what = f"scenario {raw['id']!r}"
        if isinstance(raw, dict) and "prompt" in raw and not str(raw["prompt"] or "").strip():
            raise CatalogError(path, f"{what} has an empty prompt", key_line(raw, "prompt"))
        _require(raw, required, path, what)
        line = _line(raw)
        if not isinstance(raw["prompt"], str):
            raise CatalogError(path, f"{what}: 'prompt' must be text", key_line(raw, "prompt"))
        id_line = key_line(raw, "id")
        scenario_id = check_id(str(raw["id"]), "scenario id", path, id_line)
        if scenario_id in seen_ids:
            raise CatalogError(
                path,
                f"duplicate scenario id {scenario_id!r} (also in "
                f"{_seen_at(seen_ids, scenario_id)})",
                id_line,
            )
        seen_ids[scenario_id] = (path, id_line)
        models = _models(raw.get("models"), path, what, key_line(raw, "models")) or file_models
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
        routing=_routing_prompts(data, path, skills, seen_ids),
        line=key_line(data, kind),
    )


def _routing_prompts(
    data: dict, path: Path, skills: dict[str, Skill], seen_ids: SeenIds
) -> tuple[RoutingPrompt, ...]:
    """The file's ``routing:`` list, validated: each entry an id (unique in the catalog, as
    scenario ids are), a prompt, ``expected`` (a skill of the manifest or ``none``) and
    optional ``tags``; nothing outside the catalog, and bounded."""
    raw_list = data.get("routing")
    if raw_list is None:
        return ()
    if not isinstance(raw_list, list):
        raise CatalogError(
            path, "'routing' must be a list of {id, prompt, expected}", key_line(data, "routing")
        )
    if len(raw_list) > MAX_ROUTING_PROMPTS_PER_FILE:
        raise CatalogError(
            path,
            f"'routing' holds {len(raw_list)} prompts; at most "
            f"{MAX_ROUTING_PROMPTS_PER_FILE} a file",
            key_line(data, "routing"),
        )
    prompts: list[RoutingPrompt] = []
    for index, raw in enumerate(raw_list, start=1):
        what = f"routing prompt #{index}"
        if isinstance(raw, dict) and raw.get("id"):
            what = f"routing prompt {raw['id']!r}"
        # An empty prompt is there but empty: say so, not that the key is missing.
        empty_prompt = isinstance(raw, dict) and "prompt" in raw and not raw["prompt"]
        if not empty_prompt:
            _require(raw, ["id", "prompt", "expected"], path, what)
        line = _line(raw)
        if empty_prompt or not isinstance(raw["prompt"], str) or not raw["prompt"].strip():
            raise CatalogError(
                path, f"{what}: 'prompt' must be non-empty text", key_line(raw, "prompt")
            )
        case_id = str(raw["id"])
        if case_id in seen_ids:
            raise CatalogError(
                path,
                f"duplicate scenario id {case_id!r} (also in {_seen_at(seen_ids, case_id)})",
                key_line(raw, "id"),
            )
        seen_ids[case_id] = (path, key_line(raw, "id"))
        expected = raw["expected"]
        if not isinstance(expected, str) or (expected != NO_SKILL and expected not in skills):
            raise CatalogError(
                path,
                f"{what}: 'expected' is {expected!r}; expected a skill of the manifest "
                f"({', '.join(skills)}) or {NO_SKILL!r}",
                key_line(raw, "expected"),
            )
        tags = raw.get("tags") or []
        if isinstance(tags, str):
            tags = [tags]
        if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
            raise CatalogError(
                path, f"{what}: 'tags' must be a list of words", key_line(raw, "tags")
            )
        near = [t.strip()[len(NEAR_TAG) :] for t in tags if t.strip().startswith(NEAR_TAG)]
        outside = [n for n in near if n not in skills]
        if outside:  # a near miss names the skill it should lose to: one of the catalog's
            raise CatalogError(
                path,
                f"{what}: tag '{NEAR_TAG}{outside[0]}' names no skill of the manifest "
                f"({', '.join(skills)})",
                key_line(raw, "tags"),
            )
        if len(tags) > MAX_ROUTING_TAGS or any(len(t) > MAX_ROUTING_TAG_CHARS for t in tags):
            raise CatalogError(
                path,
                f"{what}: at most {MAX_ROUTING_TAGS} tags of at most "
                f"{MAX_ROUTING_TAG_CHARS} characters",
                line,
            )
        prompts.append(
            RoutingPrompt(
                id=case_id,
                prompt=raw["prompt"].strip(),
                expected=expected,
                tags=tuple(dict.fromkeys(t.strip() for t in tags)),
                source=path,
                line=line,
            )
        )
    return tuple(prompts)


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
    skill.check_total_size(paths)


def load_catalog(
    root: Path | str,
    checks_path: Path | None = None,
    *,
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
    max_skill_bytes: int = DEFAULT_MAX_SKILL_BYTES,
    scenario_texts: Mapping[str, str | None] | None = None,
) -> Catalog:
    """Load ``skills_manifest.yaml``, ``scenarios/*.yaml`` and the taxonomy from ``root``.

    ``scenario_texts``: file name in ``scenarios/`` -> the text it would hold (``None``: as
    if deleted), read instead of the disk: the catalog as it would be after an edit, which
    the scenario editor saves only if this loads.

    The taxonomy is ``checks_path``, else the catalog's own ``checks.yaml``, else the
    project's default one. Every file read (SKILL.md, references, YAML) must be at most
    ``max_document_bytes``; every file read must lie inside the catalog folder, links
    followed (a skill's reference file that does not is skipped with a warning; any other
    file is an error). A skill's files together must be at most ``max_skill_bytes``, and
    every domain id, skill name and scenario id must be able to name a page (``check_id``).
    """
    root = Path(root).resolve()
    try:
        return _load_catalog(
            root, checks_path, max_document_bytes, max_skill_bytes, scenario_texts or {}
        )
    except CatalogError as exc:
        exc.root = root
        raise


def load_scenario_file(
    root: Path | str,
    name: str,
    text: str | None = None,
    *,
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
) -> Domain:
    """``scenarios/NAME`` of the catalog at ``root`` (or ``text`` as if it held it), checked
    on its own against the manifest: the rules of one file, without the other files' (a
    catalog broken by another file still lets this one be checked)."""
    root = Path(root).resolve()
    try:
        skills = load_manifest(root / "skills_manifest.yaml", root, max_document_bytes)
        path = require_inside(root / "scenarios" / name, root)
        return _load_scenario_file(path, skills, [], {}, max_document_bytes, text)
    except CatalogError as exc:
        exc.root = root
        raise


def scenario_file_paths(
    root: Path, scenario_texts: Mapping[str, str | None] | None = None
) -> list[Path]:
    """The catalog's scenario files in load order (``*.yaml`` then ``*.yml``, each sorted),
    with ``scenario_texts``' new files added and its ``None`` ones left out."""
    folder = root / "scenarios"
    names = {p.name for pattern in ("*.yaml", "*.yml") for p in folder.glob(pattern)}
    for name, text in (scenario_texts or {}).items():
        (names.add if text is not None else names.discard)(name)
    return [folder / n for n in sorted(names, key=lambda n: (n.endswith(".yml"), n))]


def _load_catalog(
    root: Path,
    checks_path: Path | None,
    max_document_bytes: int,
    max_skill_bytes: int,
    scenario_texts: Mapping[str, str | None],
) -> Catalog:
    if not root.is_dir():
        raise CatalogError(root, "catalog folder not found")
    manifest = root / "skills_manifest.yaml"
    if not manifest.is_file():
        raise CatalogError(manifest, "manifest not found (a catalog needs skills_manifest.yaml)")
    require_inside(manifest, root)
    if checks_path is None:
        own = root / "checks.yaml"
        checks_path = require_inside(own, root) if own.is_file() else DEFAULT_CHECKS_FILE
    taxonomy = load_taxonomy(checks_path)
    skills = {
        name: dataclasses.replace(skill, max_skill_bytes=max_skill_bytes)
        for name, skill in load_manifest(manifest, root, max_document_bytes).items()
    }
    warnings: list[str] = []
    for skill in skills.values():
        _check_documents(skill, warnings)
    domains: dict[str, Domain] = {}
    seen_ids: SeenIds = {}
    routing: list[RoutingPrompt] = []
    files = scenario_file_paths(root, scenario_texts)
    if not files:
        raise CatalogError(root / "scenarios", "no scenario files (*.yaml) found")
    for path in files:
        require_inside(path, root)
        domain = _load_scenario_file(
            path, skills, warnings, seen_ids, max_document_bytes, scenario_texts.get(path.name)
        )
        if domain.id in domains:
            first = domains[domain.id]
            raise CatalogError(
                path,
                f"duplicate domain {domain.id!r} (also in {first.source}:{first.line})",
                domain.line,
            )
        if domain.scenarios:
            domains[domain.id] = domain
        routing.extend(domain.routing)
    return Catalog(
        root=root,
        skills=skills,
        domains=domains,
        taxonomy=taxonomy,
        warnings=warnings,
        routing=routing,
    )
