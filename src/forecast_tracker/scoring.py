"""Pure scoring functions: Brier (both scales), log loss, Metaculus baseline, time averages,
calibration and Murphy's decomposition. No database, no files.

`outcome` is 1 for yes and 0 for no throughout; annulled propositions never reach these functions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .dates import days_between

if TYPE_CHECKING:
    import pandas as pd

MIN_FOR_DECOMPOSITION = 10


def brier(p: float, outcome: int) -> float:
    return (p - outcome) ** 2


def brier_2(p: float, outcome: int) -> float:
    """The 0-2 scale of Good Judgment Open and Fatebook (both outcomes' squared errors)."""
    return 2.0 * (p - outcome) ** 2


def log_loss(p: float, outcome: int) -> float:
    return -math.log(p if outcome == 1 else 1.0 - p)


def baseline_score(p: float, outcome: int) -> float:
    """Metaculus baseline score: 100 x (log2 P(outcome) + 1)."""
    return 100.0 * (math.log2(p if outcome == 1 else 1.0 - p) + 1.0)


# -- time averages over the scheduled life ------------------------------------------------------
def life_days(opened: str, resolve_by: str, resolved_on: str) -> int:
    """L: days from `opened` to `resolve_by`, or to `resolved_on` when it resolves later (at least 1)."""
    return max(1, days_between(opened, max(resolve_by, resolved_on)))


# Every float sum is math.fsum: exactly rounded, so a score is the same to the last bit on every Python
# (3.12 made the built-in sum() compensated, which changed the last digits of the golden files).


def time_average(daily: Sequence[float], outcome: int, life: int, score: Callable[[float, int], float]) -> float:
    """Sum of score(p_d, outcome) over the days the question was open, divided by its scheduled life.

    Days after an early resolution add 0. Dividing by the days actually open instead would weight each
    question by its outcome and reward overconfidence on questions that can only resolve YES early."""
    return math.fsum(score(p, outcome) for p in daily) / life


# -- per proposition and across propositions -----------------------------------------------------
SCORE_COLUMNS = [
    "id",
    "outcome",
    "resolved_on",
    "time_averaged_brier",
    "prior_time_averaged_brier",
    "baseline_score",
    "final_probability",
    "brier",
    "brier_2",
    "log_loss",
    "prior",
    "prior_brier",
]


def score_propositions(resolved: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Score each resolved proposition (see `score_row`), one row each."""
    return score_table([score_row(r) for r in resolved])


def score_table(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Rows from `score_row` (from any number of batches) as the table every view reads."""
    import pandas as pd

    return pd.DataFrame(list(rows), columns=[*SCORE_COLUMNS, "origin"])


def score_row(r: Mapping[str, Any]) -> dict[str, Any]:
    """One resolved proposition's scores.

    `r`: id, origin, outcome (yes/no/annulled), resolved_on, prior, `daily` (the probability on each
    day from opened to the day before resolved_on), `final` (the last of those) and `life` (L).
    Annulled propositions get null scores.
    """
    row = {"id": r["id"], "origin": r.get("origin", "commentary"), "outcome": r["outcome"], "resolved_on": r["resolved_on"],
           "prior": float(r["prior"])}  # fmt: skip
    if r["outcome"] not in ("yes", "no"):
        row.update({k: None for k in SCORE_COLUMNS if k not in row})
        return row
    o = 1 if r["outcome"] == "yes" else 0
    p, daily, life, prior = float(r["final"]), r["daily"], r["life"], float(r["prior"])
    row.update(
        final_probability=p,
        brier=brier(p, o),
        brier_2=brier_2(p, o),
        log_loss=log_loss(p, o),
        time_averaged_brier=time_average(daily, o, life, brier),
        baseline_score=time_average(daily, o, life, baseline_score),
        prior_brier=brier(prior, o),
        prior_time_averaged_brier=len(daily) * brier(prior, o) / life,
    )
    return row


def summarise(rows: Iterable[Mapping[str, Any]]) -> dict[str, float | int | None]:
    """Means over scored (yes/no) propositions (rows from `score_row`), and skill versus the
    commentary's priors: 1 - (sum of time-averaged Brier) / (sum of the prior's), over propositions
    whose origin is the commentary."""
    scored = [r for r in rows if r["outcome"] in ("yes", "no")]
    n = len(scored)

    def mean(col: str) -> float | None:
        return math.fsum(float(r[col]) for r in scored) / n if n else None

    commentary = [r for r in scored if r.get("origin", "commentary") == "commentary"]
    ours = math.fsum(float(r["time_averaged_brier"]) for r in commentary)
    theirs = math.fsum(float(r["prior_time_averaged_brier"]) for r in commentary)
    skill = 1.0 - ours / theirs if commentary and theirs > 0 else None
    return {
        "n_resolved": n,
        "mean_time_averaged_brier": mean("time_averaged_brier"),
        "mean_prior_time_averaged_brier": mean("prior_time_averaged_brier"),
        "skill_vs_prior": skill,
        "n_commentary": len(commentary),
        "mean_baseline_score": mean("baseline_score"),
        "mean_brier": mean("brier"),
        "mean_brier_2": mean("brier_2"),
        "mean_log_loss": mean("log_loss"),
        "mean_prior_brier": mean("prior_brier"),
    }


def forecaster_item(item: Mapping[str, Any]) -> tuple[str, float, float, int] | None:
    """Forecasters are scored side by side, each on the propositions they forecast; this is one of
    them on one proposition, reduced to (forecaster, own time-averaged Brier, relative Brier, forecast
    days), or None when they have no forecast days there; `forecaster_table` combines them.

    `item`: forecaster, outcome (yes/no), `mine` (their probability on each of their forecast days:
    from their first update to the day before resolution) and `team` (the team median on the same
    days). Own: the time-averaged Brier over their forecast days (as Good Judgment Open scores a
    question). Relative: theirs minus the team median's on the same days (negative is better than the
    team, as Fatebook's relative score)."""
    o = 1.0 if item["outcome"] == "yes" else 0.0
    mine, team = list(item["mine"]), list(item["team"])
    if not mine or len(mine) != len(team):
        return None
    own = math.fsum((p - o) ** 2 for p in mine) / len(mine)
    theirs = math.fsum((p - o) ** 2 for p in team) / len(team)
    return item["forecaster"], own, own - theirs, len(mine)


def forecaster_table(reduced: Iterable[tuple[str, float, float, int]]) -> list[dict[str, Any]]:
    """The side-by-side rows from items reduced by `forecaster_item` (from any number of batches): the
    mean of each score over a forecaster's propositions, best relative score first."""
    per: dict[str, list[tuple[float, float, int]]] = {}
    for name, own, relative, days in reduced:
        per.setdefault(name, []).append((own, relative, days))
    rows = [
        {
            "forecaster": name,
            "n_resolved": len(scores),
            "mean_time_averaged_brier": math.fsum(s[0] for s in scores) / len(scores),
            "mean_relative_brier": math.fsum(s[1] for s in scores) / len(scores),
            "forecast_days": sum(s[2] for s in scores),
        }
        for name, scores in per.items()
    ]
    return sorted(rows, key=lambda r: (r["mean_relative_brier"], r["forecaster"]))


def _bin_ids(p: Sequence[float], n_bins: int) -> list[int]:
    # Right-closed equal-width bins, as scikit-learn's calibration_curve: 0.2 falls in (0, 0.2].
    import numpy as np

    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return list(np.searchsorted(edges[1:-1], np.asarray(p, dtype=float), side="left"))


CALIBRATION_COLUMNS = ("bin_low", "bin_high", "mean_forecast", "observed_frequency", "count")


def calibration_rows(p: Sequence[float], o: Sequence[int], n_bins: int = 10) -> list[dict[str, float]]:
    """Per non-empty bin, in order: its range, mean forecast, observed frequency of yes, and count."""
    bins: dict[int, list[tuple[float, int]]] = {}
    for b, pi, oi in zip(_bin_ids(p, n_bins) if len(p) else [], p, o, strict=True):
        bins.setdefault(int(b), []).append((float(pi), int(oi)))
    return [
        {
            "bin_low": b / n_bins,
            "bin_high": (b + 1) / n_bins,
            "mean_forecast": math.fsum(x for x, _ in group) / len(group),
            "observed_frequency": math.fsum(y for _, y in group) / len(group),
            "count": len(group),
        }
        for b, group in sorted(bins.items())
    ]


def calibration_table(p: Sequence[float], o: Sequence[int], n_bins: int = 10) -> pd.DataFrame:
    """`calibration_rows` as a DataFrame, for notebooks."""
    import pandas as pd

    return pd.DataFrame(calibration_rows(p, o, n_bins), columns=list(CALIBRATION_COLUMNS))


def murphy_decomposition(p: Sequence[float], o: Sequence[int], n_bins: int = 10) -> dict[str, float]:
    """Brier = reliability - resolution + uncertainty (+ a within-bin residual when forecasts in a bin differ).

    The three-term form over binned forecasts; `residual` is brier - (rel - res + unc), which is 0 when
    every forecast in a bin is the same and otherwise holds the within-bin variance terms.
    """
    table = calibration_rows(p, o, n_bins)
    n = len(p)
    base_rate = sum(o) / n
    rel = math.fsum(r["count"] * (r["mean_forecast"] - r["observed_frequency"]) ** 2 for r in table) / n
    res = math.fsum(r["count"] * (r["observed_frequency"] - base_rate) ** 2 for r in table) / n
    unc = base_rate * (1 - base_rate)
    bs = math.fsum(brier(pi, oi) for pi, oi in zip(p, o, strict=False)) / n
    return {"brier": bs, "reliability": rel, "resolution": res, "uncertainty": unc, "residual": bs - (rel - res + unc)}
