"""Scorecards: snapshots of every output, point-in-time identity, escaping of everything a user typed."""

import json
import os
import re
import sys
from pathlib import Path

import pytest

from forecast_tracker.api import Tracker


def populate(db: Path) -> None:
    """A small fixed history across February-April 2025."""
    with Tracker(db) as t:
        t.observe("widget-factory-built", date="2025-02-03", source="Trade press", note="Ground broken", apply=True, by="ana")
        t.observe("widget-orders", value=400, date="2025-03-05", source="Shop figures", note="Slow start", apply=True, by="ana")
        t.update("widget-launch", "0.7", date="2025-03-20", rationale="Launch event booked", by="ben")
        t.observe("gadget-bill", date="2025-03-10", source="Parliament", note="Bill introduced", by="ana")
        t.observe("gadget-sales", value=80, date="2025-03-12", source="Stats office", apply=True, by="ana")
        t.resolve("widget-launch", "yes", date="2025-04-02", source="Shop")


def render(db: Path, out: Path, month: str, formats=("md", "html")) -> dict[str, bytes]:
    with Tracker(db) as t:
        t.report([month], out, formats)
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file() and month in p.name}


def test_scorecard_snapshots(db, tmp_path, expect_snapshot):
    """The whole month as a reader and a script see it: Markdown, HTML, index.json, score JSON."""
    populate(db)
    out = tmp_path / "reports"
    files = render(db, out, "2025-03")
    expect_snapshot("scorecard-2025-03.md", files["2025-03.md"].decode())
    expect_snapshot("scorecard-2025-03.html", files["2025-03.html"].decode())
    expect_snapshot("index.json", (out / "index.json").read_text())
    with Tracker(db) as t:
        scores = t.scores(as_of="2025-04-30").as_json()
    expect_snapshot("score-2025-04-30.json", json.dumps(scores, indent=2, sort_keys=True) + "\n")


def test_scorecard_content(db, tmp_path):
    populate(db)
    files = render(db, tmp_path / "reports", "2025-04")
    md = files["2025-04.md"].decode()
    # by hand: open 2025-01-01, resolve_by 2026-06-30 (L = 545 days), resolved yes 2025-04-02 after 91 days:
    # 33 days at the prior 0.675, 30 at 0.8617 (x3), 15 at 0.7570 (x0.5), 13 at the manual 0.70 (no decay)
    p1 = 0.675 / 0.325 * 3 / (1 + 0.675 / 0.325 * 3)
    p2 = 0.675 / 0.325 * 1.5 / (1 + 0.675 / 0.325 * 1.5)
    tab = (33 * 0.325**2 + 30 * (1 - p1) ** 2 + 15 * (1 - p2) ** 2 + 13 * 0.3**2) / 545
    prior_tab = 91 * 0.325**2 / 545
    assert f"| widget-launch | yes | 2025-04-02 | {tab:.3f} | {prior_tab:.3f} |" in md
    assert "| 0.70 (likely) | 0.090 | 0.180 |" in md  # the final-day scores, secondary
    html = files["2025-04.html"].decode()
    assert "<svg" in html and "<script" not in html and "<link" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # self-contained: nothing fetched
    march = render(db, tmp_path / "reports", "2025-03")["2025-03.md"].decode()
    assert (
        "signpost fired but probability unchanged: gadget-bill on 2025-03-10 fired (ratio 2) but is not applied: apply 3" in march
    )
    may = render(db, tmp_path / "reports", "2025-06")["2025-06.md"].decode()
    assert "stale: no update for" in may
    from forecast_tracker.errors import InputError

    with Tracker(db) as t, pytest.raises(InputError, match="has not begun"):
        t.report(["2999-02"], tmp_path / "late", ("md",))  # a month that has not begun is refused, not rendered
    assert not (tmp_path / "late").exists()
    index = (tmp_path / "reports" / "index.html").read_text()
    assert all(f'href="{m}.html"' in index for m in ("2025-03", "2025-04", "2025-06"))


