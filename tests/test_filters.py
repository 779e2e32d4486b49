"""Every template filter, on its own: the scorecards format only through these."""

import markupsafe
import pytest

from forecast_tracker.scorecard.filters import FILTERS


def test_every_filter_is_tested_here():
    tested = {name.removeprefix("test_") for name in globals() if name.startswith("test_")} | set(LOOPS)
    assert set(FILTERS) <= tested


@pytest.mark.parametrize(("value", "text"), [(None, "–"), (0.85, "0.85 (very likely)"), (0.5, "0.50 (roughly even chance)")])
def test_prob(value, text):
    assert FILTERS["prob"](value) == text


@pytest.mark.parametrize(("value", "text"), [(None, "–"), (0.675, "68%"), (0.001, "<1%"), (1.0, ">99%"), (0.994, ">99%"), (0.011, "1%")])
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


# -- the table-row filters, against the template loops they replace ------------------------------
# Each filter must write exactly what the Jinja loop wrote (autoescaped in HTML, `md` in Markdown),
# for hostile text too: the loop through the template engine is the independent implementation.
HOSTILE = "<script>alert('x')</script> & \"quotes\" | pipes *stars* [link](x) `code` ~~del~~ \\ \n new line"
LOOPS = {
    "evidence_rows_html": (
        False,
        '{% for e in rows %}<tr{% if e.retracted %} class="retracted"{% endif %}><td class="nowrap">{{ e.observed_on }}</td><td>{{ e.indicator }}</td><td class="nowrap">{{ e.value | value }}</td><td class="{{ e.direction }}">{{ e.direction }}</td><td class="nowrap">{{ e.decibans | db }}</td><td>{{ e.note }}{% if e.retracted %} (retracted: {{ e.retracted }}){% endif %}</td><td>{{ e.source }}</td></tr>\n{% endfor %}',
    ),  # noqa: E501
    "step_rows_html": (
        False,
        '{% for u in rows %}<tr><td class="nowrap">{{ u.as_of }}</td><td class="nowrap">{{ u.previous | pct }} &rarr; {{ u.probability | pct }}</td><td>{{ u.method }}</td><td class="nowrap">{{ u.decibans | db }}</td><td>{{ u.rationale }}</td><td>{{ u.forecaster }}</td></tr>\n{% endfor %}',
    ),  # noqa: E501
    "evidence_rows_md": (
        True,
        "{% for e in rows %}| {{ e.observed_on }} | {{ e.indicator }} | {{ e.value | value }} | {{ e.direction }} | {{ e.decibans | db }} | {% if e.retracted %}{% if e.note %}~~{{ e.note | md }}~~ {% endif %}(retracted: {{ e.retracted | md }}){% else %}{{ e.note | md }}{% endif %} | {{ e.source | md }} |\n{% endfor %}",
    ),  # noqa: E501
    "step_rows_md": (
        True,
        "{% for u in rows %}| {{ u.as_of }} | {{ u.previous | pct }} → {{ u.probability | pct }} | {{ u.method }} | {{ u.decibans | db }} | {{ u.rationale | md }} | {{ u.forecaster | md }} |\n{% endfor %}",
    ),  # noqa: E501
}


def _rows(kind):
    from forecast_tracker.scorecard.context import EvidenceRow, UpdateRow

    if kind.startswith("evidence"):
        return [
            EvidenceRow(1, "2025-03-01", "gadget-bill", "d", None, HOSTILE, HOSTILE, "supports", 2.0, 3.0103, None, 3.0103),
            EvidenceRow(2, "2025-03-02", "gadget-<b>", "d", 1250.5, "", "", "not applied", None, None, HOSTILE),
            EvidenceRow(3, "2025-03-03", "x", "d", 0.0, "plain", "Gazette", "opposes", 0.5, -3.0103, "misdated"),
        ]
    return [
        UpdateRow("2025-03-01", 0.7, 0.5, "manual", HOSTILE, None, None, None, HOSTILE),
        UpdateRow("2025-03-02", 0.71, 0.7, "indicator", "gadget-bill fired: likelihood ratio 2 (+3.0 dB)", "g", 4, 3.0103, ""),
        UpdateRow("2025-03-09", 0.6, 0.71, "decay", "no decisive news for 7 days: 0.71 → 0.60", None, None, -2.1, ""),
    ]


@pytest.mark.parametrize("name", list(LOOPS))
def test_row_filters_write_what_the_template_loop_wrote(name):
    import jinja2

    markdown, loop = LOOPS[name]
    env = jinja2.Environment(autoescape=not markdown)
    env.filters.update(FILTERS)
    rows = _rows(name)
    assert str(FILTERS[name](rows)) == env.from_string(loop).render(rows=rows)
    assert "<script>" not in str(FILTERS[name](rows))  # escaped either way
    assert FILTERS[name]([]) == ""
