import textwrap

from forecast_tracker.catalog import load_catalog, parse_proposition_file

from conftest import WIDGET


def test_good_file_parses():
    definition, problems = parse_proposition_file(WIDGET, "widget-launch.yaml")
    assert problems == []
    assert definition.prior == 0.675 and definition.prior_phrase == "is likely to launch"
    assert [i.id for i in definition.indicators] == ["widget-factory-built", "widget-orders", "widget-recall"]
    assert definition.indicators[1].threshold == 1000 and definition.indicators[1].likelihood_ratio_if_not_met == 0.5


def test_every_mistake_reported_with_key_path():
    text = textwrap.dedent(
        """\
        proposition:
          id: Bad_Slug
          statement: x
          opened: 2025-13-01
          resolve_by: 2024-01-01
          prior: 1.5
          colour: blue
          source:
            title: t
        indicators:
          - id: a
            description: d
            kind: vibe
            likelihood_ratio: 0
          - id: a
            description: d
            kind: count
            likelihood_ratio: -2
          - just a string
        """
    )
    definition, problems = parse_proposition_file(text, "bad.yaml")
    assert definition is None
    found = {(p.path, p.message.split(" ")[0]) for p in problems}
    paths = [p.path for p in problems]
    assert "proposition.id" in paths
    assert "proposition.question" in paths and "proposition.resolution_criteria" in paths
    assert "proposition.opened" in paths
    assert "proposition.prior" in paths
    assert "proposition.colour" in paths
    assert "indicators[0].kind" in paths
    assert "indicators[0].likelihood_ratio" in paths
    assert "indicators[1].id" in paths  # duplicate
    assert "indicators[1].threshold" in paths  # count without threshold
    assert "indicators[1].likelihood_ratio" in paths
    assert "indicators[2]" in paths
    assert all(str(p).startswith("bad.yaml: ") for p in problems)
    assert len(found) >= 11


def test_yaml_syntax_error_and_wrong_shapes():
    _, problems = parse_proposition_file("proposition: [unclosed", "x.yaml")
    assert problems and "not valid YAML" in problems[0].message
    _, problems = parse_proposition_file("- a list\n- not a mapping\n", "x.yaml")
    assert "expected a mapping" in problems[0].message
    _, problems = parse_proposition_file("proposition: 3\nindicators: {}\n", "x.yaml")
    assert problems[0].path == "proposition"


def test_catalog_checks_file_names_and_cross_file_duplicates(tmp_path):
    (tmp_path / "widget-launch.yaml").write_text(WIDGET)
    (tmp_path / "other.yaml").write_text(WIDGET.replace("id: widget-launch", "id: other"))
    (tmp_path / "wrong-name.yaml").write_text(WIDGET.replace("id: widget-launch", "id: not-the-file-name"))
    (tmp_path / "latin1.yaml").write_bytes("proposition: caf\xe9\n".encode("latin-1"))
    definitions, problems = load_catalog(tmp_path)
    messages = [str(p) for p in problems]
    assert any("duplicate indicator id 'widget-factory-built'" in m for m in messages)
    assert any("must match the file name" in m for m in messages)
    assert any("latin1.yaml" in m and "UTF-8" in m for m in messages)


def test_sync_is_idempotent_and_keeps_revisions(cli, db, catalog):
    again = cli("sync", "--catalog", catalog)
    assert again.code == 0
    assert "0 added, 0 changed, 7 unchanged, 0 vanished" in again.out
    path = catalog / "widget-launch.yaml"
    path.write_text(path.read_text().replace("likelihood_ratio: 3", "likelihood_ratio: 4"))
    changed = cli("sync", "--catalog", catalog)
    today = __import__("forecast_tracker.dates", fromlist=["today"]).today()
    assert (f"changed   widget-factory-built: likelihood ratio 3 -> 4 from {today}; counts for observations on or "
            "after that day (0 so far)") in changed.out  # fmt: skip
    assert "1 changed" in changed.out
    (catalog / "gadget-ban.yaml").unlink()
    vanished = cli("sync", "--catalog", catalog)
    assert "vanished  proposition gadget-ban" in vanished.out
    assert "3 vanished" in vanished.out
    # nothing deleted: the proposition is still listed
    assert "gadget-ban" in cli("list", "--format", "json").out
    from conftest import snapshot

    revisions = snapshot(db)["definition_revision"]
    assert sum(1 for r in revisions if r[2] == "widget-factory-built") == 2


def test_sync_with_errors_writes_nothing(cli, db, catalog):
    from conftest import snapshot

    before = snapshot(db)
    (catalog / "broken.yaml").write_text("proposition:\n  id: broken\n")
    (catalog / "widget-launch.yaml").write_text(WIDGET.replace("likelihood_ratio: 3", "likelihood_ratio: 5"))
    result = cli("sync", "--catalog", catalog)
    assert result.code == 2
    assert result.err.startswith("error: catalog")
    assert "broken.yaml: proposition.statement: required key is missing" in result.err
    assert snapshot(db) == before


def test_a_likelihood_ratio_is_bounded_where_the_odds_arithmetic_cannot_overflow():
    # A ratio of 1e308 was accepted: a first firing took 0.5 to 0.999 and a second overflowed the odds
    # to inf, which came out as 0.001. Ratios are bounded to +-60 dB.
    from forecast_tracker.probability import P_MAX, P_MIN, RATIO_MAX, RATIO_MIN, apply_likelihood_ratio

    for ratio, refused in (("1e308", True), ("1.0000001e6", True), ("1e-7", True), ("1e6", False), ("1e-6", False)):
        text = WIDGET.replace("likelihood_ratio: 3\n", f"likelihood_ratio: {ratio}\n", 1)
        definition, problems = parse_proposition_file(text, "widget-launch.yaml")
        if refused:
            assert [p.path for p in problems] == ["indicators[0].likelihood_ratio"], ratio
            assert "is outside [1e-06, 1e+06] (at most 60 dB either way)" in problems[0].message
        else:
            assert problems == [] and definition.indicators[0].likelihood_ratio == float(ratio)
    p = P_MAX
    for _ in range(5):  # the strongest ratios, again and again, from the clamps: never past them
        p = apply_likelihood_ratio(p, RATIO_MAX)
        assert p == P_MAX
    for _ in range(5):
        p = apply_likelihood_ratio(p, RATIO_MIN)
    assert p == P_MIN