def test_point_in_time_rendering_ignores_later_facts(db, tmp_path):
    populate(db)
    before = render(db, tmp_path / "reports", "2025-03")
    with Tracker(db) as t:
        t.observe("gadget-bill", date="2025-05-01", source="Later news", apply=True)
        t.update("gadget-ban", "0.9", date="2025-06-01", rationale="later judgement")
        t.resolve("gadget-ban", "yes", date="2025-07-01")
    after = render(db, tmp_path / "reports", "2025-03")
    assert before.keys() == after.keys() and len(before) >= 4
    assert before == after


HOSTILE = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "a | b | c",
    "line one\nline two",
    "{{ 7*7 }} {% if true %}jinja{% endif %}",
]


def test_user_text_is_escaped_everywhere(cli, catalog, tmp_path):
    widget = catalog / "widget-launch.yaml"
    widget.write_text(
        widget.read_text().replace("statement: The widget launches.", 'statement: "<script>alert(1)</script> {{ 7*7 }} | pipe"')
    )
    assert cli("init", "--catalog", catalog).code == 0
    with Tracker(tmp_path / "test.db") as t:
        for i, text in enumerate(HOSTILE):
            t.observe("widget-factory-built", date=f"2025-03-0{i + 1}", source=text, note=text, apply=True)
        t.update("widget-launch", "0.6", date="2025-03-20", rationale=HOSTILE[1] + HOSTILE[4], by=HOSTILE[0])
        t.report(["2025-03"], tmp_path / "r", ("md", "html"))
    html = (tmp_path / "r" / "2025-03.html").read_text()
    md = (tmp_path / "r" / "2025-03.md").read_text()
    assert "<script" not in html.lower() and "<img" not in html
    # Markdown: every < a user typed is backslash-escaped (shown, never raw HTML), and no entities
    assert not re.search(r"(?<!\\)<", md) and "&lt;" not in md and "&#39;" not in md
    assert "\\<script\\>alert('x')\\</script\\>" in md
    for page in (html, md):
        assert "49" not in re.sub(r"<svg.*?</svg>", "", page, flags=re.S)  # Jinja in data is never evaluated
        assert "{{ 7*7 }}" in page or "{{ 7\\*7 }}" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # every Markdown table row keeps its column count: pipes in data are escaped, newlines folded
    for table in re.split(r"\n\n", md):
        rows = [r for r in table.splitlines() if r.startswith("|")]
        if rows:
            widths = {len(re.findall(r"(?<!\\)\|", r)) for r in rows}
            assert len(widths) == 1, rows


