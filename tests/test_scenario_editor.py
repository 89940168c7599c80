"""The scenario editor (issue 19): scenario files listed, read, saved, created and deleted
from the web app and the API. A change is checked with the catalog loader's own rules and
refused with its line (nothing on disk changes); a change made is atomic and keeps the
previous version as ``FILE.bak``; in team mode only staff users may change files."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from heatmap import selectors
from heatmap.models import ScenarioEdit
from heatmap.services.scenario_create import scenario_create
from heatmap.services.scenario_save import scenario_save
from heatmap.services.scenario_writes import ScenarioRefused
from skillcheck.catalog import load_catalog

pytestmark = pytest.mark.django_db

API = "/api/scenarios"
FILE = "price-tracking"
BROKEN_YAML = "domain: price-tracking\ntarget_skill: web-price-tracker\nscenarios:\n  - id: [oops\n"
NEW_FILE = (
    "domain: demo\ntarget_skill: web-price-tracker\nscenarios:\n"
    "  - id: demo-1\n    name: Demo\n    prompt: Compare two prices\n"
)


@pytest.fixture
def root(catalog_dir: Path, settings) -> Path:
    """A copy of the example catalog that the editor may change (the bundled one it may not)."""
    settings.SKILLCHECK_CATALOG = catalog_dir
    return catalog_dir.resolve()


def path_of(root: Path, name: str = FILE) -> Path:
    return root / "scenarios" / f"{name}.yaml"


def disk(path: Path) -> tuple[bytes, int]:
    """What a refusal must leave alone: the bytes and the modification time."""
    return path.read_bytes(), path.stat().st_mtime_ns


def put(client, name: str, content: str, **extra):
    body = json.dumps({"content": content, **extra})
    return client.put(f"{API}/{name}", body, content_type="application/json")


def post(client, name: str, content: str):
    body = json.dumps({"content": content})
    return client.post(f"{API}/{name}", body, content_type="application/json")


def delete(client, name: str):
    return client.delete(f"{API}/{name}", "{}", content_type="application/json")


def edited(text: str) -> str:
    return text.replace('"Two-store price comparison for one product"', '"Two-store prices"')


# --- Refusals: the line named, nothing written ------------------------------------------------


def test_invalid_yaml_is_refused_with_its_line_and_the_disk_is_unchanged(client, root):
    path = path_of(root)
    before = disk(path)
    response = put(client, FILE, BROKEN_YAML)
    assert response.status_code == 400
    answer = response.json()
    assert answer["line"] == 5 and answer["column"] == 1
    assert answer["error"].startswith("scenarios/price-tracking.yaml:5:1: invalid YAML")
    assert answer["file"] == "scenarios/price-tracking.yaml"
    assert disk(path) == before
    assert not path.with_name(path.name + ".bak").exists()
    assert sorted(p.name for p in path.parent.iterdir()) == sorted(
        p.name for p in path.parent.glob("*.yaml")
    )  # no temporary file left behind
    assert not ScenarioEdit.objects.exists()


@pytest.mark.parametrize(
    ("content", "line", "problem"),
    [
        pytest.param(
            "domain: price-tracking\ntarget_skill: web-price-tracker\nscenarios:\n"
            "  - id: pt-x\n    name: X\n    prompt: [a, b]\n",
            6,
            "'prompt' must be text",
            id="prompt-not-text-at-its-key",
        ),
        pytest.param(
            "domain: price-tracking\nscenarios: []\n",
            1,
            "missing required key(s): target_skill",
            id="missing-key-at-the-mapping",
        ),
        pytest.param(
            "domain: price-tracking\ntarget_skill: web-price-tracker\nscenarios:\n"
            "  - id: pt-x\n    name: X\n    prompt: p\n"
            "  - id: lg-1\n    name: Y\n    prompt: q\n",
            7,
            "duplicate scenario id 'lg-1' (also in scenarios/lead-generation.yaml:",
            id="duplicate-of-another-file",
        ),
    ],
)
def test_schema_errors_name_the_offending_line(client, root, content, line, problem):
    before = disk(path_of(root))
    response = put(client, FILE, content)
    assert response.status_code == 400
    assert response.json()["line"] == line
    assert problem in response.json()["error"]
    assert disk(path_of(root)) == before


def test_a_change_that_breaks_another_file_is_refused_naming_that_file(client, root):
    """A new file whose domain id another file has: refused, naming the domain."""
    response = post(client, "aaa", NEW_FILE.replace("domain: demo", "domain: price-tracking"))
    assert response.status_code == 400
    assert "duplicate domain 'price-tracking'" in response.json()["error"]
    assert not path_of(root, "aaa").exists()


# --- Saves: atomic, with a backup, logged ----------------------------------------------------


def test_save_writes_the_text_keeps_the_old_one_as_bak_and_answers_the_plan(client, root):
    path = path_of(root)
    old = path.read_bytes()
    version = client.get(f"{API}/{FILE}").json()["version"]
    response = put(client, FILE, edited(old.decode()), version=version)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert path.read_text() == edited(old.decode())
    assert path.with_name("price-tracking.yaml.bak").read_bytes() == old
    assert answer["backup"] == "scenarios/price-tracking.yaml.bak"
    pairs = sum(len(s.target_skills) for s in load_catalog(root).scenarios)
    assert answer["pairs"] == pairs
    assert answer["plan"].endswith(f"= {pairs} tasks")
    assert answer["version"] != version
    edit = ScenarioEdit.objects.get()
    assert (edit.file, edit.action, edit.username, edit.pairs) == (
        "price-tracking.yaml",
        "update",
        "",
        pairs,
    )


def test_a_save_from_an_old_version_is_refused_not_written_over(client, root):
    stale = client.get(f"{API}/{FILE}").json()["version"]
    text = path_of(root).read_text()
    assert put(client, FILE, edited(text)).status_code == 200  # someone else saves
    before = disk(path_of(root))
    response = put(client, FILE, text + "\n# mine\n", version=stale)
    assert response.status_code == 409
    assert "changed since it was opened" in response.json()["error"]
    assert disk(path_of(root)) == before


def test_a_failure_mid_write_leaves_the_old_file_and_no_temporary(root, monkeypatch):
    path = path_of(root)
    before = path.read_bytes()
    real_fsync = os.fsync

    def failing_fsync(fd: int) -> None:
        if os.readlink(f"/proc/self/fd/{fd}").endswith(".yaml.tmp"):
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    scope = selectors.catalog_scope()
    with pytest.raises(OSError, match="No space left"):
        scenario_save(scope=scope, domain=FILE, content=edited(before.decode()))
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []
    assert not ScenarioEdit.objects.exists()


KILLED_WRITER = """
import os, sys, time
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "simsite.settings"
os.environ["SKILLCHECK_CATALOG"] = sys.argv[1]
django.setup()
real_fsync = os.fsync
def slow_fsync(fd):
    if os.readlink(f"/proc/self/fd/{fd}").endswith(".yaml.tmp"):
        print("writing", flush=True)
        time.sleep(60)
    real_fsync(fd)
