"""The routing engine: cases and their validation, the lexical baseline, metrics by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from skillcheck.catalog import NO_SKILL, CatalogError, load_catalog
from skillcheck.routing.cases import catalog_descriptions, routing_cases
from skillcheck.routing.metrics import PickedCase, majority_pick, model_metrics, wilson
from skillcheck.routing.routers import LexicalRouter
from tests.routing_helpers import DESCRIPTIONS, write_routing_catalog

EXAMPLE = Path(__file__).resolve().parent.parent / "catalog"


def test_every_scenario_is_a_case_expecting_its_specialist_then_routing_prompts(tmp_path):
    routing = [
        {"id": "r-none", "prompt": "Bake me a cake", "expected": "none", "tags": ["no-skill"]},
        {"id": "r-near", "prompt": "Reviews that mention price", "expected": "review-digest",
         "tags": ["near-miss", "near:price-watch"]},
    ]  # fmt: skip
    catalog = write_routing_catalog(tmp_path, routing=routing)
    cases = routing_cases(catalog)
    assert [(c.id, c.expected) for c in cases] == [
        ("job-board-1", "job-board"),
        ("price-watch-1", "price-watch"),
        ("price-watch-2", "price-watch"),
        ("review-digest-1", "review-digest"),
        ("r-none", NO_SKILL),
        ("r-near", "review-digest"),
    ]
    assert cases[-1].tags == ("near-miss", "near:price-watch")
    assert cases[-1].source.name == "price-watch.yaml" and cases[-1].line


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"id": "x", "prompt": "p", "expected": "ghost-skill"}, "'expected' is 'ghost-skill'"),
        ({"id": "x", "prompt": "p"}, "missing required key(s): expected"),
        ({"id": "x", "prompt": "  ", "expected": "none"}, "'prompt' must be non-empty text"),
        ({"id": "x", "prompt": "", "expected": "none"}, "'prompt' must be non-empty text"),
        ({"id": "x", "prompt": None, "expected": "none"}, "'prompt' must be non-empty text"),
        ({"id": "x", "prompt": "p", "expected": "none", "tags": [1]}, "'tags' must be a list"),
        ({"id": "x", "prompt": "p", "expected": "none", "tags": ["t"] * 11}, "at most 10 tags"),
        ({"id": "job-board-1", "prompt": "p", "expected": "none"}, "duplicate scenario id"),
        (
            {"id": "x", "prompt": "p", "expected": "none", "tags": ["near-miss", "near:ghost"]},
            "tag 'near:ghost' names no skill of the manifest",
        ),
        ("just text", "must be a mapping"),
    ],
)
def test_bad_routing_entries_are_catalog_errors_with_file_and_line(tmp_path, entry, message):
    with pytest.raises(CatalogError) as caught:
        write_routing_catalog(tmp_path, routing=[{"id": "ok", "prompt": "p", "expected": "none"},
                                                 entry])  # fmt: skip
    assert message in str(caught.value)
    assert caught.value.path.name == "price-watch.yaml"
    if isinstance(entry, dict):
        assert caught.value.line is not None and caught.value.line > 1


def test_routing_must_be_a_list_and_is_bounded(tmp_path, monkeypatch):
    write_routing_catalog(tmp_path)
    path = tmp_path / "scenarios" / "price-watch.yaml"
    data = yaml.safe_load(path.read_text())
    data["routing"] = {"id": "x"}
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(CatalogError, match="'routing' must be a list"):
        load_catalog(tmp_path)
    monkeypatch.setattr("skillcheck.catalog.load.MAX_ROUTING_PROMPTS_PER_FILE", 2)
    data["routing"] = [{"id": f"r{i}", "prompt": "p", "expected": "none"} for i in range(3)]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(CatalogError, match="holds 3 prompts; at most 2"):
        load_catalog(tmp_path)


def test_the_bundled_catalog_has_near_miss_and_no_skill_cases():
    catalog = load_catalog(EXAMPLE)
    cases = routing_cases(catalog)
    assert sum(c.expected == NO_SKILL for c in cases) >= 3
    assert sum("near-miss" in c.tags for c in cases) >= 3
    assert len(cases) == len(catalog.scenarios) + len(catalog.routing)


def test_descriptions_come_from_the_frontmatter(tmp_path):
    catalog = write_routing_catalog(tmp_path)
    assert catalog_descriptions(catalog) == DESCRIPTIONS


def test_lexical_baseline_picks_the_matching_description_or_none(tmp_path):
    router = LexicalRouter(catalog_descriptions(write_routing_catalog(tmp_path)))
    assert router.route("Which shop has the lowest price for this product?").pick == "price-watch"
    assert router.route("Customer reviews and ratings of my bakery").pick == "review-digest"
    assert router.route("Write a haiku about autumn leaves").pick == NO_SKILL
    assert router.deterministic and router.availability().via == "offline"


def test_majority_pick():
    assert majority_pick(["a", "b", "a"]) == "a"
    assert majority_pick(["b", "a"]) == "b"  # a tie keeps the first answer
    assert majority_pick([None, "a", None]) == "a"
    assert majority_pick([None, None]) is None


def _wilson_by_hand(k: float, n: float, z: float = 1.959963984540054) -> list[float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return [round(centre - half, 4), round(centre + half, 4)]


def test_metrics_match_a_count_by_hand():
    skills = ["a", "b", "c"]
    cases = [
        PickedCase("1", "a", "a"),
        PickedCase("2", "a", "a"),
        PickedCase("3", "a", "b"),  # a's prompt stolen by b
        PickedCase("4", "b", "b"),
        PickedCase("5", "b", NO_SKILL),  # b missed, nothing picked
        PickedCase("6", NO_SKILL, NO_SKILL),
        PickedCase("7", NO_SKILL, "a"),  # a fires on a prompt for no skill
        PickedCase("8", "c", None, errored_calls=3),  # every call errored: counted apart
        PickedCase("9", "c", "c", errored_calls=1),
    ]
    m = model_metrics(cases, skills)
    a, b, c = m["skills"]["a"], m["skills"]["b"], m["skills"]["c"]
    assert (a["tp"], a["fp"], a["fn"]) == (2, 1, 1)
    assert (b["tp"], b["fp"], b["fn"]) == (1, 1, 1)
    assert (c["tp"], c["fp"], c["fn"]) == (1, 0, 0)
    assert a["precision"] == round(2 / 3, 4) and a["recall"] == round(2 / 3, 4)
    assert a["f1"] == round(4 / 6, 4)
    assert b["f1"] == 0.5 and c["f1"] == 1.0
    assert a["ci"]["precision"] == _wilson_by_hand(2, 3)
    assert a["ci"]["f1"] == _wilson_by_hand(2, 3)  # TP / (TP + (FP + FN) / 2)
    assert a["stolen_by"] == {"b": ["3"]}
    assert b["stolen_by"] == {NO_SKILL: ["5"]}
    assert m["none_accuracy"] == 0.5 and m["none_cases"] == 2
    assert m["cases"] == 8 and m["routed_right"] == round(5 / 8, 4)
    assert m["errored_cases"] == 1 and m["errored_calls"] == 4
    assert m["confusion"] == {
        "a": {"a": 2, "b": 1},
        "b": {"b": 1, NO_SKILL: 1},
        NO_SKILL: {NO_SKILL: 1, "a": 1},
        "c": {"c": 1},
    }


def test_wilson_finds_a_known_proportion():
    assert wilson(0, 0) is None
    low, high = wilson(40, 100)
    assert low < 0.4 < high and high - low < 0.2
    assert wilson(3, 3)[1] == 1.0
