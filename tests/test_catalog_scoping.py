"""One catalog at a time: a heuristic run of the bundled catalog and one of the real corpus in
the same database, each page and API answer showing one catalog's results only.

The runs are real ``run_scored`` runs (the offline heuristic auditor) of ``catalog/`` and
``../shared/corpus/apify-skills``; the bundled catalog is the configured one.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core.management import CommandError, call_command

from heatmap.models import Catalog, Run
from skillcheck.catalog import load_catalog
from tests.heatmap_data import HTMX, add_task, make_run

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

CORPUS = "apify-skills"
BUNDLED = "catalog"


def run_scored(*args: str) -> str:
    out = io.StringIO()
    call_command("run_scored", "--models", "heuristic", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def runs(settings, tmp_path, example_catalog_dir, corpus_dir):
    """(bundled run, corpus run), the corpus audited second."""
    settings.SKILLCHECK_REPORTS_DIR = tmp_path / "reports"
    settings.SKILLCHECK_CATALOG = example_catalog_dir
    run_scored("--catalog", str(example_catalog_dir))
    run_scored("--catalog", str(corpus_dir))
    return Run.objects.get(catalog__name=BUNDLED), Run.objects.get(catalog__name=CORPUS)


@pytest.fixture
def skills(example_catalog_dir, corpus_dir) -> tuple[set[str], set[str]]:
    return set(load_catalog(example_catalog_dir).skills), set(load_catalog(corpus_dir).skills)


def shown_skills(html: str) -> set[str]:
    """The skills of the overview table's rows."""
    table = html[html.index('id="overview-table"') :]
    return set(re.findall(r'<tr data-skill="([^"]+)"', table))


def test_the_first_run_of_a_folder_registers_its_catalog(runs, corpus_dir):
    bundled, corpus = runs
    assert (bundled.status, corpus.status) == ("completed", "completed")
    assert corpus.catalog.root_path == str(corpus_dir.resolve())
    assert corpus.catalog.fingerprint == load_catalog(corpus_dir).fingerprint()
    assert {t.catalog_id for t in corpus.tasks.all()} == {corpus.catalog_id}
    assert Catalog.objects.count() == 2
    again = run_scored("--catalog", str(corpus_dir), "--catalog-name", "apify")
    assert again.startswith("Run ") and "(catalog apify;" in again.splitlines()[0]
    assert Catalog.objects.count() == 2
    assert Catalog.objects.get(pk=corpus.catalog_id).name == "apify"


def test_each_overview_shows_only_its_own_catalogs_skills(client, runs, skills):
    bundled_skills, corpus_skills = skills
    default = client.get("/heatmap/").content.decode()
    assert shown_skills(default) == bundled_skills
    assert "removed from the catalog" not in default

    corpus_page = client.get("/heatmap/", {"catalog": CORPUS}).content.decode()
    assert shown_skills(corpus_page) == corpus_skills
    assert "removed from the catalog" not in corpus_page
    assert shown_skills(client.get("/heatmap/", {"catalog": BUNDLED}).content.decode()) == (
        bundled_skills
    )


def test_the_switcher_moves_between_the_catalogs(client, runs):
    page = client.get("/heatmap/").content.decode()
    switcher = page[page.index('class="catalog-switcher"') : page.index("</details>")]
    assert 'data-catalog="catalog"' in switcher
    assert f'href="/heatmap/?catalog={CORPUS}"' in switcher
    assert f'href="/heatmap/?catalog={BUNDLED}" aria-current="true"' in switcher

    moved = client.get(f"/heatmap/?catalog={CORPUS}").content.decode()
    assert f'data-catalog="{CORPUS}"' in moved
    assert f'href="/heatmap/?catalog={CORPUS}" aria-current="true"' in moved


def test_one_catalog_has_no_switcher(client, settings, example_catalog_dir):
    make_run()
    page = client.get("/heatmap/").content.decode()
    assert "catalog-switcher" not in page and 'class="catalog-name"' in page


def test_tabs_filters_and_links_keep_the_catalog(client, runs):
    domain = "ultimate-scraper"  # the corpus's, not the bundled catalog's
    page = client.get("/heatmap/", {"catalog": CORPUS, "failures": "1"}).content.decode()
    tabs = page[page.index('id="domain-tabs"') : page.index("</nav>", page.index("domain-tabs"))]
    assert f'href="/heatmap/{domain}/?catalog={CORPUS}&amp;failures=1"' in tabs
    assert f'<input type="hidden" name="catalog" value="{CORPUS}">' in page
    matrix = client.get(f"/heatmap/{domain}/", {"catalog": CORPUS}).content.decode()
    assert f"catalog={CORPUS}" in matrix[matrix.index('id="domain-matrix"') :]
    assert client.get(f"/heatmap/{domain}/").status_code == 404


