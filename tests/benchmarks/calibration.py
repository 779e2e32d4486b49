"""Calibration study: which setting of the evidence model fits which kind of signpost and question, on
simulated worlds whose truth is known. Run by hand (not by the test suite; tests/test_calibration_study.py
runs it small); prints one table per world, `--json` for scripts, `--world NAME` for one.

Every world has questions whose true probability q is drawn from Beta(alpha, beta), and the analyst's
prior is that q (calibrated priors). Each model is scored with the proper time average of DESIGN.md
(every day from opening to the day before resolution, divided by the scheduled life). The worlds:
- restated: "will the event happen within H days?"; before a real event each of K signposts switches
  on with probability `sensitivity` 30-120 days ahead, a false alarm with probability `false_alarm`;
  once on, it fires every month (a policy restated). Stated ratio: sensitivity / false_alarm.
- misstated: the same world with every stated ratio three times too strong.
- rising: the same signposts, but the event's day is drawn with a density rising over the horizon
  (the constant hazard of `decay: hazard` is wrong).
- polls: the same question tracked by a monthly poll that carries fresh information each month: it
  fires with probability s if the event will happen, f if not, independently (both ratios known).
- vote: a question decided on its deadline (a vote): no signposts; it resolves on resolve_by.
- vote-polls: the vote, tracked by the monthly polls of `polls`.
- level: a slowly moving quantity (a random walk, read monthly with noise) checked on resolve_by: YES
  if it stands at or above its threshold then. One level signpost fires when a reading is at or above
  it; its two ratios are measured on a pilot world.
- decisive: the restated world plus a signpost that is the event itself, seen on its day; the analyst
  records the resolution 0-30 days later (the month-end review).

Then pooling (`pooling`): the restated world's questions, each forecast by a team of `--forecasters`
whose tracks share the applied evidence (the default model's track), each with a private offset in
log-odds held for the whole question. Two teams: "shared" (the offset is noise, N(0, `--pool-noise`):
nobody knows more than the evidence) and "private" (the offset is a private signal's log-likelihood
ratio: each forecaster sees s ~ N(+-`--private`, 1) by outcome, and adds 2 x private x s). Each day's
team number is pooled by each method of `probability.pool`, scored with the same time average.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from dataclasses import dataclass, field

from forecast_tracker.evidence import Evidence, Track
from forecast_tracker.probability import POOLS, clamp, pool
from forecast_tracker.records import IndicatorRow

DAY0 = 738_000  # an ordinal; only differences matter


def iso(ordinal: int) -> str:
    import datetime as dt

    return dt.date.fromordinal(ordinal).isoformat()


@dataclass
class Question:
    q: float
    outcome: int
    close: int  # the day it resolves (days after opening)
    readings: list[tuple[int, int, float | None]] = field(default_factory=list)  # (day, signpost, value)


@dataclass(frozen=True)
class Model:
    """One setting of the catalog keys, for every signpost of a world."""

    repeats: str | None  # None: the prior alone
    decay: str = "hazard"
    both_ratios: bool = False  # state likelihood_ratio_if_not_met too
    decides: bool = False  # the world's decisive signpost says `decides: yes`


@dataclass
class World:
    name: str
    questions: list[Question]
    kind: str  # event | level
    ratio: float
    ratio_if_not_met: float | None
    models: dict[str, Model]
    fits: str  # the model the README recommends for this world
    decisive: int | None = None  # the signpost that is the event itself


def _q(args, rng) -> float:
    return min(0.97, max(0.03, rng.betavariate(args.alpha, args.beta)))


def _restated(args, rng, event: int | None, end: int) -> list[tuple[int, int, float | None]]:
    firings = []
    for k in range(args.signposts):
        starts = []
        if event is not None and rng.random() < args.sensitivity:
            starts.append(max(0, event - rng.randint(30, 120)))
        if rng.random() < args.false_alarm:
            starts.append(rng.randrange(args.horizon))
        if starts:
            firings += [(d, k, None) for d in range(min(starts), end, 30)]
    return sorted(firings)


def _polls(args, rng, yes: bool, end: int) -> list[tuple[int, int, float | None]]:
    chance = args.poll_yes if yes else args.poll_no
    return [(d, 0, 1.0 if rng.random() < chance else 0.0) for d in range(15, end, 30)]


def event_questions(args, rng, rising: bool = False, polls: bool = False) -> list[Question]:
    out = []
    for _ in range(args.questions):
        q = _q(args, rng)
        happens = rng.random() < q
        if happens:
            event = int(args.horizon * math.sqrt(rng.random())) if rising else rng.randrange(args.horizon)
        else:
            event = None
        end = event if event is not None else args.horizon
        readings = _polls(args, rng, happens, end) if polls else _restated(args, rng, event, end)
        out.append(Question(q, int(happens), end, readings))
    return out


def vote_questions(args, rng, polls: bool) -> list[Question]:
    out = []
    for _ in range(args.questions):
        q = _q(args, rng)
        yes = rng.random() < q
        out.append(Question(q, int(yes), args.horizon, _polls(args, rng, yes, args.horizon) if polls else []))
    return out


def level_questions(args, rng, n: int) -> list[Question]:
    """A random walk from N(0, 1) with monthly steps N(0, step), read with noise; YES if it is >= 0 on
    the deadline. The prior is the chance of that from the start, as the analyst could work it out."""
    months = args.horizon // 30
    out = []
    for _ in range(n):
        x = rng.gauss(0, 1)
        path = []
        for _m in range(months):
            x += rng.gauss(0, args.step)
            path.append(x)
        q = 0.5 * (1 + math.erf(0 / math.sqrt(2)))  # symmetric: the walk ends above 0 half the time
        readings = [(15 + 30 * m, 0, v + rng.gauss(0, args.noise)) for m, v in enumerate(path)]
        out.append(Question(q, int(path[-1] >= 0), args.horizon, readings))
    return out


def level_ratios(args) -> tuple[float, float]:
    """The level signpost's two ratios, measured on a pilot world of its own seed (as an analyst would
    estimate them from the record): P(a reading fires | YES) / P(fires | NO), and the same for not firing."""
    pilot = level_questions(args, random.Random(args.seed + 1), 4000)
    counts = {(o, f): 0 for o in (0, 1) for f in (0, 1)}
    for question in pilot:
        for _day, _k, value in question.readings:
            counts[(question.outcome, int(value is not None and value >= 0))] += 1
    yes, no = counts[(1, 0)] + counts[(1, 1)], counts[(0, 0)] + counts[(0, 1)]
    return (counts[(1, 1)] / yes) / (counts[(0, 1)] / no), (counts[(1, 0)] / yes) / (counts[(0, 0)] / no)


def decisive_questions(args, rng) -> list[Question]:
    out = []
    for question in event_questions(args, rng):
        if question.outcome:
            event = question.close
            question.readings = sorted([*question.readings, (event, args.signposts, None)])
            question.close = min(event + rng.randint(0, 30), args.horizon)
        out.append(question)
    return out


EVENTS = {
    "prior": Model(None),
    "naive (independent, no decay)": Model("independent", "none"),
    "once, no decay": Model("once", "none"),
    "diminishing + hazard": Model("diminishing"),
    "default (once + hazard)": Model("once"),
}
POLLS = {
    "prior": Model(None),
    "default (once + hazard)": Model("once"),
    "independent, one ratio + hazard": Model("independent"),
    "independent, both ratios + hazard": Model("independent", both_ratios=True),
    "independent, both ratios, no decay": Model("independent", "none", both_ratios=True),
}
VOTE = {"prior": Model(None), "default (hazard)": Model("once"), "decay: none": Model("once", "none")}
LEVEL = {
    "prior": Model(None),
    "once, both ratios, no decay": Model("once", "none", both_ratios=True),
    "independent, both ratios, no decay": Model("independent", "none", both_ratios=True),
    "default (latest + hazard)": Model("latest", both_ratios=True),
    "latest, both ratios, no decay": Model("latest", "none", both_ratios=True),
}
DECISIVE = {
    "prior": Model(None),
    "default (once + hazard), no decides": Model("once"),
    "once + hazard, decides: yes": Model("once", decides=True),
}


def worlds(args: argparse.Namespace) -> list[World]:
    rng = random.Random(args.seed)
    ratio = args.sensitivity / args.false_alarm
    poll = (args.poll_yes / args.poll_no, (1 - args.poll_yes) / (1 - args.poll_no))
    level = level_ratios(args)
    made = [
        World("restated", event_questions(args, rng), "event", ratio, None, EVENTS, "default (once + hazard)"),
        World("misstated", event_questions(args, rng), "event", ratio * 3, None, EVENTS, "default (once + hazard)"),
        World("rising", event_questions(args, rng, rising=True), "event", ratio, None, EVENTS, "default (once + hazard)"),
        World("polls", event_questions(args, rng, polls=True), "event", *poll, POLLS, "independent, both ratios + hazard"),
        World("vote", vote_questions(args, rng, polls=False), "event", ratio, None, VOTE, "decay: none"),
        World("vote-polls", vote_questions(args, rng, polls=True), "event", *poll, POLLS, "independent, both ratios, no decay"),
        World("level", level_questions(args, rng, args.questions), "level", *level, LEVEL, "latest, both ratios, no decay"),
        World("decisive", decisive_questions(args, rng), "event", ratio, None, DECISIVE, "once + hazard, decides: yes",
              decisive=args.signposts),
    ]  # fmt: skip
    return [w for w in made if args.world in (None, w.name)]


def _signposts(world: World, model: Model, count: int) -> dict[int, IndicatorRow]:
    threshold = 0.0 if world.kind == "level" else None
    not_met = world.ratio_if_not_met if model.both_ratios else None
    out = {
        k: IndicatorRow(f"s{k}", "q", "", world.kind, threshold, world.ratio, not_met, None, model.repeats, None, None, None)
        for k in range(count)
    }
    if world.decisive is not None:  # the event itself: a strong signpost that, with decides, holds the question
        out[world.decisive] = IndicatorRow(f"s{world.decisive}", "q", "", "event", None, 10.0, None, None, "once", None,
                                           None, "yes" if model.decides else None)  # fmt: skip
    return out


def score(world: World, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    results = {}
    for name, model in world.models.items():
        brier_sum = log_sum = 0.0
        bins = [[0.0, 0, 0] for _ in range(10)]  # sum of p, count, yes: over every forecast day
        ind = _signposts(world, model, args.signposts + 1)
        days = 0
        for question in world.questions:
            o = question.outcome
            if model.repeats is None:
                daily = [question.q] * question.close
            else:
                evidence = [Evidence(n, iso(DAY0 + d), ind[k], v) for n, (d, k, v) in enumerate(question.readings)]
                # resolve_by is the last day of the horizon: a vote on it, or an event by the end of it
                track = Track(prior=question.q, opened=iso(DAY0), resolve_by=iso(DAY0 + args.horizon - 1),
                              decay=model.decay, evidence=evidence)  # fmt: skip
                daily = track.daily(iso(DAY0 + question.close))  # as the tool scores: p_d includes the news dated d
            for p in daily:
                brier_sum += (p - o) ** 2
                log_sum += -math.log(p if o else 1 - p)
                b = bins[min(9, int(p * 10))]
                b[0] += p
                b[1] += 1
                b[2] += o
            days += max(args.horizon, question.close)  # the scheduled life L
        n = sum(b[1] for b in bins)
        ece = sum(abs(b[0] / b[1] - b[2] / b[1]) * b[1] for b in bins if b[1]) / n
        results[name] = {
            "time_averaged_brier": brier_sum / days,
            "time_averaged_log_loss": log_sum / days,
            "calibration_error": ece,
        }
    return results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=1500, help="questions per world")
    parser.add_argument("--horizon", type=int, default=365, help="days from opening to the end of resolve_by")
    parser.add_argument("--signposts", type=int, default=3)
    parser.add_argument("--sensitivity", type=float, default=0.6, help="P(a signpost switches on before a real event)")
    parser.add_argument("--false-alarm", type=float, default=0.15, help="P(a signpost switches on without one)")
    parser.add_argument("--poll-yes", type=float, default=0.6, help="P(a month's poll fires | YES)")
    parser.add_argument("--poll-no", type=float, default=0.4, help="P(a month's poll fires | NO)")
    parser.add_argument("--step", type=float, default=0.3, help="monthly step of the level world's random walk")
    parser.add_argument("--noise", type=float, default=0.3, help="noise of each reading in the level world")
    parser.add_argument("--alpha", type=float, default=1.5, help="Beta(alpha, beta) of the questions' true probabilities")
    parser.add_argument("--beta", type=float, default=2.5)
    parser.add_argument("--forecasters", type=int, default=3, help="the pooling study's team size")
    parser.add_argument("--pool-noise", type=float, default=0.7, help="sd of each forecaster's private noise, log-odds")
    parser.add_argument("--private", type=float, default=0.5, help="mean of a private signal, per outcome")
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--world", default=None, help="only this world")
    parser.add_argument("--json", action="store_true")
    return parser.parse_args(argv)


def study(args: argparse.Namespace) -> dict[str, dict[str, dict[str, float]]]:
    """world -> model -> scores, on the simulated worlds `args` describes."""
    return {world.name: score(world, args) for world in worlds(args)}


def pooling(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """team -> pooling method -> time-averaged Brier, on the restated world (see the module's note)."""
    world = next(w for w in worlds(argparse.Namespace(**{**vars(args), "world": "restated"})))
    model = world.models[world.fits]
    ind = _signposts(world, model, args.signposts + 1)
    rng = random.Random(args.seed + 1)
    sums = {team: dict.fromkeys(POOLS, 0.0) for team in ("shared", "private")}
    days = 0
    for question in world.questions:
        evidence = [Evidence(n, iso(DAY0 + d), ind[k], v) for n, (d, k, v) in enumerate(question.readings)]
        track = Track(prior=question.q, opened=iso(DAY0), resolve_by=iso(DAY0 + args.horizon - 1), decay=model.decay,
                      evidence=evidence)  # fmt: skip
        shared = track.daily(iso(DAY0 + question.close))
        sign = 1.0 if question.outcome else -1.0
        offsets = {
            "shared": [rng.gauss(0.0, args.pool_noise) for _ in range(args.forecasters)],
            "private": [2 * args.private * rng.gauss(sign * args.private, 1.0) for _ in range(args.forecasters)],
        }
        for team, shifts in offsets.items():
            for p in shared:
                logit = math.log(p / (1 - p))
                members = [clamp(1 / (1 + math.exp(-(logit + s)))) for s in shifts]
                for method in POOLS:
                    sums[team][method] += (pool(members, method) - question.outcome) ** 2
        days += max(args.horizon, question.close)
    return {team: {m: s / days for m, s in methods.items()} for team, methods in sums.items()}


def fits(args: argparse.Namespace) -> dict[str, str]:
    """world -> the model the README recommends for it."""
    return {world.name: world.fits for world in worlds(args)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = study(args)
    if args.json:
        print(json.dumps({"parameters": vars(args), "results": results, "pooling": pooling(args)}, indent=2))
        return 0
    print(f"{args.questions} questions per world, {args.horizon} days, seed {args.seed}")
    for world, models in results.items():
        print(f"\n{world}")
        print(f"  {'model':38} {'time-avg Brier':>15} {'time-avg log loss':>18} {'calibration error':>18}")
        for name, r in models.items():
            print(f"  {name:38} {r['time_averaged_brier']:15.4f} {r['time_averaged_log_loss']:18.4f} "
                  f"{r['calibration_error']:18.4f}")  # fmt: skip
    if args.world in (None, "restated"):
        pools = pooling(args)
        print(f"\npooling: {args.forecasters} forecasters per question on the restated world (time-averaged Brier)")
        print(f"  {'team':10} " + " ".join(f"{m:>10}" for m in POOLS) + f" {'geo-odds vs median':>20}")
        for team, methods in pools.items():
            change = methods["geo-odds"] / methods["median"] - 1
            print(f"  {team:10} " + " ".join(f"{methods[m]:10.4f}" for m in POOLS) + f" {change:+20.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
