"""docs/evidence-model.md, the calibration study: in each simulated world with known truth, the setting
the docs recommend for that kind of signpost and question scores best. The full study is
tests/benchmarks/calibration.py; this runs it at a fifth of the size and holds it to the docs' claims."""

import importlib.util
import sys
from pathlib import Path

import pytest

STUDY = Path(__file__).parent / "benchmarks" / "calibration.py"


@pytest.fixture(scope="module")
def study():
    spec = importlib.util.spec_from_file_location("calibration_study", STUDY)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    args = module.parse_args(["--questions", "300"])
    return module.study(args), module.fits(args)


def brier(results, world, model):
    return results[world][model]["time_averaged_brier"]


def test_the_recommended_setting_scores_best_in_every_world(study):
    results, fits = study
    assert set(results) == {"restated", "misstated", "rising", "polls", "vote", "vote-polls", "level", "decisive"}
    for world, models in results.items():
        best = brier(results, world, fits[world])
        assert all(best <= r["time_averaged_brier"] for r in models.values()), world


def test_the_claims_the_docs_make(study):
    results, _fits = study
    # restated signposts: the event default far below the prior and the naive chain
    assert brier(results, "restated", "default (once + hazard)") < 0.85 * brier(results, "restated", "prior")
    assert brier(results, "restated", "default (once + hazard)") < 0.6 * brier(results, "restated", "naive (independent, no decay)")
    # a vote left on the default decay loses to the prior alone; with polls, to the naive chain too
    assert brier(results, "vote", "default (hazard)") > brier(results, "vote", "prior")
    assert brier(results, "vote-polls", "default (once + hazard)") > brier(results, "vote-polls", "prior")
    # fresh polls: every poll counts, with both ratios
    assert brier(results, "polls", "independent, both ratios + hazard") < brier(results, "polls", "default (once + hazard)")
    # a slowly moving level: latest beats once and independent
    latest = brier(results, "level", "latest, both ratios, no decay")
    assert latest < brier(results, "level", "once, both ratios, no decay")
    assert latest < brier(results, "level", "independent, both ratios, no decay")
    # a met criterion held does better than one left to decay
    assert brier(results, "decisive", "once + hazard, decides: yes") < brier(results, "decisive", "default (once + hazard), no decides")


def test_pooling_in_the_study_agrees_with_the_docs():
    # docs/scoring.md, "Pooling": on a team sharing its evidence, the geometric mean of odds is a small
    # gain over the median, the mean no better than it, and trimmed the median itself for three
    spec = importlib.util.spec_from_file_location("calibration_study_pooling", STUDY)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    pools = module.pooling(module.parse_args(["--questions", "300"]))
    shared = pools["shared"]
    assert shared["geo-odds"] < shared["median"] and shared["geo-odds"] < shared["mean"]
    assert shared["median"] * 0.9 < shared["geo-odds"]  # a small gain, not a different league
    for methods in pools.values():  # with private signals no method that does not extremize stands out
        assert max(methods.values()) < 1.05 * min(methods.values())
        assert methods["trimmed"] == pytest.approx(methods["median"])