def test_matrix_cell_detail_and_csv_show_one_catalogs_runs(client, runs, corpus_dir):
    bundled, corpus = runs
    catalog = load_catalog(corpus_dir)
    domain = next(d for d in catalog.domains.values() if d.scenarios)
    scenario = domain.scenarios[0]
    detail = client.get(
        f"/heatmap/{domain.id}/cell/",
        {"catalog": CORPUS, "scenario": scenario.id, "check": "WF-1"},
        **HTMX,
    ).content.decode()
    assert corpus.run_id in detail and bundled.run_id not in detail

    for name, run, other in ((BUNDLED, bundled, corpus), (CORPUS, corpus, bundled)):
        rows = list(
            csv.DictReader(
                io.StringIO(
                    client.get("/heatmap/", {"catalog": name, "format": "csv"}).content.decode()
                )
            )
        )
        run_ids = {row["run_id"] for row in rows} - {""}
        assert run_ids == {run.run_id}, name
        assert other.run_id not in run_ids


def test_removed_skills_are_left_out_unless_asked_for(client, catalog, scenario):
    run = make_run()
    add_task(
        run,
        scenario_id=scenario.id,
        skill="retired-skill",
        model="heuristic",
        results={"WF-1": "fail"},
    )
    page = client.get("/heatmap/").content.decode()
    assert "retired-skill" not in shown_skills(page)
    included = client.get("/heatmap/", {"include": "removed"}).content.decode()
    assert "retired-skill" in shown_skills(included)
    assert "removed from the catalog" in included
    api = client.get("/api/heatmap/skills").json()
    assert "retired-skill" not in {s["skill"] for s in api}
    api = client.get("/api/heatmap/skills", {"include": "removed"}).json()
    removed = {s["skill"]: s["removed"] for s in api}
    assert removed["retired-skill"] is True and removed[scenario.specialist] is False


def test_the_skill_page_shows_one_catalogs_history(client, runs, skills):
    bundled, corpus = runs
    corpus_skill = sorted(skills[1])[0]
    page = client.get(f"/skills/{corpus_skill}/", {"catalog": CORPUS})
    assert page.status_code == 200
    html = page.content.decode()
    assert corpus.run_id in html and bundled.run_id not in html
    assert f'In catalog <a href="/heatmap/?catalog={CORPUS}">{CORPUS}</a>.' in html
    missing = client.get(f"/skills/{corpus_skill}/")  # not a skill of the configured catalog
    assert missing.status_code == 404


def test_an_unknown_catalog_is_a_404_naming_the_known_ones(client, runs):
    page = client.get("/heatmap/", {"catalog": "nope"})
    assert page.status_code == 404
    api = client.get("/api/heatmap/skills", {"catalog": "nope"})
    assert api.status_code == 404
    assert api.json()["error"] == f"no catalog 'nope'; known: {CORPUS}, {BUNDLED}"


def test_runs_page_says_which_run_audited_which_catalog(client, runs):
    bundled, corpus = runs
    page = client.get("/runs/").content.decode()
    for run, name in ((bundled, BUNDLED), (corpus, CORPUS)):
        row = page[page.index(f'data-run="{run.run_id}"') :]
        row = row[: row.index("</tr>")]
        assert f'<td class="catalog" data-label="Catalog"><a href="/heatmap/?catalog={name}"' in row
    run_page = client.get(f"/runs/{corpus.run_id}/").content.decode()
    assert f'<dt>Catalog</dt><dd><a href="/heatmap/?catalog={CORPUS}">{CORPUS}</a></dd>' in run_page
    only = client.get("/runs/", {"catalog": CORPUS}).content.decode()
    assert corpus.run_id in only and bundled.run_id not in only
    assert client.get("/runs/", {"catalog": "nope"}).status_code == 404
    # The two runs share no catalog: neither is the other's "previous".
    assert "compare with previous" not in page


REFUSAL = (
    "runs {base} and {new} audited different catalogs (catalog and apify-skills): "
    "only runs of one catalog compare"
)


def test_compare_refuses_runs_of_two_catalogs_in_one_line(client, runs):
    bundled, corpus = runs
    message = REFUSAL.format(base=bundled.run_id, new=corpus.run_id)
    page = client.get(f"/runs/{corpus.run_id}/compare/{bundled.run_id}/")
    assert page.status_code == 400
    assert message[0].upper() + message[1:] + "." in page.content.decode()
    assert "tasks compared" not in page.content.decode()

    api = client.get("/api/heatmap/compare", {"base": bundled.run_id, "new": corpus.run_id})
    assert api.status_code == 400 and api.json() == {"error": message}

    with pytest.raises(CommandError) as refused:
        call_command("compare_runs", bundled.run_id, corpus.run_id, stdout=io.StringIO())
    assert str(refused.value) == message and refused.value.returncode == 2


