from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillcheck.catalog import load_taxonomy
from skillcheck.parser import NOT_SCORED, parse_response
from skillcheck.prompt import build_system_prompt
from skillcheck.text import clean_text

CHECK_IDS = [c.id for c in load_taxonomy().model_checks]


def answer(payload, prose: str = "## Approach\nLooks fine.\n") -> str:
    return f"{prose}\n```json\n{json.dumps(payload)}\n```\n"


def test_parses_checks_risk_and_keeps_markdown():
    text = answer(
        {
            "risk_level": "high",
            "checks": {"WF-1": {"result": "pass", "evidence": "SKILL.md:3", "summary": "ok"}},
        }
    )
    parsed = parse_response(text, CHECK_IDS)
    assert parsed.error is None
    assert parsed.risk_level == "HIGH"
    assert parsed.markdown == text
    by_id = {c.check_id: c for c in parsed.checks}
    assert [c.check_id for c in parsed.checks] == CHECK_IDS
    assert (by_id["WF-1"].result, by_id["WF-1"].evidence) == ("pass", "SKILL.md:3")
    assert (by_id["WF-2"].result, by_id["WF-2"].summary) == ("unclear", NOT_SCORED)


def test_takes_the_last_json_block():
    first = answer({"checks": {"WF-1": "fail"}})
    last = answer({"checks": {"WF-1": "pass"}}, prose="Revised:")
    parsed = parse_response(first + last, ["WF-1"])
    assert parsed.checks[0].result == "pass"


def test_accepts_a_list_of_checks():
    parsed = parse_response(
        answer(
            {"checks": [{"check_id": "WF-1", "result": "NA"}, {"id": "WF-2", "result": "fail"}]}
        ),
        ["WF-1", "WF-2"],
    )
    assert [c.result for c in parsed.checks] == ["na", "fail"]


def test_unknown_result_becomes_unclear_and_unknown_risk():
    parsed = parse_response(
        answer({"risk_level": "apocalyptic", "checks": {"WF-1": {"result": "maybe"}}}), ["WF-1"]
    )
    assert parsed.checks[0].result == "unclear"
    assert parsed.risk_level == "UNKNOWN"


def test_no_json_block_makes_every_check_unclear_with_reason():
    parsed = parse_response("## Verdict\nNo JSON here.", CHECK_IDS)
    assert parsed.error == "no JSON block in the answer"
    assert {c.result for c in parsed.checks} == {"unclear"}
    assert all(c.summary == parsed.error for c in parsed.checks)
    assert parsed.markdown == "## Verdict\nNo JSON here."


def test_broken_json_keeps_markdown_and_says_why():
    text = 'Analysis\n```json\n{"checks": {"WF-1": \n```'
    parsed = parse_response(text, ["WF-1"])
    assert parsed.error.startswith("broken JSON block")
    assert parsed.checks[0].result == "unclear"
    assert parsed.markdown == text


def test_hostile_html_is_kept_verbatim():
    evil = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    text = answer({"checks": {"WF-1": {"result": "fail", "evidence": evil}}}, prose=evil)
    parsed = parse_response(text, ["WF-1"])
    assert parsed.checks[0].evidence == evil
    assert evil in parsed.markdown


def test_megabytes_of_text_parse():
    text = "x" * 5_000_000 + answer({"checks": {"WF-1": "pass"}})
    assert parse_response(text, ["WF-1"]).checks[0].result == "pass"


