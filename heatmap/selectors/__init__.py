"""Reads for the heatmap pages, the API and the commands: the newest result per (scenario,
skill, model), and runs.

A face: each job lives in its own module (``catalog``, ``catalogs``, ``newest``, ``overview``,
``matrix``, ``detail``, ``runs``, ``lint``, ``compare``, ``agreement``, ``skill``, with
``filters``, ``counts``, ``stale``, ``response_cache`` and ``results`` under them); callers write
``from heatmap import selectors`` and ``selectors.heatmap_overview(...)``. Patch a name in the
module that owns it: patching it here does not reach the modules that call it.
"""

from heatmap.selectors.agreement import DisputedCheck, heatmap_agreement, heatmap_disputed_checks
from heatmap.selectors.catalog import CatalogError, catalog_current, catalog_load
from heatmap.selectors.catalogs import (
    NO_CATALOG,
    CatalogScope,
    UnknownCatalog,
    catalog_list,
    catalog_list_with_counts,
    catalog_scope,
    configured_catalog_id,
)
from heatmap.selectors.check_quality import CheckQuality, heatmap_check_quality
from heatmap.selectors.compare import (
    Comparison,
    Flip,
    RunsOfDifferentCatalogs,
    run_comparison,
    run_previous,
    run_task_checks,
)
from heatmap.selectors.counts import NOT_RUN, RESULT_ORDER
from heatmap.selectors.detail import CellDetail, heatmap_cell_detail, stale_reason
from heatmap.selectors.filters import SEVERITIES, SORTS, HeatmapFilter, model_order
from heatmap.selectors.lint import LintTable, lint_findings, lint_matrix, lint_paths, lint_table
from heatmap.selectors.matrix import (
    DomainMatrix,
    MatrixCell,
    MatrixColumn,
    MatrixRow,
    ScenarioHead,
    SkillResult,
    heatmap_domain_matrix,
    heatmap_task_times,
    skill_labels,
)
from heatmap.selectors.newest import (
    OVERVIEW_CACHE_S,
    newest_task_ids,
    newest_tasks,
    results_version,
)
from heatmap.selectors.overview import (
    ModelCell,
    ModelTotals,
    OverviewTable,
    SkillRow,
    heatmap_overview,
    heatmap_overview_table,
)
from heatmap.selectors.response_cache import (
    CACHE_LOOKUP_CHUNK,
    CACHE_LOOKUP_FIELDS,
    StoredResultCache,
)
from heatmap.selectors.runs import (
    NOT_YOUR_RUN,
    GroupTotals,
    RunSummary,
    run_active,
    run_cache_totals,
    run_get,
    run_list,
    run_may_change,
    run_progress,
    run_result_tables,
    run_summary,
    run_tasks_to_do,
)
from heatmap.selectors.skill import SkillHistory, SkillRunPoint, skill_history
from heatmap.selectors.skill_files import (
    SKILL_FILE,
    SkillFile,
    SkillFileNotFound,
    skill_file,
    skill_file_names,
)
from heatmap.selectors.stale import catalog_fingerprinter, stale_keys, stale_tasks

__all__ = [
    "CACHE_LOOKUP_CHUNK",
    "CACHE_LOOKUP_FIELDS",
    "NOT_RUN",
    "NOT_YOUR_RUN",
    "NO_CATALOG",
    "OVERVIEW_CACHE_S",
    "RESULT_ORDER",
    "SEVERITIES",
    "SKILL_FILE",
    "SORTS",
    "CatalogError",
    "CatalogScope",
    "CellDetail",
    "CheckQuality",
    "Comparison",
    "DisputedCheck",
    "DomainMatrix",
    "Flip",
    "GroupTotals",
    "HeatmapFilter",
    "LintTable",
    "MatrixCell",
    "MatrixColumn",
    "MatrixRow",
    "ModelCell",
    "ModelTotals",
    "OverviewTable",
    "RunSummary",
    "RunsOfDifferentCatalogs",
    "ScenarioHead",
    "SkillFile",
    "SkillFileNotFound",
    "SkillHistory",
    "SkillResult",
    "SkillRow",
    "SkillRunPoint",
    "StoredResultCache",
    "UnknownCatalog",
    "catalog_current",
    "catalog_fingerprinter",
    "catalog_list",
    "catalog_list_with_counts",
    "catalog_load",
    "catalog_scope",
    "configured_catalog_id",
    "heatmap_agreement",
    "heatmap_cell_detail",
    "heatmap_check_quality",
    "heatmap_disputed_checks",
    "heatmap_domain_matrix",
    "heatmap_overview",
    "heatmap_overview_table",
    "heatmap_task_times",
    "lint_findings",
    "lint_matrix",
    "lint_paths",
    "lint_table",
    "model_order",
    "newest_task_ids",
    "newest_tasks",
    "results_version",
    "run_active",
    "run_cache_totals",
    "run_comparison",
    "run_get",
    "run_list",
    "run_may_change",
    "run_previous",
    "run_progress",
    "run_result_tables",
    "run_summary",
    "run_task_checks",
    "run_tasks_to_do",
    "skill_file",
    "skill_file_names",
    "skill_history",
    "skill_labels",
    "stale_keys",
    "stale_reason",
    "stale_tasks",
]
