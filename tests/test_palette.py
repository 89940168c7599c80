"""The heatmap's colours, light (app.css) and dark (dark.css, which overrides it): every glyph
and number on its fill passes WCAG AA (4.5:1), in both modes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[1] / "static" / "heatmap"
LIGHT = (STATIC / "app.css").read_text()
DARK = (STATIC / "dark.css").read_text()
AA = 4.5
both_modes = pytest.mark.parametrize("css", [LIGHT, DARK], ids=["light", "dark"])


def _luminance(colour: str) -> float:
    colour = colour.lstrip("#")
    if len(colour) == 3:
        colour = "".join(c * 2 for c in colour)
    channels = [int(colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_formula_matches_known_values():
    assert round(contrast("#000", "#fff"), 1) == 21.0
    assert round(contrast("#777777", "#ffffff"), 2) == 4.48  # the classic just-failing grey


@both_modes
def test_every_result_state_is_readable_on_its_fill(css: str):
    pairs = re.findall(r"--(\w+)-bg:\s*(#[0-9a-fA-F]+);\s*--\1-fg:\s*(#[0-9a-fA-F]+)", css)
    assert {name for name, _, _ in pairs} >= {"pass", "fail", "unclear", "na", "notrun"}
    weak = {name: round(contrast(bg, fg), 2) for name, bg, fg in pairs if contrast(bg, fg) < AA}
    assert weak == {}


@both_modes
def test_every_pass_pct_step_is_readable(css: str):
    steps = re.findall(r"\.(pct-\w+) \{ background: (#[0-9a-fA-F]+); color: (#[0-9a-fA-F]+);", css)
    assert {name for name, _, _ in steps} >= {f"pct-{i}" for i in range(10)} | {"pct-none"}
    weak = {name: round(contrast(bg, fg), 2) for name, bg, fg in steps if contrast(bg, fg) < AA}
    assert weak == {}


@both_modes
def test_fail_and_pass_differ_in_lightness_not_only_in_hue(css: str):
    """Colour-blind readers tell fail from pass by lightness; the glyphs remain too."""
    bg = dict(re.findall(r"--(\w+)-bg:\s*(#[0-9a-fA-F]+)", css))
    assert contrast(bg["fail"], bg["pass"]) >= 3


@both_modes
def test_every_routing_share_is_readable(css: str):
    steps = re.findall(r"\.(conf-\d) \{ background: (#[0-9a-fA-F]+); color: (#[0-9a-fA-F]+);", css)
    assert {name for name, _, _ in steps} == {f"conf-{i}" for i in range(6)}
    weak = {name: round(contrast(bg, fg), 2) for name, bg, fg in steps if contrast(bg, fg) < AA}
    assert weak == {}


def test_dark_text_and_links_are_readable_on_every_surface():
    colours = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]+)", DARK))
    weak = {
        f"{fg} on {bg}": round(contrast(colours[bg], colours[fg]), 2)
        for bg in ("page-bg", "surface", "surface-2")
        for fg in ("text", "muted", "link", "error", "ok", "focus")
        if contrast(colours[bg], colours[fg]) < AA
    }
    assert weak == {}


def test_the_dark_scale_goes_from_red_to_blue():
    """The same reading as the light scale: low pass % red, high blue (by the channels)."""
    steps = dict(re.findall(r"\.pct-(\d) \{ background: #([0-9a-fA-F]{6});", DARK))
    red, _, blue = (int(steps["0"][i : i + 2], 16) for i in (0, 2, 4))
    assert red > 2 * blue
    red, _, blue = (int(steps["9"][i : i + 2], 16) for i in (0, 2, 4))
    assert blue > 2 * red
