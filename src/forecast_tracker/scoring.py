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
MIN_FOR_BREAKDOWN = 5  # a tag, horizon or year with fewer resolved propositions shows no number
Z90 = 1.6448536269514722  # the standard normal's 95th percentile: the half-width of a two-sided 90% interval
HORIZONS = ((90, "< 90 days"), (366, "90-365 days"), (None, "> 365 days"))  # scheduled life, opened to resolve_by


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
    question by its outcome and reward overconfidence on questions that can only resolve YES early.

    The two daily scores every scored proposition needs are written out (the same terms, and fsum is
    exact whatever the order, so the same result to the bit): a call per day was a sixth of a profiled
    `score` (the whole process measured no faster within the machine's noise)."""
    if score is brier:
        return math.fsum([(p - outcome) ** 2 for p in daily]) / life
    if score is baseline_score:
        log2 = math.log2
        terms = [100.0 * (log2(p) + 1.0) for p in daily] if outcome == 1 else [100.0 * (log2(1.0 - p) + 1.0) for p in daily]
        return math.fsum(terms) / life
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
    resolve_by = r.get("resolve_by")
    # a "by D" question that resolved yes before D: its calibration leans yes (Metaculus #1480)
    row["early_yes"] = r["outcome"] == "yes" and resolve_by is not None and r["resolved_on"] < resolve_by
    row["tags"] = list(r.get("tags", ()))
    row["horizon"] = horizon(r["opened"], resolve_by) if r.get("opened") and resolve_by else None
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


def forecaster_item(item: Mapping[str, Any]) -> tuple[str, float, float, int, float] | None:
    """Forecasters are scored side by side, each on the propositions they forecast; this is one of
    them on one proposition, reduced to (forecaster, own time-averaged Brier, relative Brier, forecast
    days, peer score), or None when they have no forecast days there; `forecaster_table` combines them.

    `item`: forecaster, outcome (yes/no), `mine` (their probability on each of their forecast days:
    from their first update to the day before resolution) and `team` (the team median on the same
    days). Own: the time-averaged Brier over their forecast days (as Good Judgment Open scores a
    question). Relative: theirs minus the team median's on the same days (negative is better than the
    team, as Fatebook's relative score). Peer: `peer_scores` there, computed with the other forecasters."""
    o = 1.0 if item["outcome"] == "yes" else 0.0
    mine, team = list(item["mine"]), list(item["team"])
    if not mine or len(mine) != len(team):
        return None
    own = math.fsum((p - o) ** 2 for p in mine) / len(mine)
    theirs = math.fsum((p - o) ** 2 for p in team) / len(team)
    return item["forecaster"], own, own - theirs, len(mine), float(item.get("peer", 0.0))


def forecaster_table(reduced: Iterable[tuple[str, float, float, int, float]]) -> list[dict[str, Any]]:
    """The side-by-side rows from items reduced by `forecaster_item` (from any number of batches): the
    mean of each score over a forecaster's propositions, best relative score first."""
    per: dict[str, list[tuple[float, float, int, float]]] = {}
    for name, own, relative, days, peer in reduced:
        per.setdefault(name, []).append((own, relative, days, peer))
    rows = [
        {
            "forecaster": name,
            "n_resolved": len(scores),
            "mean_time_averaged_brier": math.fsum(s[0] for s in scores) / len(scores),
            "mean_relative_brier": math.fsum(s[1] for s in scores) / len(scores),
            "forecast_days": sum(s[2] for s in scores),
            "peer_score": math.fsum(s[3] for s in scores) / len(scores),
        }
        for name, scores in per.items()
    ]
    return sorted(rows, key=lambda r: (r["mean_relative_brier"], r["forecaster"]))


def _bin_ids(p: Any, n_bins: int) -> Any:
    # Right-closed equal-width bins, as scikit-learn's calibration_curve: 0.2 falls in (0, 0.2]. An array.
    import numpy as np

    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.searchsorted(edges[1:-1], np.asarray(p, dtype=float), side="left")


CALIBRATION_COLUMNS = ("bin_low", "bin_high", "mean_forecast", "observed_frequency", "count")


def calibration_rows(p: Sequence[float], o: Sequence[int], n_bins: int = 10) -> list[dict[str, Any]]:
    """Per non-empty bin, in order: its range, mean forecast, observed frequency of yes with its 90%
    Wilson interval (low, high), and count: `weighted_calibration` with each forecast weighing one."""
    ids = _bin_ids(p, n_bins).tolist() if len(p) else []
    parts = [(b, int(oi), 1.0, float(pi), 0.0) for b, pi, oi in zip(ids, p, o, strict=True)]
    return [
        {"bin_low": r["bin_low"], "bin_high": r["bin_high"], "mean_forecast": r["mean_forecast"],
         "observed_frequency": r["observed"], "count": r["propositions"], "low": r["low"], "high": r["high"]}
        for r in weighted_calibration(parts, n_bins)
    ]  # fmt: skip


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
    bs = math.fsum(brier(pi, oi) for pi, oi in zip(p, o, strict=False)) / n
    return _decompose([(r["count"], r["mean_forecast"], r["observed_frequency"]) for r in table], n, sum(o) / n, bs)


def _decompose(bins: Sequence[tuple[float, float, float]], n: float, base_rate: float, bs: float) -> dict[str, float]:
    """Reliability, resolution and uncertainty from (weight, mean forecast, observed) per bin; the
    residual makes the identity brier = rel - res + unc + residual hold exactly."""
    rel = math.fsum(w * (f - obs) ** 2 for w, f, obs in bins) / n
    res = math.fsum(w * (obs - base_rate) ** 2 for w, _f, obs in bins) / n
    unc = base_rate * (1 - base_rate)
    return {"brier": bs, "reliability": rel, "resolution": res, "uncertainty": unc, "residual": bs - (rel - res + unc)}


# -- honest at small sizes: intervals, time-weighted calibration, breakdowns ------------------------
def wilson(successes: float, n: float, z: float = Z90) -> tuple[float, float] | None:
    """The Wilson score interval for a frequency of `successes` in `n` (90% by default), or None for
    n = 0. `n` may be fractional: the time-weighted table counts each proposition as at most one."""
    if n <= 0:
        return None
    p, z2 = successes / n, z * z
    denominator = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denominator
    half = z * math.sqrt(max(p * (1.0 - p), 0.0) / n + z2 / (4.0 * n * n)) / denominator
    # at p = 0 (p = 1) the lower (upper) end is exactly 0 (1); rounding would leave 1 - 1e-16
    return (0.0 if successes <= 0 else max(0.0, centre - half)), (1.0 if successes >= n else min(1.0, centre + half))


def horizon(opened: str, resolve_by: str) -> str:
    """The breakdown a proposition's scheduled life (opened to resolve_by) falls in."""
    days = days_between(opened, resolve_by)
    return next(label for bound, label in HORIZONS if bound is None or days < bound)


def daily_bins(daily: Sequence[float], outcome: int, life: int, n_bins: int = 10) -> list[tuple[int, int, float, float, float]]:
    """One proposition's days as the time-weighted calibration counts them: per bin, (bin, outcome,
    weight, weighted sum of forecasts, weighted sum of Brier), each day weighing 1/L as in the
    time-averaged Brier, so a proposition weighs at most one in all bins together."""
    import numpy as np

    if not len(daily):
        return []
    p = np.asarray(daily, dtype=float)
    ids = _bin_ids(p, n_bins)
    errors = (p - outcome) ** 2
    out = []
    for b in np.unique(ids).tolist():  # each bin's sums exactly rounded (math.fsum), as every score here
        mask = ids == b
        out.append((b, outcome, int(mask.sum()) / life, math.fsum(p[mask].tolist()) / life, math.fsum(errors[mask].tolist()) / life))
    return out


def weighted_calibration(parts: Iterable[tuple[int, int, float, float, float]], n_bins: int = 10) -> list[dict[str, Any]]:
    """The time-weighted calibration table from `daily_bins` of any number of propositions: per
    non-empty bin, `n` (its weight in propositions), the mean forecast, the observed frequency with its
    90% Wilson interval (low, high), and how many propositions spent a day in it."""
    grouped: dict[int, list[tuple[int, float, float]]] = {}
    for b, o, w, wp, _wb in parts:
        grouped.setdefault(b, []).append((o, w, wp))
    rows = []
    for b, group in sorted(grouped.items()):
        weight = math.fsum(w for _, w, _ in group)
        yes = math.fsum(w for o, w, _ in group if o == 1)
        low, high = wilson(yes, weight) or (None, None)
        rows.append({
            "bin": b, "bin_low": b / n_bins, "bin_high": (b + 1) / n_bins, "n": weight,
            "mean_forecast": math.fsum(wp for _, _, wp in group) / weight, "observed": yes / weight,
            "low": low, "high": high, "propositions": len(group),
        })  # fmt: skip
    return rows


def weighted_murphy(parts: Sequence[tuple[int, int, float, float, float]], n_resolved: int, n_bins: int = 10) -> dict[str, float]:
    """Murphy's decomposition over the same days and weights as the headline: `brier` is the
    weighted mean daily Brier (sum of weight x score / total weight), which times `weight` / `n`
    (the total weight over the number of propositions) is the mean time-averaged Brier."""
    rows = weighted_calibration(parts, n_bins)
    weight = math.fsum(r["n"] for r in rows)
    base_rate = math.fsum(r["n"] * r["observed"] for r in rows) / weight
    bs = math.fsum(wb for *_, wb in parts) / weight
    out = _decompose([(r["n"], r["mean_forecast"], r["observed"]) for r in rows], weight, base_rate, bs)
    return {**out, "weight": weight, "n": n_resolved}


def discrimination(pairs: Iterable[tuple[int, float, float]]) -> dict[str, float | None]:
    """Mean forecast on the propositions that resolved yes and on those that resolved no, from
    (outcome, weight, weighted forecast) triples: the gap between them is how well the forecasts
    told the two apart."""
    sums: dict[int, list[tuple[float, float]]] = {0: [], 1: []}
    for o, w, wp in pairs:
        sums[o].append((w, wp))

    def mean(o: int) -> float | None:
        w = math.fsum(x for x, _ in sums[o])
        return math.fsum(y for _, y in sums[o]) / w if w > 0 else None

    yes, no = mean(1), mean(0)
    return {"mean_forecast_yes": yes, "mean_forecast_no": no,
            "gap": yes - no if yes is not None and no is not None else None}  # fmt: skip


def breakdown(rows: Sequence[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], Iterable[str]]) -> dict[str, dict[str, Any]]:
    """`summarise` per group of scored rows (`key` gives each row's groups: its tags, its horizon, its
    year); a group with fewer than MIN_FOR_BREAKDOWN resolved shows its count and no number."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        if row["outcome"] in ("yes", "no"):
            for name in key(row):
                groups.setdefault(name, []).append(row)
    out = {}
    for name, members in sorted(groups.items()):
        summary: dict[str, Any] = dict(summarise(members))
        if len(members) < MIN_FOR_BREAKDOWN:
            summary = {k: (v if k.startswith("n_") else None) for k, v in summary.items()}
            summary["note"] = f"fewer than {MIN_FOR_BREAKDOWN} resolved"
        out[name] = summary
    return out


# -- forecasters: the log peer score ------------------------------------------------------------------
def peer_scores(series: Mapping[str, tuple[int, Sequence[float]]], outcome: int, life: int) -> dict[str, float]:
    """Metaculus's peer score for each forecaster on one proposition: on each day, 100 x the mean over
    the other forecasters of ln(p_self(outcome) / p_other(outcome)); summed over the days and divided
    by the scheduled life L, as the headline is (a day alone, or not yet forecasting, adds 0).

    `series`: name -> (the day they joined, counted from `opened`; their probability on each day from
    then to the day before resolution). The scores of one proposition sum to 0."""
    import numpy as np

    if not series:
        return {}
    names = sorted(series)
    days = max(offset + len(values) for offset, values in series.values())
    logs = np.full((len(names), days), np.nan)
    for k, name in enumerate(names):
        offset, values = series[name]
        p = np.asarray(values, dtype=float)
        logs[k, offset : offset + len(p)] = np.log(p if outcome == 1 else 1.0 - p)
    present = ~np.isnan(logs)
    count = present.sum(axis=0)
    total = np.where(present, logs, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        daily = 100.0 * (logs - (total - logs) / (count - 1))
    daily = np.where(present & (count >= 2), daily, 0.0)
    return {name: math.fsum(daily[k].tolist()) / life for k, name in enumerate(names)}


# -- pooling compared on the record ------------------------------------------------------------------
BOOTSTRAP_RESAMPLES = 2000


def pool_comparison(per: Sequence[Mapping[str, float]], methods: Sequence[str], resamples: int = BOOTSTRAP_RESAMPLES,
                    seed: int = 0) -> list[dict[str, Any]]:  # fmt: skip
    """Each method's mean time-averaged Brier over the resolved propositions (`per`: one mapping of
    method -> time-averaged Brier per proposition), its difference to the median's, and a 90% interval
    of that difference from `resamples` bootstrap resamples of the propositions (the same resamples
    for every method, seeded, so the figures repeat). Negative is better than the median."""
    import numpy as np

    n = len(per)
    if n == 0:
        return [{"method": m, "mean_time_averaged_brier": None, "difference_vs_median": None, "low": None,
                 "high": None, "n_resolved": 0} for m in methods]  # fmt: skip
    picks = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    median = np.asarray([row["median"] for row in per], dtype=float)
    out = []
    for m in methods:
        scores = [row[m] for row in per]
        diff = np.asarray(scores, dtype=float) - median
        low, high = np.quantile(diff[picks].mean(axis=1), [0.05, 0.95]).tolist()
        out.append({
            "method": m, "mean_time_averaged_brier": math.fsum(scores) / n,
            "difference_vs_median": math.fsum(diff.tolist()) / n, "low": low, "high": high, "n_resolved": n,
        })  # fmt: skip
    return out
