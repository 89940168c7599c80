"""The skill viewer and its API: a skill's files with numbered lines, pinned findings and
evidence; only the files the auditor reads; citations in evidence linked to their lines."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import pytest
from django.template import Context, Template
from hypothesis import given
from hypothesis import strategies as st

from heatmap import selectors
from skillcheck.citations import find_citations
from skillcheck.fingerprints import skill_fingerprint
from tests.heatmap_data import make_run, specialist_task
from tests.matrix_html import matrix_cells


@pytest.fixture
def editable(catalog_dir: Path, settings):
    """The example catalog, copied so that a test may change a skill's files."""
    settings.SKILLCHECK_CATALOG = catalog_dir
    return selectors.catalog_current(catalog_dir)


def _skill(catalog):
    scenario = next(s for s in catalog.scenarios if s.specialist)
    return scenario, catalog.skills[scenario.specialist]


# --- citations -------------------------------------------------------------------------------


def test_citations_name_the_file_and_lines():
    text = 'SKILL.md:31: "use X"; references/api.md:L12-L20 and see notes.md:7.'
    found = [(c.file, c.line, c.end_line, text[c.start : c.end]) for c in find_citations(text)]
    assert found == [
        ("SKILL.md", 31, 31, "SKILL.md:31"),
        ("references/api.md", 12, 20, "references/api.md:L12-L20"),
        ("notes.md", 7, 7, "notes.md:7"),
    ]


@pytest.mark.parametrize(
    "text",
    ["../SKILL.md:3", "/etc/SKILL.md:1", "a/../SKILL.md:2", "SKILL.md:0", "SKILL.txt:4", "x.md:"],
)
def test_what_is_not_a_citation(text):
    assert [c.file for c in find_citations(text) if ".." in c.file or c.line == 0] == []
    assert all(not c.file.startswith("/") for c in find_citations(text))


@given(st.text(max_size=300))
def test_citations_of_any_text_are_spans_of_it(text):
    for c in find_citations(text):
        span = text[c.start : c.end]
        assert span.startswith(c.file) and f":{'L' if ':L' in span else ''}{c.line}" in span
        assert ".." not in c.file.split("/") and c.line >= 1 and c.end_line >= c.line


_hostile = st.text(alphabet=st.sampled_from(list("<>&\"'` :L-/.md0123SKILL\n\u202e")), max_size=80)


@given(before=_hostile, after=_hostile, line=st.integers(1, 9999))
def test_linked_evidence_is_escaped_and_keeps_its_text(before, after, line):
    evidence = f"{before} SKILL.md:{line} {after}"
    out = Template("{% load heatmap_tags %}{% cite_links text 'my-skill' 'cat <x>' %}").render(
        Context({"text": evidence})
    )
    assert "<script" not in out and "<x>" not in out
    # Removing the links gives back the escaped text, unchanged.
    assert html.unescape(re.sub(r"</?a[^>]*>", "", out)) == evidence
    assert f'/skills/my-skill/files/SKILL.md?catalog=cat+%3Cx%3E#L{line}">' in out


# --- the viewer ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_viewer_shows_lines_frontmatter_and_pinned_evidence(client, editable):
    scenario, skill = _skill(editable)
    run = make_run()
    specialist_task(run, scenario, results={"WF-1": "fail"}, evidence='SKILL.md:3: "the <b>"')
    page = client.get(f"/skills/{skill.name}/files/SKILL.md")
    assert page.status_code == 200
    text = page.content.decode()
    lines = (skill.path).read_text().splitlines()
    assert f'<tr id="L{len(lines)}"' in text and 'href="#L3"' in text
    assert '<table class="frontmatter">' in text and '<th scope="row">name</th>' in text
    row = re.search(r'<tr id="L3" class="line has-pins">.*?</tr>', text, re.S)
    assert row and "WF-1" in row[0] and "&lt;b&gt;" in row[0] and "<b>" not in row[0]
    # No fingerprint on the hand-made task: nothing recorded about the files yet.
    assert "No results record this skill" in text


@pytest.mark.django_db
def test_viewer_says_when_the_skill_changed_since_the_run(client, editable):
    scenario, skill = _skill(editable)
    run = make_run()
    task = specialist_task(run, scenario, results={"WF-1": "pass"})
    task.skill_fingerprint = skill_fingerprint(skill)
    task.save()
    url = f"/skills/{skill.name}/files/SKILL.md?catalog="
    assert "Unchanged since run" in client.get(url).content.decode()
    skill.path.write_text(skill.path.read_text() + "\nA new line.\n")
    assert "changed since run" in client.get(url).content.decode()
    api = client.get(f"/api/skills/{skill.name}/files/SKILL.md").json()
    assert api["changed_since_run"] is True and api["run"] == run.run_id
    assert api["files"][0] == "SKILL.md" and api["content"].endswith("A new line.")
    assert client.get(f"/api/skills/{skill.name}/content").json()["files"] == api["files"]


@pytest.mark.django_db
def test_only_the_files_the_auditor_reads_are_served(client, editable, tmp_path):
    _, skill = _skill(editable)
    secret = tmp_path / "secret.md"
    secret.write_text("password")
    os.symlink(secret, skill.root / "leak.md")
    (skill.root / "notes.txt").write_text("not markdown")
    files = client.get(f"/api/skills/{skill.name}/content").json()["files"]
    assert "leak.md" not in files and "notes.txt" not in files
    for path in ("leak.md", "notes.txt", "../../skills_manifest.yaml", "%2e%2e/x.md", "nope.md"):
        assert client.get(f"/skills/{skill.name}/files/{path}").status_code == 404
        assert client.get(f"/api/skills/{skill.name}/files/{path}").status_code == 404
    assert client.get("/api/skills/no-such-skill/content").status_code == 404


