"""Every template filter, on its own: the scorecards format only through these."""

import markupsafe
import pytest

from forecast_tracker.scorecard.filters import FILTERS


def test_every_filter_is_tested_here():
    tested = {name.removeprefix("test_") for name in globals() if name.startswith("test_")}
    assert set(FILTERS) <= tested


@pytest.mark.parametrize(("value", "text"), [(None, "–"), (0.85, "0.85 (very likely)"), (0.5, "0.50 (roughly even chance)")])
def test_prob(value, text):
    assert FILTERS["prob"](value) == text


@pytest.mark.parametrize(("value", "text"), [(None, "–"), (0.675, "68%"), (0.001, "0%"), (1.0, "100%")])
def test_pct(value, text):
    assert FILTERS["pct"](value) == text


@pytest.mark.parametrize(("value", "text"), [(None, "new"), (0.004, "±0 pts"), (0.126, "+13 pts"), (-0.3, "-30 pts")])
def test_change(value, text):
    assert FILTERS["change"](value) == text


def test_score():
    assert FILTERS["score"](None) == "–"
    assert FILTERS["score"](0.04444) == "0.044"
    assert FILTERS["score"](51.2057, 1) == "51.2"


@pytest.mark.parametrize(("value", "text"), [(None, ""), (3.0103, "+3.0 dB"), (-6.0206, "-6.0 dB"), (0.0, "+0.0 dB")])
def test_db(value, text):
    assert FILTERS["db"](value) == text


@pytest.mark.parametrize(("value", "text"), [(None, ""), (100625.0, "100,625"), (2.5, "2.5"), (0.0, "0")])
def test_value(value, text):
    assert FILTERS["value"](value) == text


def test_md():
    out = FILTERS["md"]("a | b\n*bold* <script> Pashinyan's & co")
    assert isinstance(out, markupsafe.Markup)  # already escaped: autoescape will not escape it twice
    assert "\n" not in out and "\\|" in out and "\\*bold\\*" in out and "<script>" not in out
    # a reader of the .md file sees the apostrophe and the angle bracket, not HTML entities
    assert "Pashinyan's" in out and "\\<script\\>" in out and "\\&" in out
    assert "&#39;" not in out and "&lt;" not in out and "&amp;" not in out
