"""Run ids: one rule (``skillcheck.runids``) for the CLI, imports, the API and URLs.

A malformed id in a URL is a 404 on both databases, never a 500: PostgreSQL refuses a NUL in
a query with an error, and a ``/`` used to break the links of the runs page.
"""

from __future__ import annotations

import pytest

from skillcheck.runids import (
    RUN_ID_MAX_LENGTH,
    RunIdError,
    is_valid_run_id,
    run_id_from_text,
    run_id_with_suffix,
    validate_run_id,
)
from tests.heatmap_data import make_run

pytestmark = pytest.mark.both_databases

BAD_IDS = ["../../x", "a/b", "x\x00y", "-rf", ".hidden", "é", "a b", "x" * 65, "", "a\nb"]


@pytest.mark.parametrize("run_id", ["20261124-225630-23ccf4", "abc", "import-scored_1.2", "x" * 64])
def test_good_run_ids_pass(run_id):
    assert is_valid_run_id(run_id) and validate_run_id(run_id) == run_id


@pytest.mark.parametrize("run_id", [*BAD_IDS, None, 5])
def test_bad_run_ids_are_refused_with_the_rule(run_id):
    assert not is_valid_run_id(run_id)
    with pytest.raises(RunIdError, match="a run id has 1 to 64 characters"):
        validate_run_id(run_id)


def test_ids_made_from_text_or_with_a_suffix_are_valid_and_bounded():
    assert run_id_from_text("../../etc/passwd") == "etc-passwd"
    assert run_id_from_text("/\x00/") == "run"
    long = run_id_with_suffix("y" * 64, "-import-12")
    assert long.endswith("-import-12") and len(long) == RUN_ID_MAX_LENGTH
    assert is_valid_run_id(long)


def quoted(run_id: str) -> str:
    from urllib.parse import quote

    return quote(run_id, safe="")


@pytest.mark.django_db
@pytest.mark.parametrize("run_id", [r for r in BAD_IDS if r])
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/runs/{}/"),
        ("get", "/runs/{}/report.json"),
        ("post", "/runs/{}/cancel/"),
        ("post", "/runs/{}/resume/"),
        ("get", "/api/heatmap/run/{}"),
        ("post", "/api/heatmap/run/{}/cancel"),
    ],
)
def test_a_malformed_run_id_in_a_url_is_a_404(client, method, url, run_id):
    make_run()
    response = getattr(client, method)(url.format(quoted(run_id)))
    assert response.status_code == 404


@pytest.mark.django_db
def test_the_runs_page_lists_runs_with_their_links(client):
    run = make_run(run_id="20261124-225630-23ccf4")
    response = client.get("/runs/")
    assert response.status_code == 200
    assert f'href="/runs/{run.run_id}/"' in response.content.decode()
