"""Applying many observations at once (issue 23, in part): one transaction, a bad id refuses all."""

from __future__ import annotations

import json

from conftest import snapshot


def _observe(cli, *args: str) -> int:
    cli.ok("observe", *args)
    return max(o["id"] for o in json.loads(cli.ok("export", "observations", "--format", "json").out))


def test_several_ids_apply_in_one_transaction_and_a_bad_one_refuses_all(cli, db):
    a = _observe(cli, "widget-factory-built", "--date", "2025-03-01", "--source", "a")
    b = _observe(cli, "widget-orders", "--value", "1500", "--date", "2025-04-01", "--source", "b")
    before = snapshot(db)
    bad = cli("apply", str(a), str(b), "999")
    assert bad.code == 2 and "unknown observation id 999" in bad.err
    assert snapshot(db) == before  # the two good ones were not applied either
    twice = cli("apply", str(a), str(a))
    assert twice.code == 2 and "named twice" in twice.err
    r = cli("apply", str(b), str(a))
    assert r.code == 0, r.err
    assert f"observation {b} applied" in r.out and f"observation {a} applied" in r.out
    together = cli.ok("list", "--as-of", "2025-06-30", "--format", "json").json
    prior = 0.675  # `likely` in the catalog (the ICD 203 band's midpoint): ratio 3 then 2 in odds form, no decay
    odds = prior / (1 - prior) * 3 * 2
    [widget] = [p for p in together if p["id"] == "widget-launch"]
    assert abs(widget["probability"] - odds / (1 + odds)) < 1e-9


def test_pending_applies_in_date_order_and_leaves_what_moves_nothing(cli, db):
    late = _observe(cli, "widget-orders", "--value", "1500", "--date", "2025-04-01", "--source", "b")
    early = _observe(cli, "widget-factory-built", "--date", "2025-03-01", "--source", "a")
    context = _observe(cli, "widget-recall", "--date", "2024-06-01", "--source", "before it opened")
    other = _observe(cli, "gadget-bill", "--date", "2025-05-01", "--source", "c")
    only = cli("apply", "--pending", "--indicator", "gadget-bill")
    assert only.code == 0 and f"observation {other} applied" in only.out and "applied 1 observation(s)" in only.out
    dated = cli("apply", "--pending", "--before", "2025-03-15")
    assert f"observation {early} applied" in dated.out and f"observation {late} applied" not in dated.out
    rest = cli("apply", "--pending")
    assert rest.code == 0, rest.err
    assert f"observation {late} applied" in rest.out
    assert f"observation {context} (widget-recall on 2024-06-01) left as it was" in rest.out
    assert "applied 1 observation(s); 1 left as they were" in rest.out
    queue = cli.ok("review", "--as-of", "2025-06-30", "--format", "json").json
    assert not [i for i in queue if i["reason"] in ("fired-unchanged", "unapplied-observation")]


def test_import_without_apply_says_the_rows_do_not_count(cli, db, tmp_path):
    (tmp_path / "o.csv").write_text("indicator,observed_on,value,source,note\nwidget-factory-built,2025-05-01,,s,\n")
    r = cli("import", tmp_path / "o.csv")
    assert r.code == 0 and "1 row(s) stored, not counted: apply them with 'forecast-tracker apply --pending'" in r.out
    (tmp_path / "p.csv").write_text("indicator,observed_on,value,source,note\nwidget-factory-built,2025-05-02,,s,\n")
    applied = cli("import", tmp_path / "p.csv", "--apply")
    assert applied.code == 0 and "not counted" not in applied.out


def test_observe_dry_run_prints_the_full_effect_and_writes_nothing(cli, db):
    cli.ok("observe", "widget-factory-built", "--date", "2025-03-01", "--source", "a", "--apply")
    before = snapshot(db)
    raw = (db).read_bytes()
    preview = cli("observe", "widget-orders", "--value", "1500", "--date", "2025-04-01", "--source", "b", "--apply", "--dry-run")
    assert preview.code == 0, preview.err
    assert preview.out.startswith("dry run, nothing written: widget-orders on 2025-04-01")
    assert "would be applied as evidence" in preview.out
    assert snapshot(db) == before and db.read_bytes() == raw  # byte-identical
    real = cli.ok("observe", "widget-orders", "--value", "1500", "--date", "2025-04-01", "--source", "b", "--apply")
    effect = lambda text: text.splitlines()[1].split("  (")[0]  # noqa: E731 - "P: before -> after on DAY"
    assert effect(preview.out) == effect(real.out)
    # the checks run as for a real row: a duplicate is refused, and an event before it opened is context
    assert cli("observe", "widget-orders", "--value", "1500", "--date", "2025-04-01", "--source", "b", "--dry-run").code == 2
    context = cli.ok("observe", "widget-recall", "--date", "2024-06-01", "--source", "c", "--dry-run")
    assert "counts for nothing" in context.out


def test_resolve_needs_a_source_and_prints_the_final_forecast_and_its_scores(cli, db):
    before = snapshot(db)
    bare = cli("resolve", "widget-launch", "yes", "--date", "2025-05-01")
    assert bare.code == 2 and "--no-source" in bare.err
    assert snapshot(db) == before
    r = cli("resolve", "widget-launch", "yes", "--date", "2025-05-01", "--source", "gazette")
    assert r.code == 0, r.err
    # the prior `likely` (0.675) stood until then, with no decay: the final forecast and Brier by hand
    assert "final forecast 0.68 (likely)" in r.out and f"Brier {(1 - 0.675) ** 2:.4f}" in r.out
    annulled = cli("resolve", "gadget-ban", "annulled", "--date", "2025-05-01", "--no-source")
    assert annulled.code == 0 and "annulled: no score" in annulled.out
