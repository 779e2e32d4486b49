"""Pure scoring functions: Brier (both scales), log loss, Metaculus baseline, time averages,
calibration and Murphy's decomposition. No database, no files.

`outcome` is 1 for yes and 0 for no throughout; annulled propositions never reach these functions.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

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


# -- trajectories ---------------------------------------------------------------------------------
class Trajectory:
    """A proposition's standing probability over time: the prior from `opened`, then each update.

    Updates are (as_of, order, probability); the latest as_of wins, ties go to the later order
    (the row id), exactly like the SQL as-of query in `store.standing`.
    """

    def __init__(self, prior: float, opened: str, updates: Sequence[tuple[str, int, float]]):
        self.prior = prior
        self.opened = opened
        ordered = sorted(updates)
        self.dates = [u[0] for u in ordered]
        self.probs = [u[2] for u in ordered]

    def at(self, day: str) -> float:
        """Standing probability on `day` (latest update with as_of <= day, else the prior)."""
        i = bisect.bisect_right(self.dates, day)
        return self.probs[i - 1] if i else self.prior

    def before(self, day: str) -> float:
        """Standing probability on the day before `day` (latest update with as_of < day)."""
        i = bisect.bisect_left(self.dates, day)
        return self.probs[i - 1] if i else self.prior

    def segments(self, end: str) -> list[tuple[str, int, float]]:
        """(start, days, probability) pieces covering each day from `opened` up to the day before `end`."""
        if end <= self.opened:
            return []
        points = [(self.opened, self.at(self.opened))]
        lo = bisect.bisect_right(self.dates, self.opened)
        hi = bisect.bisect_left(self.dates, end)
        for i in range(lo, hi):
            if i + 1 < hi and self.dates[i + 1] == self.dates[i]:
                continue  # a later update on the same day supersedes this one
            points.append((self.dates[i], self.probs[i]))
        out = []
        for k, (start, p) in enumerate(points):
            stop = points[k + 1][0] if k + 1 < len(points) else end
            days = (dt.date.fromisoformat(stop) - dt.date.fromisoformat(start)).days
            if days > 0:
                out.append((start, days, p))
        return out

    def time_average(self, end: str, outcome: int, score: Callable[[float, int], float]) -> float:
        """Mean over each day from `opened` to the day before `end` of score(p_d, outcome)."""
        segments = self.segments(end)
        total = sum(days for _, days, _ in segments)
        if total == 0:
            return score(self.before(end), outcome)
        return sum(days * score(p, outcome) for _, days, p in segments) / total


# -- per proposition and across propositions -----------------------------------------------------
SCORE_COLUMNS = [
    "id",
    "outcome",
    "resolved_on",
    "final_probability",
    "brier",
    "brier_2",
    "log_loss",
    "time_averaged_brier",
    "baseline_score",
    "prior",
    "prior_brier",
]


def score_propositions(resolved: pd.DataFrame, updates: pd.DataFrame) -> pd.DataFrame:
    """Score each resolved proposition.

    `resolved`: id, prior, opened, outcome (yes/no/annulled), resolved_on.
    `updates`: proposition, as_of, id, probability (retracted rows already removed).
    Annulled propositions get null scores.
    """
    import pandas as pd

    by_prop: dict[str, list[tuple[str, int, float]]] = {}
    for prop, as_of, uid, prob in updates[["proposition", "as_of", "id", "probability"]].itertuples(index=False):
        by_prop.setdefault(prop, []).append((as_of, int(uid), float(prob)))
    rows = []
    for r in resolved.itertuples(index=False):
        row = {"id": r.id, "outcome": r.outcome, "resolved_on": r.resolved_on, "prior": float(r.prior)}
        if r.outcome not in ("yes", "no"):
            row.update({k: None for k in SCORE_COLUMNS if k not in row})
            rows.append(row)
            continue
        o = 1 if r.outcome == "yes" else 0
        path = Trajectory(float(r.prior), r.opened, by_prop.get(r.id, []))
        p = path.before(r.resolved_on)
        row.update(
            final_probability=p,
            brier=brier(p, o),
            brier_2=brier_2(p, o),
            log_loss=log_loss(p, o),
            time_averaged_brier=path.time_average(r.resolved_on, o, brier),
            baseline_score=path.time_average(r.resolved_on, o, baseline_score),
            prior_brier=brier(float(r.prior), o),
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def summarise(scores: pd.DataFrame) -> dict[str, float | int | None]:
    """Means over scored (yes/no) propositions, and skill versus the commentary's priors."""
    scored = scores[scores["outcome"].isin(["yes", "no"])]
    n = len(scored)

    def mean(col: str) -> float | None:
        return float(scored[col].astype(float).mean()) if n else None

    mean_brier, mean_prior = mean("brier"), mean("prior_brier")
    skill = None
    if n and mean_prior and mean_prior > 0:
        skill = 1.0 - mean_brier / mean_prior
    return {
        "n_resolved": n,
        "mean_brier": mean_brier,
        "mean_brier_2": mean("brier_2"),
        "mean_log_loss": mean("log_loss"),
        "mean_time_averaged_brier": mean("time_averaged_brier"),
        "mean_baseline_score": mean("baseline_score"),
        "mean_prior_brier": mean_prior,
        "skill_vs_prior": skill,
    }


def _bin_ids(p: Sequence[float], n_bins: int) -> list[int]:
    # Right-closed equal-width bins, as scikit-learn's calibration_curve: 0.2 falls in (0, 0.2].
    import numpy as np

    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return list(np.searchsorted(edges[1:-1], np.asarray(p, dtype=float), side="left"))


def calibration_table(p: Sequence[float], o: Sequence[int], n_bins: int = 10) -> pd.DataFrame:
    """Per non-empty bin: its range, mean forecast, observed frequency of yes, and count."""
    import pandas as pd

    frame = pd.DataFrame({"p": list(map(float, p)), "o": list(map(int, o))})
    frame["bin"] = _bin_ids(frame["p"], n_bins) if len(frame) else []
    rows = []
    for b, group in frame.groupby("bin", sort=True):
        rows.append(
            {
                "bin_low": b / n_bins,
                "bin_high": (b + 1) / n_bins,
                "mean_forecast": group["p"].mean(),
                "observed_frequency": group["o"].mean(),
                "count": len(group),
            }
        )
    return pd.DataFrame(rows, columns=["bin_low", "bin_high", "mean_forecast", "observed_frequency", "count"])


def murphy_decomposition(p: Sequence[float], o: Sequence[int], n_bins: int = 10) -> dict[str, float]:
    """Brier = reliability - resolution + uncertainty (+ a within-bin residual when forecasts in a bin differ).

    The three-term form over binned forecasts; `residual` is brier - (rel - res + unc), which is 0 when
    every forecast in a bin is the same and otherwise holds the within-bin variance terms.
    """
    table = calibration_table(p, o, n_bins)
    n = len(p)
    base_rate = sum(o) / n
    rel = float((table["count"] * (table["mean_forecast"] - table["observed_frequency"]) ** 2).sum() / n)
    res = float((table["count"] * (table["observed_frequency"] - base_rate) ** 2).sum() / n)
    unc = base_rate * (1 - base_rate)
    bs = sum(brier(pi, oi) for pi, oi in zip(p, o, strict=False)) / n
    return {"brier": bs, "reliability": rel, "resolution": res, "uncertainty": unc, "residual": bs - (rel - res + unc)}
