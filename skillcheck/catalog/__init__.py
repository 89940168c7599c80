"""The catalog: skills, scenarios grouped in domains, and the check taxonomy.

Everything here is data read from YAML and Markdown: ``files`` reads a catalog's files
safely, ``model`` is what they describe, ``load`` reads a catalog folder into it. This face
names what callers use.
"""

from skillcheck.catalog.files import (
    DEFAULT_MAX_DOCUMENT_BYTES,
    MAX_YAML_DEPTH,
    MAX_YAML_VALUES,
    CatalogError,
    LimitedLoader,
    YAMLLimitError,
    load_yaml,
    read_text,
    safe_yaml_load,
)
from skillcheck.catalog.load import (
    DEFAULT_CHECKS_FILE,
    load_catalog,
    load_manifest,
    load_scenario_file,
    load_taxonomy,
    scenario_file_paths,
    target_skills_for,
)
from skillcheck.catalog.model import (
    GROUP_ORDER,
    NO_SKILL,
    Catalog,
    Check,
    Domain,
    RoutingPrompt,
    Scenario,
    Skill,
    Taxonomy,
    UnknownDomains,
)

__all__ = [
    "DEFAULT_CHECKS_FILE",
    "DEFAULT_MAX_DOCUMENT_BYTES",
    "GROUP_ORDER",
    "MAX_YAML_DEPTH",
    "MAX_YAML_VALUES",
    "NO_SKILL",
    "Catalog",
    "CatalogError",
    "Check",
    "Domain",
    "LimitedLoader",
    "RoutingPrompt",
    "Scenario",
    "Skill",
    "Taxonomy",
    "UnknownDomains",
    "YAMLLimitError",
    "load_catalog",
    "load_manifest",
    "load_scenario_file",
    "load_taxonomy",
    "load_yaml",
    "read_text",
    "safe_yaml_load",
    "scenario_file_paths",
    "target_skills_for",
]
