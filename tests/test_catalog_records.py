"""Catalog records: the first run of a folder registers it, named after the folder; later
runs find it; a report that does not say its catalog goes to its folder's "imported" one."""

from __future__ import annotations

import io
import json
import shutil

import pytest
from django.core.management import call_command

from heatmap.models import Catalog, Run
from heatmap.services import catalogs, start
from heatmap.services.plans import RunRequestError
from skillcheck.catalog import load_catalog
from skillcheck.reports import save_scored_report_incremental
from skillcheck.results import CheckVerdict, ScoredRun

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


@pytest.fixture(autouse=True)
def reports_dir(settings, tmp_path):
    settings.SKILLCHECK_REPORTS_DIR = tmp_path / "reports"
    return settings.SKILLCHECK_REPORTS_DIR


def test_a_catalog_is_registered_once_named_after_its_folder(example_catalog_dir):
    loaded = load_catalog(example_catalog_dir)
    first = catalogs.catalog_register(catalog=loaded)
    again = catalogs.catalog_register(catalog=loaded)
    assert first.pk == again.pk and Catalog.objects.count() == 1
    assert first.name == "catalog" and first.root_path == str(example_catalog_dir.resolve())
    assert first.fingerprint == loaded.fingerprint() and first.loaded_at is not None
    assert not first.imported


def test_another_folder_with_the_same_name_gets_a_name_of_its_own(example_catalog_dir, tmp_path):
    copy = tmp_path / "elsewhere" / "catalog"
    shutil.copytree(example_catalog_dir, copy)
    bundled = catalogs.catalog_register(catalog=load_catalog(example_catalog_dir))
    other = catalogs.catalog_register(catalog=load_catalog(copy))
    assert (bundled.name, other.name) == ("catalog", "catalog-2")


def test_a_changed_catalog_keeps_its_record_with_the_new_fingerprint(example_catalog_dir, tmp_path):
    root = tmp_path / "mine"
    shutil.copytree(example_catalog_dir, root)
    before = catalogs.catalog_register(catalog=load_catalog(root))
    skill_md = next(root.rglob("SKILL.md"))
    skill_md.write_text(skill_md.read_text() + "\nOne more line.\n")
    after = catalogs.catalog_register(catalog=load_catalog(root))
    assert after.pk == before.pk and after.fingerprint != before.fingerprint
    assert Catalog.objects.get(pk=before.pk).fingerprint == after.fingerprint


def test_a_name_is_settable_and_stays_unique(example_catalog_dir, corpus_dir):
    bundled = catalogs.catalog_register(catalog=load_catalog(example_catalog_dir), name="bundled")
    assert bundled.name == "bundled"
    corpus = catalogs.catalog_register(catalog=load_catalog(corpus_dir))
    assert corpus.name == "apify-skills"
    with pytest.raises(RunRequestError, match="another catalog is named 'bundled'"):
        catalogs.catalog_rename(catalog=corpus, name="bundled")
    with pytest.raises(RunRequestError, match="one line"):
        catalogs.catalog_rename(catalog=corpus, name="a/b")
    renamed = catalogs.catalog_register(catalog=load_catalog(corpus_dir), name="apify")
    assert renamed.pk == corpus.pk and Catalog.objects.get(pk=corpus.pk).name == "apify"


def test_a_run_belongs_to_the_catalog_it_audits(example_catalog_dir, corpus_dir):
    bundled = start.run_create(domains=None, models=["heuristic"], catalog_path=example_catalog_dir)
    corpus = start.run_create(domains=None, models=["heuristic"], catalog_path=corpus_dir)
    assert bundled.catalog.name == "catalog" and corpus.catalog.name == "apify-skills"
    assert Catalog.objects.count() == 2


def report_row(scenario: str) -> ScoredRun:
    return ScoredRun(scenario, "k", "haiku", checks=[CheckVerdict("WF-1", "pass", "e")])


def test_an_imported_report_goes_to_the_catalog_it_names_or_to_its_folders(
    tmp_path, example_catalog_dir
):
    registered = catalogs.catalog_register(catalog=load_catalog(example_catalog_dir))
    named = save_scored_report_incremental(
        "named-1",
        [report_row("s1")],
        {"models": ["haiku"], "catalog_path": registered.root_path},
        reports_dir=tmp_path / "team-audits",
    )
    unnamed = save_scored_report_incremental(
        "unnamed-1", [report_row("s1")], {"models": ["haiku"]}, reports_dir=tmp_path / "team-audits"
    )
    old = tmp_path / "team-audits" / "scored_20250110.json"
    old.write_text(json.dumps({"type": "scored", "model": "sonnet", "results": []}))
    call_command("import_reports", str(named), str(unnamed), str(old), stdout=io.StringIO())

    assert Run.objects.get(run_id="named-1").catalog == registered
    imported = Run.objects.get(run_id="unnamed-1").catalog
    assert imported.imported and imported.name == "team-audits" and not imported.root_path
    assert Run.objects.get(run_id="import-scored_20250110").catalog == imported
    assert imported.runs.count() == 2


def test_an_imported_catalog_never_takes_a_registered_catalogs_name(tmp_path):
    catalogs.catalog_for_path(root="/srv/team-audits", loaded=False)
    first = catalogs.catalog_imported(folder_name="team-audits")
    again = catalogs.catalog_imported(folder_name="team-audits")
    assert first.name == "team-audits-imported" and again.pk == first.pk
