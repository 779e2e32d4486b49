"""docs/evidence-model.md, the calibration study: on a simulated world with known truth, the default model beats the
naive chain and the prior by a wide margin. The full study is tests/benchmarks/calibration.py; this
runs it at a fifth of the size (a second or so) and holds it to the claims in docs/evidence-model.md."""

import importlib.util
import sys
from pathlib import Path

STUDY = Path(__file__).parent / "benchmarks" / "calibration.py"


def run_study(*argv: str) -> dict:
    spec = importlib.util.spec_from_file_location("calibration_study", STUDY)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module.study(module.parse_args(["--questions", "300", *argv]))


def test_default_is_far_below_the_prior_and_the_naive_chain():
    results = run_study()
    default, prior, naive = (results[k] for k in ("default (once + decay)", "prior", "naive"))
    assert default["time_averaged_brier"] < 0.85 * prior["time_averaged_brier"]
    assert default["time_averaged_brier"] < 0.6 * naive["time_averaged_brier"]
    assert default["time_averaged_log_loss"] < 0.5 * naive["time_averaged_log_loss"]
    assert default["calibration_error"] < prior["calibration_error"]


def test_once_beats_diminishing_with_decay():
    results = run_study()
    assert results["default (once + decay)"]["time_averaged_brier"] < results["diminishing + decay"]["time_averaged_brier"]
