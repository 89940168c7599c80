"""The edge cleaner: whatever comes in, what comes out is storable UTF-8 without NUL."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from skillcheck.text import REPLACEMENT, clean_data, clean_text

# Every code point, surrogates and NUL included (Hypothesis leaves surrogates out by default).
any_text = st.text(st.characters(blacklist_categories=()))
clean = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


@given(any_text)
def test_output_is_utf8_without_nul(value):
    cleaned = clean_text(value)
    cleaned.encode("utf-8")
    assert "\x00" not in cleaned


@given(any_text)
def test_cleaning_twice_changes_nothing(value):
    once = clean_text(value)
    assert clean_text(once) == once


@given(clean)
def test_clean_text_is_returned_as_it_is(value):
    assert clean_text(value) is value


@given(clean, clean)
def test_a_lone_surrogate_or_nul_becomes_one_replacement_character(left, right):
    for bad in ("\ud800", "\udfff", "\x00"):
        assert clean_text(left + bad + right) == left + REPLACEMENT + right


def test_a_surrogate_pair_held_as_two_code_points_becomes_its_character():
    assert clean_text("a\ud83d\ude00b") == "a\U0001f600b"
    assert clean_text("\ude00\ud83d") == REPLACEMENT * 2  # reversed: two lone halves


json_like = st.recursive(
    st.none() | st.integers() | any_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(any_text, children),
    max_leaves=20,
)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)


@given(json_like)
def test_clean_data_cleans_every_string_and_key(value):
    cleaned = clean_data(value)
    for text in _strings(cleaned):
        text.encode("utf-8")
        assert "\x00" not in text


def test_clean_data_keeps_containers_order_and_attributes_and_survives_depth_and_cycles():
    class Tagged(dict):
        line = 7

    tagged = Tagged({"b\x00": 1, "a": "x\ud800"})
    assert clean_data(tagged) is tagged
    assert list(tagged.items()) == [("b" + REPLACEMENT, 1), ("a", "x" + REPLACEMENT)]
    assert tagged.line == 7

    deep: list = ["\x00"]
    for _ in range(100_000):
        deep = [deep]
    clean_data(deep)

    loop: list = ["\x00"]
    loop.append(loop)
    assert clean_data(loop)[0] == REPLACEMENT
