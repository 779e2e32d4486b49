"""Calibration study: the evidence model against the naive chain and the prior, on a simulated world
whose truth is known. Run by hand (not by the test suite); prints a table, `--json` for scripts.

The world (every parameter is a flag, so the result can be checked for robustness):
- Each question asks "will the event happen within H days?". Its true probability q is drawn from
  Beta(a, b); the analyst's prior is that q (calibrated priors). If the event happens, its day is
  uniform over the horizon.
- Each question has K signposts. Before a real event, each switches on with probability `sensitivity`
  some 30 to 120 days ahead; a false alarm switches on with probability `false_alarm` at a random day.
  Once on, a signpost fires every month until the question closes (the way a policy is restated).
- The analyst states each signpost's ratio as sensitivity / false_alarm: right for the first firing,
  and blind to the fact that the later firings repeat it.

Models compared, each scored with the proper time average of DESIGN.md (days over the scheduled life):
- prior: the prior held constant;
- naive: every firing multiplies the odds (repeats: independent), no decay;
- once / diminishing: repeats counted once or with halving weight, no decay;
- default: the shipped defaults (repeats once, hazard decay); and diminishing + hazard for comparison.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from dataclasses import dataclass

from forecast_tracker.evidence import Evidence, Track
from forecast_tracker.records import IndicatorRow

DAY0 = 738_000  # an ordinal; only differences matter


def iso(ordinal: int) -> str:
    import datetime as dt

    return dt.date.fromordinal(ordinal).isoformat()


@dataclass
class Question:
    q: float
    event_day: int | None  # None: it does not happen within the horizon
    firings: list[tuple[int, int]]  # (day, signpost)


def simulate(args: argparse.Namespace, rng: random.Random) -> list[Question]:
    out = []
    for _ in range(args.questions):
        q = rng.betavariate(args.alpha, args.beta)
        q = min(0.97, max(0.03, q))
        event = rng.randrange(args.horizon) if rng.random() < q else None
        end = event if event is not None else args.horizon
        firings = []
        for k in range(args.signposts):
            starts = []
            if event is not None and rng.random() < args.sensitivity:
                starts.append(max(0, event - rng.randint(30, 120)))
            if rng.random() < args.false_alarm:
                starts.append(rng.randrange(args.horizon))
            if starts:
                firings += [(d, k) for d in range(min(starts), end, 30)]
        out.append(Question(q, event, sorted(firings)))
    return out


MODELS = {
    "prior": None,
    "naive": ("independent", "none"),
    "once": ("once", "none"),
    "diminishing": ("diminishing", "none"),
    "diminishing + decay": ("diminishing", "hazard"),
    "default (once + decay)": ("once", "hazard"),
}


def score(questions: list[Question], args: argparse.Namespace) -> dict[str, dict[str, float]]:
    ratio = args.sensitivity / args.false_alarm
    results = {}
    for name, model in MODELS.items():
        brier_sum = log_sum = 0.0
        bins = [[0.0, 0, 0] for _ in range(10)]  # sum of p, count, yes: over every forecast day
        for question in questions:
            o = 1 if question.event_day is not None else 0
            close = question.event_day if o else args.horizon
            if model is None:
                daily = [question.q] * close
            else:
                repeats, decay = model
                ind = {k: IndicatorRow(f"s{k}", "q", "", "event", None, ratio, None, None, repeats, None, None)
                       for k in range(args.signposts)}  # fmt: skip
                evidence = [Evidence(n, iso(DAY0 + d), ind[k], None) for n, (d, k) in enumerate(question.firings)]
                track = Track(
                    prior=question.q, opened=iso(DAY0), resolve_by=iso(DAY0 + args.horizon), decay=decay, evidence=evidence
                )
                daily = track.daily(iso(DAY0 + close))  # as the tool scores: p_d includes the news dated d
            for p in daily:
                brier_sum += (p - o) ** 2
                log_sum += -math.log(p if o else 1 - p)
                b = bins[min(9, int(p * 10))]
                b[0] += p
                b[1] += 1
                b[2] += o
        days = args.horizon * len(questions)  # the scheduled life L of every question, summed
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
    parser.add_argument("--questions", type=int, default=1500)
    parser.add_argument("--horizon", type=int, default=365, help="days from opening to resolve_by")
    parser.add_argument("--signposts", type=int, default=3)
    parser.add_argument("--sensitivity", type=float, default=0.6, help="P(a signpost switches on before a real event)")
    parser.add_argument("--false-alarm", type=float, default=0.15, help="P(a signpost switches on without one)")
    parser.add_argument("--alpha", type=float, default=1.5, help="Beta(alpha, beta) of the questions' true probabilities")
    parser.add_argument("--beta", type=float, default=2.5)
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--json", action="store_true")
    return parser.parse_args(argv)


def study(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Each model's scores on the simulated world `args` describes."""
    return score(simulate(args, random.Random(args.seed)), args)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = study(args)
    if args.json:
        print(json.dumps({"parameters": vars(args), "results": results}, indent=2))
        return 0
    print(f"{args.questions} questions, {args.horizon} days, {args.signposts} signposts, sensitivity {args.sensitivity}, "
          f"false alarm {args.false_alarm}, stated ratio {args.sensitivity / args.false_alarm:g}, seed {args.seed}")  # fmt: skip
    print(f"{'model':32} {'time-avg Brier':>15} {'time-avg log loss':>18} {'calibration error':>18}")
    for name, r in results.items():
        print(f"{name:32} {r['time_averaged_brier']:15.4f} {r['time_averaged_log_loss']:18.4f} {r['calibration_error']:18.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