def test_compare_with_previous_pairs_runs_of_the_same_catalog(client, runs, corpus_dir):
    bundled, corpus = runs
    run_scored("--catalog", str(corpus_dir))
    newest = Run.objects.filter(catalog__name=CORPUS).order_by("-created_at").first()
    page = client.get("/runs/").content.decode()
    assert f"/runs/{newest.run_id}/compare/{corpus.run_id}/" in page
    assert f"/compare/{bundled.run_id}/" not in page
    compared = client.get(f"/runs/{newest.run_id}/compare/{corpus.run_id}/").content.decode()
    assert f"{corpus.total} tasks compared" in compared


def test_api_lists_the_catalogs_and_answers_for_one(client, runs, skills):
    data = client.get("/api/heatmap/catalogs").json()
    assert data["default"] == BUNDLED
    listed = {c["name"]: c for c in data["catalogs"]}
    assert set(listed) == {BUNDLED, CORPUS}
    assert listed[BUNDLED]["default"] and not listed[CORPUS]["default"]
    assert listed[CORPUS]["runs"] == 1 and listed[CORPUS]["has_folder"]
    assert "/" not in str(data)  # no server path in an answer

    corpus_skills = client.get("/api/heatmap/skills", {"catalog": CORPUS}).json()
    assert {s["skill"] for s in corpus_skills} == skills[1]
    domains = client.get("/api/heatmap/domains", {"catalog": CORPUS}).json()
    assert "ultimate-scraper" in {d["id"] for d in domains}
    matrix = client.get("/api/heatmap/domain/ultimate-scraper", {"catalog": CORPUS}).json()
    assert matrix["catalog"] == CORPUS and matrix["checks"]
    assert client.get("/api/heatmap/domain/ultimate-scraper").status_code == 404


def test_a_run_started_from_the_api_audits_the_catalog_it_names(client, runs, dispatched):
    started = client.post(
        "/api/heatmap/run",
        {"catalog": CORPUS, "models": ["heuristic"], "domains": ["ultimate-scraper"]},
        content_type="application/json",
    )
    assert started.status_code == 201, started.content
    assert started.json()["catalog"] == CORPUS
    assert Run.objects.get(run_id=started.json()["run_id"]).catalog.name == CORPUS
    unknown = client.post(
        "/api/heatmap/run",
        {"catalog": "nope", "models": ["heuristic"]},
        content_type="application/json",
    )
    assert unknown.status_code == 404


def test_a_run_started_from_the_page_audits_the_catalog_shown(client, runs, dispatched):
    response = client.post(
        "/run-controls/start/",
        {
            "catalog": CORPUS,
            "models": ["heuristic"],
            "domains": ["ultimate-scraper"],
            "next": f"/heatmap/?catalog={CORPUS}",
        },
    )
    assert response.status_code == 302 and response["Location"] == f"/heatmap/?catalog={CORPUS}"
    newest = Run.objects.order_by("-created_at").first()
    assert newest.catalog.name == CORPUS and newest.domains == ["ultimate-scraper"]


def test_an_imported_catalog_is_shown_with_every_skill_it_has_results_for(
    client, catalog, scenario
):
    imported = Catalog.objects.create(name="old-audits", imported=True)
    run = make_run(catalog=imported)
    add_task(
        run, scenario_id=scenario.id, skill="legacy-skill", model="sonnet", results={"WF-1": "pass"}
    )
    page = client.get("/heatmap/", {"catalog": "old-audits"})
    assert page.status_code == 200
    assert "legacy-skill" in shown_skills(page.content.decode())
    refused = client.post(
        "/run-controls/start/",
        {"catalog": "old-audits", "models": ["heuristic"], "next": "/heatmap/?catalog=old-audits"},
        follow=True,
    )
    assert "Catalog old-audits has no folder here" in refused.content.decode()
    api = client.post(
        "/api/heatmap/run",
        {"catalog": "old-audits", "models": ["heuristic"]},
        content_type="application/json",
    )
    assert api.status_code == 400 and "old-audits has no folder here" in api.json()["error"]
    assert Run.objects.count() == 1


def test_page_queries_do_not_grow_with_the_number_of_catalogs(client, catalog, domain_id):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from heatmap.services.catalogs import catalog_for_path
    from tests.heatmap_data import fill_domain

    def page_queries() -> list[int]:
        counts = []
        for url, headers in (
            ("/heatmap/", {}),
            ("/heatmap/", HTMX),
            (f"/heatmap/{domain_id}/", {}),
            ("/runs/", {}),
        ):
            cache.clear()
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url, **headers).status_code in (200, 286)  # 286: stop polling
            counts.append(len(queries))
        return counts

    fill_domain(make_run(), catalog, domain_id, model="haiku")
    one_catalog = page_queries()
    for n in range(3):
        other = catalog_for_path(root=f"/srv/team-{n}/skills", loaded=False)
        for model in ("haiku", "sonnet"):
            fill_domain(make_run(catalog=other), catalog, domain_id, model=model)
    page = client.get("/heatmap/").content.decode()
    assert page.count('<li><a href="/heatmap/?catalog=') == 4  # the switcher lists all four
    assert page_queries() == one_catalog