@pytest.mark.django_db
def test_a_file_over_the_limit_is_refused_by_name(client, editable, settings):
    _, skill = _skill(editable)
    limit = max(len(p.read_bytes()) for p, _ in skill.documents())
    settings.SKILLCHECK_MAX_DOCUMENT_BYTES = limit
    (skill.root / "big.md").write_text("x" * (limit + 1))
    answer = client.get(f"/api/skills/{skill.name}/files/big.md")
    assert answer.status_code == 422 and "larger than the limit" in answer.json()["error"]
    # The page is refused like every page of a catalog over its limits: the catalog error page.
    page = client.get(f"/skills/{skill.name}/files/big.md")
    assert page.status_code in (422, 503) and "larger than the limit" in page.content.decode()


@pytest.mark.django_db
def test_markdown_renders_on_request_and_sanitized(client, editable):
    _, skill = _skill(editable)
    hostile = "# Title\n\n<script>alert(1)</script>\n[x](javascript:alert(1))\n"
    (skill.root / "ref.md").write_text(hostile)
    source = client.get(f"/skills/{skill.name}/files/ref.md").content.decode()
    assert "&lt;script&gt;" in source and "Show rendered" in source
    rendered = client.get(f"/skills/{skill.name}/files/ref.md?view=rendered").content.decode()
    assert "<h1>Title</h1>" in rendered and "<script>alert" not in rendered
    assert 'href="javascript' not in rendered


@pytest.mark.django_db
def test_cell_detail_and_bp_finding_link_to_the_cited_line(client, catalog, domain_id, scenario):
    run = make_run()
    specialist_task(run, scenario, results={"WF-1": "fail"}, evidence="see SKILL.md:L2-L4 <i>")
    detail = client.get(
        f"/heatmap/{domain_id}/cell/?scenario={scenario.id}&check=WF-1",
        headers={"HX-Request": "true"},
    ).content.decode()
    href = f"/skills/{scenario.specialist}/files/SKILL.md?catalog="
    assert f'<a class="cite" href="{href}' in detail and '#L2">SKILL.md:L2-L4</a>' in detail
    assert "&lt;i&gt;" in detail
    lints = selectors.lint_matrix(catalog=catalog)
    skill, finding = next((name, lint.findings[0]) for name, lint in lints.items() if lint.findings)
    bp = client.get(
        f"/heatmap/{domain_id}/bp/cell/?skill={skill}&check={finding.check_id}",
        headers={"HX-Request": "true"},
    ).content.decode()
    assert f"/skills/{skill}/files/{finding.file}?catalog=" in bp and f"#L{finding.line}" in bp
    viewer = client.get(f"/skills/{skill}/files/{finding.file}").content.decode()
    row = re.search(rf'<tr id="L{finding.line}" class="line has-pins">.*?</tr>', viewer, re.S)
    assert row and finding.check_id in row[0]


# --- links from the overview, the skill page and the compare page ------------------------------


@pytest.mark.django_db
def test_a_failing_check_chip_opens_the_matrix_of_that_check(client, catalog, domain_id, scenario):
    run = make_run()
    specialist_task(run, scenario, results={"WF-1": "fail", "WF-2": "pass"}, domain=domain_id)
    page = client.get("/heatmap/").content.decode()
    skill = scenario.specialist
    assert f'<a href="/skills/{skill}/" title=' in page
    chip = re.search(r'<a class="chip[^"]*" href="([^"]+)"', page)
    assert chip and "check=WF-1" in chip[1] and "failures=1" in chip[1]
    matrix = client.get(html.unescape(chip[1])).content.decode()
    assert {check for _, check, _ in matrix_cells(matrix)} == {"WF-1"}
    assert 'name="check" value="WF-1" checked' in matrix  # the filter can be taken off


@pytest.mark.django_db
def test_skill_page_cells_open_the_cell_detail(client, catalog, domain_id, scenario):
    run = make_run()
    specialist_task(run, scenario, results={"WF-1": "fail"}, domain=domain_id)
    page = client.get(f"/skills/{scenario.specialist}/").content.decode()
    href = (
        f"/heatmap/{scenario.domain}/cell/?scenario={scenario.id}&amp;check=WF-1"
        f"&amp;clicked=heuristic&amp;catalog="
    )
    assert href in page
    assert f'href="/skills/{scenario.specialist}/files/SKILL.md?catalog=' in page


@pytest.mark.django_db
def test_compare_rows_open_the_cell_detail_in_the_new_run(client, catalog, domain_id, scenario):
    base, new = make_run(), make_run()
    specialist_task(base, scenario, results={"WF-1": "pass"}, domain=domain_id)
    specialist_task(new, scenario, results={"WF-1": "fail"}, domain=domain_id)
    page = client.get(f"/runs/{new.run_id}/compare/{base.run_id}/").content.decode()
    href = (
        f'href="/heatmap/{scenario.domain}/cell/?scenario={scenario.id}&amp;check=WF-1'
        f'&amp;clicked=heuristic&amp;run={new.run_id}"'
    )
    assert href in page