@pytest.mark.browser
def test_html_scorecard_in_headless_chromium(tmp_path):
    import shutil
    import subprocess

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing on CI (.ci/run installs it)")
        pytest.skip("chromium not installed")
    from forecast_tracker.api import build_case_study

    tracker = build_case_study(tmp_path / "case.db")
    tracker.report(["2025-06"], tmp_path / "r", ("html",))
    ids = [s.id for s in tracker.standing("2025-06-30")]
    tracker.close()
    page = tmp_path / "r" / "2025-06.html"
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
    ]
    result = subprocess.run([chromium, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    dom = result.stdout
    assert "Forecast scorecard, June 2025" in dom
    assert "Uncaught" not in result.stderr and "CONSOLE" not in result.stderr
    for pid in ids:
        assert f'id="{pid}"' in dom, pid
    charts = re.findall(r"<svg.*?</svg>", dom, flags=re.S)
    shared = [svg for svg in charts if 'id="ft-background"' in svg]
    assert len(shared) == 1  # the charts' common background, defined once on the page
    charts = [svg for svg in charts if svg not in shared]
    assert len(charts) == len(ids) + 1  # one trajectory each plus calibration
    for svg in charts:
        paths = re.findall(r'<path[^>]* d="([^"]+)"', svg)
        assert sum(len(d) for d in paths) > 60  # something was drawn, not an empty frame
    assert all('<use href="#ft-background"' in svg for svg in charts[:-1])
    shot = tmp_path / "shot.png"
    subprocess.run(
        [chromium, *flags, "--window-size=420,2000", f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120
    )
    assert shot.exists() and shot.stat().st_size > 10_000  # renders at phone width


def test_charts_are_deterministic_whatever_was_drawn_before():
    from forecast_tracker.scorecard.charts import TrajectoryData, trajectory_svg

    a = TrajectoryData(
        "2025-01-01", "2025-06-30", 0.3, (("2025-01-01", 0.3), ("2025-03-01", 0.6)), (("2025-03-01", 0.6, "supports"),), None
    )
    b = TrajectoryData(
        "2024-01-01", "2024-02-10", 0.8, (("2024-01-01", 0.8),), (("2024-01-05", 0.8, "opposes"),), ("2024-02-10", 0.0)
    )
    first = trajectory_svg(a)
    trajectory_svg(b)
    assert trajectory_svg(a) == first
    assert "<path" in first and "<svg" in first
    assert trajectory_svg(a, shared=True) != first and '<use href="#ft-background"/>' in trajectory_svg(a, shared=True)


def test_chart_axes_label_each_tick_once_and_keep_labels_inside_the_chart():
    import re as regex

    from forecast_tracker.scorecard.charts import WIDTH, TrajectoryData, trajectory_svg

    for start, end in [("2023-10-01", "2026-10-31"), ("2025-01-01", "2025-06-30"), ("2024-01-01", "2024-01-20")]:
        svg = trajectory_svg(TrajectoryData(start, end, 0.5, ((start, 0.5),), (), None))
        labels = regex.findall(r'<text x="([\d.]+)" y="13\d(?:\.\d)?" text-anchor="(\w+)">([^<]+)</text>', svg)
        names = [name for _, _, name in labels]
        assert 2 <= len(names) <= 6 and len(set(names)) == len(names), (start, end, names)
        for x, anchor, name in labels:  # a label centred on a tick must fit inside the chart's width
            half = len(name) * 2.3
            assert anchor != "middle" or half <= float(x) <= WIDTH - half, (name, x)
    assert "Jan 2024" in trajectory_svg(TrajectoryData("2023-10-01", "2026-10-31", 0.5, (("2023-10-01", 0.5),), (), None))


def test_report_files_are_readable_like_ordinary_files(db, tmp_path):
    populate(db)
    render(db, tmp_path / "reports", "2025-03")
    mask = os.umask(0)
    os.umask(mask)
    for path in (tmp_path / "reports").rglob("*.*"):
        assert path.stat().st_mode & 0o777 == 0o666 & ~mask, path


def test_range_reports_call_progress_once_per_batch_and_per_month(db, tmp_path, monkeypatch):
    from forecast_tracker.scorecard import dataset

    populate(db)
    monkeypatch.setattr(dataset, "BATCH", 1)  # two propositions: two batches
    seen = []
    with Tracker(db) as t:
        written = t.report(["2025-01", "2025-02", "2025-03"], tmp_path / "r", ("md",), progress=lambda *a: seen.append(a))
    assert seen == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    assert sorted(p.name for p in written) == ["2025-01.md", "2025-02.md", "2025-03.md", "gadget-ban.md", "index.html",
                                               "widget-launch.md"]  # fmt: skip


def test_table_headers_never_break_mid_word(db, tmp_path):
    """'anywhere' lets a browser squeeze a column to one letter ('probabilit / y'); headers stay whole."""
    populate(db)
    render(db, tmp_path / "reports", "2025-03")
    html = (tmp_path / "reports" / "2025-03.html").read_text()
    style = html[html.index("<style") : html.index("</style>")]
    assert "overflow-wrap: anywhere" not in style and "word-break: break-all" not in style
    assert re.search(r"\bth \{[^}]*white-space: nowrap", style)


def test_each_proposition_has_a_page_with_its_whole_record(db, tmp_path):
    populate(db)
    with Tracker(db) as t:
        t.report(["2025-02", "2025-03", "2025-04"], tmp_path / "r", ("md", "html"))
    page = (tmp_path / "r" / "propositions" / "widget-launch.md").read_text()
    # every observation since it opened, from any month, and every step of its chain
    assert "Ground broken" in page and "Slow start" in page and "Launch event booked" in page
    assert "[2025-02](../2025-02.md)" in page and "[2025-04](../2025-04.md)" in page
    assert "![trajectory of widget-launch](../charts/widget-launch.page.svg)" in page
    assert (tmp_path / "r" / "charts" / "widget-launch.page.svg").read_text().startswith("<svg")
    html = (tmp_path / "r" / "propositions" / "widget-launch.html").read_text()
    assert 'href="../2025-03.html#widget-launch"' in html and "Launch event booked" in html
    month = (tmp_path / "r" / "2025-03.html").read_text()
    assert 'href="propositions/widget-launch.html"' in month  # linked from every month's card
    # rendering an earlier month again keeps the pages at the latest month the folder holds
    with Tracker(db) as t:
        t.report(["2025-02"], tmp_path / "r", ("md",))
    assert "Launch event booked" in (tmp_path / "r" / "propositions" / "widget-launch.md").read_text()


def test_a_month_with_many_propositions_shows_the_rest_as_linked_rows(db, tmp_path, monkeypatch):
    from forecast_tracker.scorecard import context

    populate(db)
    monkeypatch.setattr(context, "FULL_CARDS", 1)
    files = render(db, tmp_path / "r", "2025-03")
    md, html = files["2025-03.md"].decode(), files["2025-03.html"].decode()
    assert "### The other 1 propositions" in md and "[The gadget is banned.](propositions/gadget-ban.md)" in md
    assert html.count('<section class="card"') == 1 and 'href="propositions/gadget-ban.html"' in html
    assert "2 open, 0 resolved" in md  # the header still counts every proposition


def test_unchanged_proposition_pages_are_not_written_again(db, tmp_path):
    populate(db)
    out = tmp_path / "r"
    with Tracker(db) as t:
        first = t.report(["2025-03"], out, ("md",))
        again = t.report(["2025-03"], out, ("md",))
        t.observe("gadget-bill", date="2025-03-25", source="Gazette", note="second reading", apply=True, by="ana")
        third = t.report(["2025-03"], out, ("md",))
    pages = lambda written: sorted(p.name for p in written if p.parent.name == "propositions")  # noqa: E731
    assert pages(first) == ["gadget-ban.md", "widget-launch.md"]
    assert pages(again) == []  # nothing changed: the pages stand
    assert pages(third) == ["gadget-ban.md"]  # only the proposition whose record changed
    assert "second reading" in (out / "propositions" / "gadget-ban.md").read_text()
    import sqlite3

    with sqlite3.connect(db) as conn:  # what `sync` does when the catalog changes a signpost's ratio
        conn.execute("UPDATE indicator SET likelihood_ratio = 4 WHERE id = 'widget-orders'")
    with Tracker(db) as t:
        fourth = t.report(["2025-03"], out, ("md",))
    assert pages(fourth) == ["widget-launch.md"]  # its chain changed, though none of its own rows did


@pytest.mark.skipif(not sys.platform.startswith("linux") or (os.cpu_count() or 1) < 2, reason="pages fork on Linux with 2 CPUs")
def test_a_failure_while_writing_pages_in_the_second_process_is_reported_and_leaves_no_process(db, tmp_path, monkeypatch):
    from forecast_tracker.scorecard import pages as page_writer

    populate(db)
    assert page_writer.page_processes() == 2
    monkeypatch.setenv("FORECAST_TRACKER_JOBS", "1")
    assert page_writer.page_processes() == 1
    monkeypatch.delenv("FORECAST_TRACKER_JOBS")

    def broken(*_args, **_kwargs):
        raise ValueError("disk on fire")

    forked = []
    real_fork = os.fork

    def fork():
        pid = real_fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(page_writer, "build_proposition_page", broken)
    monkeypatch.setattr(os, "fork", fork)
    out = tmp_path / "r"
    with Tracker(db) as t, pytest.raises(RuntimeError, match="writing proposition pages failed: ValueError: disk on fire"):
        t.report(["2025-03"], out, ("md",))
    assert len(forked) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(forked[0], os.WNOHANG)  # the forked writer was waited for: gone, not even a zombie
    assert not (out / "propositions" / "fingerprints.json").exists()  # nothing recorded as written


RENDER_WITH = """
import sys
from forecast_tracker.api import Tracker
with Tracker(sys.argv[1]) as t:
    t.report(["2025-03"], sys.argv[2], ("md", "html"))
"""


def test_a_changed_sentence_in_any_module_rewrites_every_page_that_shows_it(db, tmp_path):
    # The decay sentence is written by evidence.py, which no template names: changing it must still
    # rewrite the proposition pages, not only the month page (they would disagree otherwise).
    import shutil
    import subprocess

    import forecast_tracker

    populate(db)
    package = tmp_path / "src" / "forecast_tracker"
    shutil.copytree(Path(forecast_tracker.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "r"

    def render_copy() -> str:
        env = {**os.environ, "PYTHONPATH": str(package.parent)}
        done = subprocess.run([sys.executable, "-c", RENDER_WITH, str(db), str(out)], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return (out / "propositions" / "gadget-ban.md").read_text(encoding="utf-8")

    before = render_copy()
    assert "no decisive news for" in before
    evidence = package / "evidence.py"
    evidence.write_text(evidence.read_text().replace('f"no decisive news for', 'f"quiet for'))
    after = render_copy()
    assert "no decisive news for" not in after and "quiet for" in after
    assert "quiet for" in (out / "2025-03.md").read_text(encoding="utf-8")


def test_a_folder_is_repaired_and_never_stale(db, tmp_path):
    """A truncated page is written again, an orphan page (another record's) goes, a month rendered in
    one format drops its stale other format from the index, and two reports into one folder wait for
    each other (the lock)."""
    import fcntl
    import threading

    populate(db)
    out = tmp_path / "r"
    with Tracker(db) as t:
        t.report(["2025-03"], out, ("md", "html"))
        page = out / "propositions" / "widget-launch.html"
        whole = page.read_bytes()
        page.write_bytes(whole[: len(whole) // 2])  # a crash mid-write, say
        (out / "propositions" / "ghost.html").write_text("another record's page")
        (out / "charts" / "ghost.page.svg").write_text("<svg/>")
        t.report(["2025-03"], out, ("md", "html"))
        assert page.read_bytes() == whole
        assert not (out / "propositions" / "ghost.html").exists() and not (out / "charts" / "ghost.page.svg").exists()
        t.report(["2025-03"], out, ("html",))
        assert not (out / "2025-03.md").exists()
        index = (out / "index.html").read_text()
        assert 'href="2025-03.html"' in index and 'href="2025-03.md"' not in index
        # a report holding the folder makes the next one wait
        held = open(out / ".report.lock", "a+b")
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        done = threading.Event()
        worker = threading.Thread(target=lambda: (Tracker(db).report(["2025-03"], out, ("html",)), done.set()))
        worker.start()
        assert not done.wait(1.0)  # still waiting on the lock
        fcntl.flock(held.fileno(), fcntl.LOCK_UN)
        held.close()
        worker.join(timeout=60)
        assert done.is_set()