os.fsync = slow_fsync
from pathlib import Path
from heatmap import selectors
from heatmap.services.scenario_save import scenario_save
path = sys.argv[2]
text = open(path).read().replace("Two-store", "Killed")
scope = selectors.CatalogScope("catalog", None, (), Path(sys.argv[1]))  # no database needed
scenario_save(scope=scope, domain="price-tracking", content=text)
"""


def test_a_writer_killed_mid_write_leaves_the_old_file_whole(root, tmp_path):
    """SIGKILL while the new text is being written: the file is the old one, whole."""
    path = path_of(root)
    before = path.read_bytes()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}"}
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(root), str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "writing"
    finally:
        child.kill()
        child.wait(10)
    assert path.read_bytes() == before
    assert load_catalog(root).scenario("pt-1").name.startswith("Two-store")


def test_create_needs_a_new_name_and_delete_keeps_a_bak(client, root):
    assert post(client, "demo", NEW_FILE).status_code == 201
    assert path_of(root, "demo").read_text() == NEW_FILE
    assert post(client, "demo", NEW_FILE).status_code == 409  # exists: never overwritten
    assert "demo" in load_catalog(root).domains
    response = delete(client, "demo")
    assert response.status_code == 200
    assert not path_of(root, "demo").exists()
    assert path_of(root, "demo").with_name("demo.yaml.bak").read_text() == NEW_FILE
    assert "demo" not in load_catalog(root).domains
    assert [e.action for e in ScenarioEdit.objects.order_by("pk")] == ["create", "delete"]
    assert delete(client, "demo").status_code == 404


def test_deleting_the_last_scenario_file_is_refused(client, root):
    for path in sorted((root / "scenarios").glob("*.yaml"))[1:]:
        path.unlink()
    last = next((root / "scenarios").glob("*.yaml"))
    response = delete(client, last.stem)
    assert response.status_code == 400
    assert "no scenario files" in response.json()["error"]
    assert last.exists()


def test_a_catalog_broken_by_another_file_still_takes_a_fix(client, root):
    other = path_of(root, "lead-generation")
    other.write_text("domain: [\n")
    mine = path_of(root)
    response = put(client, FILE, edited(mine.read_text()))
    assert response.status_code == 200
    assert response.json()["catalog_error"].startswith("scenarios/lead-generation.yaml:2")
    assert put(client, FILE, BROKEN_YAML).status_code == 400  # its own rules still hold
    fixed = put(client, "lead-generation", other.with_name("lead-generation.yaml").read_text())
    assert fixed.status_code == 400  # the broken file itself: still refused as it is
    assert delete(client, "lead-generation").status_code == 200  # or deleted, kept as .bak
    assert load_catalog(root).domains


# --- Names and folders -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["..", "../skills_manifest", "UPPER", "a.b", "new", "templates", "x" * 101, "%2e%2e"]
)
def test_names_that_are_not_plain_file_names_are_refused(client, root, name):
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    response = post(client, name, NEW_FILE)
    assert response.status_code in (400, 404, 405), (name, response.status_code)
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before


def test_a_link_out_of_the_catalog_is_not_a_scenario_file(client, root, tmp_path):
    secret = tmp_path / "secret.yaml"
    secret.write_text("password: hunter2\n")
    (root / "scenarios" / "leak.yaml").unlink(missing_ok=True)
    os.symlink(secret, root / "scenarios" / "leak.yaml")
    read = client.get(f"{API}/leak")
    assert read.status_code in (404, 503)  # 503: a link out breaks the whole catalog
    assert "hunter2" not in read.content.decode()
    assert put(client, "leak", NEW_FILE).status_code == 404
    assert secret.read_text() == "password: hunter2\n"


@given(
    name=st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40
    )
)
@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_hostile_names_never_write_outside_the_scenarios_folder(root, name):
    scope = selectors.catalog_scope()
    before = {p for p in root.parent.rglob("*")}
    with contextlib.suppress(ScenarioRefused):
        scenario_create(scope=scope, domain=name, content=NEW_FILE.replace("demo", "h"))
    created = {p for p in root.parent.rglob("*")} - before
    assert all(
        p.parent == root / "scenarios" and re.fullmatch(r"[a-z0-9_-]+\.yaml", p.name)
        for p in created
    ), created
    for path in created:
        path.unlink()
    ScenarioEdit.objects.all().delete()


@given(
    text=st.one_of(
        st.text(max_size=300),
        st.lists(
            st.sampled_from(
                [
                    "domain: x",
                    "scenarios:",
                    "  - id: a",
                    "    prompt: [",
                    "&a [*a]",
                    "\t- x",
                    "target_skill: web-price-tracker",
                    "? !!python/object:os.system",
                    "- *b",
                    "    name: n",
                    "    prompt: p",
                    "'",
                    '"\\ud800"',
                    "category: WF",
                    "{{",
                    "---",
                ]
            ),
            max_size=12,
        ).map("\n".join),
    )
)
@hypothesis_settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_hostile_yaml_is_refused_with_a_line_or_saved_whole(root, text):
    """Whatever the text: a 400 naming a line (or the file) and the disk untouched, or a save
    after which the catalog loads; never a crash."""
    scope = selectors.catalog_scope()
    path = path_of(root)
    before = path.read_bytes()
    try:
        scenario_save(scope=scope, domain=FILE, content=text)
    except ScenarioRefused as exc:
        assert exc.status == 400
        assert "scenarios/price-tracking.yaml" in str(exc) or exc.check.refusal is not None
        assert path.read_bytes() == before
    else:
        load_catalog(root)
        path.write_bytes(before)
    ScenarioEdit.objects.all().delete()


# --- Catalogs that cannot be edited -------------------------------------------------------------


def test_the_bundled_catalog_says_it_cannot_be_edited(client, example_catalog_dir, settings):
    settings.SKILLCHECK_CATALOG = example_catalog_dir
    before = disk(example_catalog_dir / "scenarios" / f"{FILE}.yaml")
    response = put(client, FILE, "domain: x\n")
    assert response.status_code == 409
    assert "bundled example catalog" in response.json()["error"]
    assert disk(example_catalog_dir / "scenarios" / f"{FILE}.yaml") == before
    page = client.get(f"/scenarios/{FILE}/").content.decode()
    assert "This catalog cannot be edited here" in page and "<textarea" not in page
    assert client.get(f"{API}/{FILE}").json()["editable"] is False


def test_a_read_only_folder_says_so(client, corpus_dir, settings):
    settings.SKILLCHECK_CATALOG = corpus_dir
    response = put(client, "ecommerce", "domain: x\n")
    assert response.status_code == 409
    assert "read-only on this server" in response.json()["error"]
    html = client.get("/scenarios/").content.decode()
    assert "read-only on this server" in html and "New scenario file" not in html


# --- Pages ---------------------------------------------------------------------------------------


def test_the_list_shows_every_file_and_the_plan_line(client, root):
    html = client.get("/scenarios/").content.decode()
    for path in (root / "scenarios").glob("*.yaml"):
        assert f">{path.name}</a>" in html
    pairs = sum(len(s.target_skills) for s in load_catalog(root).scenarios)
    assert f"= {pairs} tasks" in html
    assert 'href="/scenarios/"' in html  # in the top bar


def test_a_form_save_without_javascript_redirects_and_keeps_the_bak(client, root):
    page = client.get(f"/scenarios/{FILE}/")
    version = page.context["version"]
    text = path_of(root).read_text()
    response = client.post(
        f"/scenarios/{FILE}/", {"content": edited(text).replace("\n", "\r\n"), "version": version}
    )
    assert response.status_code == 302
    assert path_of(root).read_text() == edited(text)  # CRLF from the textarea back to LF
    assert path_of(root).with_name("price-tracking.yaml.bak").read_text() == text
    assert (
        "the previous version is price-tracking.yaml.bak"
        in client.get(response["Location"]).content.decode()
    )


def test_an_htmx_save_refused_answers_the_fragment_with_line_and_snippet(client, root):
    before = disk(path_of(root))
    response = client.post(
        f"/scenarios/{FILE}/", {"content": BROKEN_YAML, "version": ""}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="scenario-result"')
    assert "Not saved" in html and "Line 5, column 1" in html
    assert 'data-goto-line="5"' in html
    assert "  - id: [oops" in html  # the lines it names, quoted
    assert disk(path_of(root)) == before


def test_check_says_what_save_would_without_saving(client, root):
    before = disk(path_of(root))
    text = edited(path_of(root).read_text())
    ok = client.post(f"/scenarios/{FILE}/check/", {"content": text}, HTTP_HX_REQUEST="true")
    assert ok.status_code == 200 and "Valid: the catalog loads" in ok.content.decode()
    bad = client.post(f"/scenarios/{FILE}/check/", {"content": BROKEN_YAML})
    assert bad.status_code == 400 and "Check failed" in bad.content.decode()
    assert "<textarea" in bad.content.decode()  # without htmx: the page again
    assert disk(path_of(root)) == before


def test_a_new_file_starts_from_a_template_that_loads(client, root):
    for kind in ("domain", "category"):
        page = client.get(f"/scenarios/new/?domain=fresh-{kind}&kind={kind}")
        assert page.status_code == 200
        text = page.context["text"]
        response = client.post(
            "/scenarios/new/", {"domain": f"fresh-{kind}", "kind": kind, "content": text}
        )
        assert response.status_code == 302, response.content.decode()
    catalog = load_catalog(root)
    assert "fresh-domain" in catalog.domains
    assert any(p.name == "fresh-category.yaml" for p in (root / "scenarios").iterdir())


def test_delete_asks_first_then_keeps_a_bak(client, root):
    page = client.get(f"/scenarios/{FILE}/delete/")
    assert "price-tracking.yaml.bak" in page.content.decode()
    assert path_of(root).exists()
    text = path_of(root).read_text()
    response = client.post(f"/scenarios/{FILE}/delete/", {"version": page.context["shown"].version})
    assert response.status_code == 302 and response["Location"] == "/scenarios/"
    assert not path_of(root).exists()
    assert path_of(root).with_name("price-tracking.yaml.bak").read_text() == text
    assert "The catalog now:" in client.get("/scenarios/").content.decode()


def test_pages_and_fragment_need_the_csrf_token(root):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    before = disk(path_of(root))
    assert strict.post(f"/scenarios/{FILE}/", {"content": "x"}).status_code == 403
    assert strict.post(f"/scenarios/{FILE}/delete/").status_code == 403
    body = json.dumps({"content": "x"})
    assert strict.put(f"{API}/{FILE}", body, content_type="text/plain").status_code == 403
    assert disk(path_of(root)) == before


# --- Team mode ----------------------------------------------------------------------------------


@pytest.fixture
def team(settings, root):
    settings.SKILLCHECK_REQUIRE_LOGIN = True
    return root


def test_team_mode_refuses_non_staff_on_pages_and_api(client, team):
    user = get_user_model().objects.create_user("bob", password="pw-bob-123456")
    client.force_login(user)
    before = disk(path_of(team))
    text = edited(path_of(team).read_text())
    assert put(client, FILE, text).status_code == 403
    assert post(client, "demo", NEW_FILE).status_code == 403
    assert delete(client, FILE).status_code == 403
    assert client.post(f"/scenarios/{FILE}/", {"content": text}).status_code == 403
    assert client.get("/scenarios/new/").status_code == 403
    assert client.get(f"/scenarios/{FILE}/delete/").status_code == 403
    assert client.post(f"/scenarios/{FILE}/delete/").status_code == 403
    page = client.get(f"/scenarios/{FILE}/").content.decode()  # reading stays open
    assert "only staff users may edit" in page and "<textarea" not in page
    assert client.get(f"{API}/{FILE}").json()["read_only_reason"] == "staff only"
    assert disk(path_of(team)) == before
    assert not ScenarioEdit.objects.exists()


def test_team_mode_staff_edit_and_the_edit_names_them(client, team):
    staff = get_user_model().objects.create_user("carol", password="pw-c-123456", is_staff=True)
    client.force_login(staff)
    assert put(client, FILE, edited(path_of(team).read_text())).status_code == 200
    edit = ScenarioEdit.objects.get()
    assert (edit.user, edit.username, edit.action) == (staff, "carol", "update")
    assert "by carol" in client.get("/scenarios/").content.decode()


def test_team_mode_anonymous_api_calls_get_401(client, team):
    assert put(client, FILE, "x").status_code == 401


# --- The original's GET /api/scenarios/{id} and the schema ------------------------------------


def test_get_answers_the_file_or_else_the_original_scenario(client, root):
    assert client.get(f"{API}/{FILE}").json()["content"] == path_of(root).read_text()
    scenario = client.get(f"{API}/pt-1").json()
    assert scenario["id"] == "pt-1" and scenario["domain"] == "price-tracking"
    assert client.get(f"{API}/no-such-thing").status_code == 404


def test_templates_are_filled_from_the_catalog(client, root):
    answer = client.get(f"{API}/templates?domain=fresh").json()
    assert answer["domain"].startswith("domain: fresh\ntarget_skill: ")
    assert "category" in answer and "price-tracking" in answer["domains"]
    assert post(client, "fresh", answer["domain"]).status_code == 201


def test_the_editor_api_is_in_the_openapi_schema(client):
    paths = client.get("/api/schema/").json()["paths"]
    operations = paths["/api/scenarios/{domain}"]
    assert {"get", "put", "post", "delete"} <= set(operations)
    assert "content" in json.dumps(operations["put"]["requestBody"])
    assert "/api/scenarios/templates" in paths
