"""Content fingerprints and the engine's response cache, without Django."""

from __future__ import annotations

from skillcheck.cache import MemoryCache
from skillcheck.catalog import load_catalog
from skillcheck.fingerprints import Fingerprint, Fingerprinter, explain_changes
from skillcheck.results import ScoredRun
from skillcheck.runs import build_tasks, cached_tasks, execute_tasks
from tests.run_helpers import StubAuditor


def _prints(catalog, model_ids=None):
    fingerprinter = Fingerprinter(catalog, catalog.taxonomy, model_ids or {})
    return {
        t.key: fingerprinter.of(t.scenario, t.skill, t.model)
        for t in build_tasks(catalog, domains=None, models=["m"])
    }


def _edit_skill(catalog_dir, name="web-scraper"):
    path = catalog_dir / "skills" / name / "SKILL.md"
    path.write_text(path.read_text() + "\nOne more rule.\n")


def test_fingerprints_are_stable_across_loads(catalog_dir):
    assert _prints(load_catalog(catalog_dir)) == _prints(load_catalog(catalog_dir))


def test_a_skill_edit_changes_only_that_skills_tasks(catalog_dir):
    before = _prints(load_catalog(catalog_dir))
    _edit_skill(catalog_dir)
    after = _prints(load_catalog(catalog_dir))
    changed = {key for key in before if before[key].key != after[key].key}
    assert changed and {key[1] for key in changed} == {"web-scraper"}
    key = next(iter(changed))
    assert before[key].changes_from(after[key]) == ["skill"]
    assert explain_changes(["skill"]) == "SKILL.md changed since this result"


def test_checks_yaml_and_model_id_are_part_of_the_fingerprint(catalog_dir, example_catalog_dir):
    catalog = load_catalog(catalog_dir)
    before = _prints(catalog)
    checks = (example_catalog_dir.parent / "checks.yaml").read_text()
    edited = catalog_dir / "checks.yaml"
    edited.write_text(checks.replace("description:", "description: Strictly,", 1))
    reworded = _prints(load_catalog(catalog_dir))
    assert all(reworded[k].changes_from(before[k]) == ["prompt"] for k in before)
    new_model = _prints(catalog, {"m": "m-2027"})
    assert all(new_model[k].changes_from(before[k]) == ["model"] for k in before)


def test_an_unknown_component_is_never_a_cache_key():
    assert Fingerprint("a", "b", "c", "").key == ""
    assert Fingerprint("a", "b", "c", "d").key


def test_reports_keep_fingerprint_and_cache_source():
    fp = Fingerprint("a", "b", "c", "d")
    row = ScoredRun("s", "k", "m", fingerprint=fp, cached_from="run-1")
    back = ScoredRun.from_dict(row.to_dict())
    assert back.fingerprint == fp and back.cached_from == "run-1"
    assert ScoredRun.from_dict({"scenario_id": "s", "skill": "k"}).fingerprint is None


def _run(catalog, auditor, cache=None, run_id="r"):
    tasks = build_tasks(catalog, domains=None, models=[auditor.name])
    return execute_tasks(
        tasks, {auditor.name: auditor}, catalog.taxonomy, run_id=run_id, cache=cache
    )


def test_identical_rerun_calls_nothing_and_keeps_every_result(catalog_dir):
    catalog = load_catalog(catalog_dir)
    first_auditor = StubAuditor("m")
    first = _run(catalog, first_auditor, run_id="first")
    cache = MemoryCache((r, "first") for r in first.results)
    events = []
    auditor = StubAuditor("m")
    tasks = build_tasks(catalog, domains=None, models=["m"])
    second = execute_tasks(
        tasks, {"m": auditor}, catalog.taxonomy, run_id="second", cache=cache,
        listeners=[events.append],
    )  # fmt: skip
    assert auditor.calls == [] and len(first_auditor.calls) == len(tasks)
    assert second.cached == second.completed == len(tasks)
    assert {r.key for r in second.results} == {t.key for t in tasks}
    assert all(r.cached_from == "first" and r.cost_usd == 0 for r in second.results)
    by_key = {r.key: r for r in first.results}
    assert all(
        [c.result for c in r.checks] == [c.result for c in by_key[r.key].checks]
        for r in second.results
    )
    cached_events = [e for e in events if e["type"] == "cached"]
    assert cached_events == [
        {"type": "cached", "run_id": "second", "cached": len(tasks),
         "completed": len(tasks), "failed": 0, "total": len(tasks)}
    ]  # fmt: skip


def test_after_one_skill_edit_only_its_tasks_are_called(catalog_dir):
    first = _run(load_catalog(catalog_dir), StubAuditor("m"), run_id="first")
    cache = MemoryCache((r, "first") for r in first.results)
    _edit_skill(catalog_dir)
    catalog = load_catalog(catalog_dir)
    auditor = StubAuditor("m")
    second = _run(catalog, auditor, cache, run_id="second")
    assert auditor.calls and {skill for _, skill in auditor.calls} == {"web-scraper"}
    fresh = [r for r in second.results if r.cached_from is None]
    assert len(fresh) == len(auditor.calls)
    assert second.cached == len(second.results) - len(fresh)


def test_failed_results_are_never_reused(catalog_dir):
    catalog = load_catalog(catalog_dir)
    failing = StubAuditor("m", fail_on=lambda request: request.skill.name == "web-scraper")
    first = _run(catalog, failing, run_id="first")
    errors = [r for r in first.results if r.error]
    assert errors
    cache = MemoryCache((r, "first") for r in first.results)
    auditor = StubAuditor("m")
    _run(catalog, auditor, cache, run_id="second")
    assert len(auditor.calls) == len(errors)


def test_plan_counts_cached_tasks(catalog_dir):
    catalog = load_catalog(catalog_dir)
    first = _run(catalog, StubAuditor("m"), run_id="first")
    cache = MemoryCache((r, "first") for r in first.results[:5])
    tasks = build_tasks(catalog, domains=None, models=["m"])
    fingerprinter = Fingerprinter(catalog, catalog.taxonomy, {})
    assert cached_tasks(tasks, cache, fingerprinter) == {r.key for r in first.results[:5]}