def test_system_prompt_lists_every_model_check_and_the_format():
    taxonomy = load_taxonomy()
    prompt = build_system_prompt(taxonomy)
    for check in taxonomy.model_checks:
        assert f"- {check.id} [{check.severity}] {check.name}: {check.description}" in prompt
    assert "BP-1" not in prompt
    assert "## Risk Assessment" in prompt
    assert "```json" in prompt


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(prose=st.text(), payload=json_values, fence=st.sampled_from(["```json", "```JSON", "```"]))
def test_any_answer_yields_one_valid_result_per_check(prose, payload, fence):
    text = f"{prose}\n{fence}\n{json.dumps(payload)}\n```"
    parsed = parse_response(text, CHECK_IDS)
    assert [c.check_id for c in parsed.checks] == CHECK_IDS
    assert {c.result for c in parsed.checks} <= {"pass", "fail", "unclear", "na"}
    assert parsed.risk_level in {"LOW", "MEDIUM", "HIGH", "CRITICAL", "UNKNOWN"}
    assert parsed.markdown == clean_text(text)
    assert all(isinstance(c.evidence, str) and isinstance(c.summary, str) for c in parsed.checks)
    for value in [parsed.markdown, *(c.evidence + c.summary for c in parsed.checks)]:
        assert "\x00" not in value
        value.encode("utf-8")  # no lone surrogate


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_categories=()), max_size=2000))
def test_arbitrary_unicode_never_raises(text):
    parsed = parse_response(text, CHECK_IDS)
    assert len(parsed.checks) == len(CHECK_IDS)
    assert parsed.markdown == clean_text(text)


@settings(max_examples=100, deadline=None)
@given(
    checks=st.dictionaries(
        st.sampled_from(CHECK_IDS),
        st.fixed_dictionaries(
            {
                "result": st.sampled_from(["pass", "fail", "unclear", "na"]),
                "evidence": st.text(),
                "summary": st.text(),
            }
        ),
    )
)
def test_well_formed_answers_round_trip(checks):
    parsed = parse_response(answer({"risk_level": "LOW", "checks": checks}), CHECK_IDS)
    if not checks:
        assert parsed.error == "JSON block scores no check"
        return
    for check in parsed.checks:
        if check.check_id in checks:
            assert check.result == checks[check.check_id]["result"]
            assert check.evidence == clean_text(checks[check.check_id]["evidence"])
        else:
            assert check.summary == NOT_SCORED


def test_escaped_surrogates_and_nul_in_the_json_block_come_out_clean():
    raw = '{"checks": {"WF-1": {"result": "fail", "evidence": "a\\ud800b\\u0000c"}}}'
    parsed = parse_response(f"Prose \ud800 and \x00.\n```json\n{raw}\n```", ["WF-1"])
    assert parsed.error is None
    assert parsed.checks[0].evidence == "a\ufffdb\ufffdc"
    assert parsed.markdown.startswith("Prose \ufffd and \ufffd.")


def test_backticks_and_fences_inside_json_strings_do_not_cut_the_block():
    payload = {
        "checks": {
            "WF-1": {"result": "pass", "summary": "use ```json fences```"},
            "WF-2": {"result": "fail", "evidence": "```"},
        }
    }
    parsed = parse_response(answer(payload), ["WF-1", "WF-2"])
    assert parsed.error is None
    assert [c.result for c in parsed.checks] == ["pass", "fail"]
    assert parsed.checks[0].summary == "use ```json fences```"


def test_a_broken_last_block_is_broken_even_after_a_valid_one():
    text = answer({"checks": {"WF-1": "pass"}}) + "\n```json\n{broken\n```"
    parsed = parse_response(text, ["WF-1"])
    assert parsed.error.startswith("broken JSON block")
    assert parsed.checks[0].result == "unclear"


def test_many_fences_stay_fast_and_say_why():
    parsed = parse_response("```json {" * 100_000, ["WF-1"])
    assert parsed.error.startswith("broken JSON block")


@pytest.mark.parametrize(
    "evidence", ["```JSON 0", "```json {}", "x ```json [1] ```", "```json [1] ```\n"]
)
def test_a_json_fence_inside_evidence_that_decodes_does_not_replace_the_block(evidence):
    """Found by hypothesis: the fence inside the string decoded (``0``) and was taken as the
    answer's block, so every check became unclear."""
    text = answer(
        {"risk_level": "LOW", "checks": {"WF-1": {"result": "fail", "evidence": evidence}}}
    )
    parsed = parse_response(text, CHECK_IDS)
    assert parsed.error is None
    assert parsed.checks[0].result == "fail"
    assert parsed.checks[0].evidence == evidence
