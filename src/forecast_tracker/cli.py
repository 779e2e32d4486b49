"""The command line: parse, call the Python API, print. The only module that prints or exits."""

from __future__ import annotations

import contextlib
import json
import math
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperGroup

from . import api
from .errors import InputError, TrackerError, ValidationErrors

# The core names the value that was wrong as its Python parameter; the CLI shows the flag or argument
# the user typed instead.
FLAGS = {
    "as_of": "--as-of", "date": "--date", "status": "--status", "format": "--format", "value": "--value",
    "source": "--source", "note": "--note", "rationale": "--rationale", "by": "--by", "reason": "--reason",
    "month": "--month", "from": "--from", "to": "--to", "since": "--since", "out": "--out", "catalog": "--catalog", "db": "--db",
    "scale": "--scale", "published": "--published", "source_title": "--source-title", "author": "--author",
    "publisher": "--publisher", "url": "--url", "pool": "--pool", "notify": "--notify", "digest": "--digest",
    "indicator": "--indicator", "before": "--before", "tag": "--tag", "host": "--host", "port": "--port", "auth": "--auth",
    "new_token": "--new-token",
    "outcome": "OUTCOME", "probability": "PROBABILITY", "proposition": "PROPOSITION", "kind": "KIND", "id": "ID", "what": "WHAT", "file": "FILE",
}  # fmt: skip


def _message(exc: TrackerError) -> str:
    if isinstance(exc, InputError) and exc.field:
        return f"{FLAGS.get(exc.field, exc.field)}: {exc.message}"
    return str(exc)


MAX_ERROR_LINE = 500  # characters: a message quoting hostile input must not flood the terminal
MAX_PROBLEM_LINES = 100


def _err(line: str) -> None:
    """One line on stderr: whitespace folded, control characters dropped, at most MAX_ERROR_LINE long."""
    text = " ".join(_printable(line).split())
    if len(text) > MAX_ERROR_LINE:
        text = text[: MAX_ERROR_LINE - 1] + "…"
    typer.echo(text, err=True)


def _guarded(call, debug: bool) -> int:
    """Run the CLI; turn every error into one line on stderr and an exit code (0, 1 or 2)."""
    from typer.exceptions import Abort, Exit

    try:
        result = call()
    except ValidationErrors as exc:
        if len(exc.problems) == 1:
            _err(f"error: {exc.summary}: {exc.problems[0]}")
        else:
            _err(f"error: {exc.summary}")
            for problem in exc.problems[:MAX_PROBLEM_LINES]:
                _err(f"  {problem}")
            if len(exc.problems) > MAX_PROBLEM_LINES:
                _err(f"  ... and {len(exc.problems) - MAX_PROBLEM_LINES} more")
        return exc.exit_code
    except TrackerError as exc:
        _err(f"error: {_message(exc)}")
        return exc.exit_code
    except Exit as exc:
        return int(exc.exit_code or 0)
    except (Abort, KeyboardInterrupt):
        typer.echo("error: aborted", err=True)
        return 1
    except Exception as exc:
        if _is_usage_error(exc):
            message = " ".join(exc.format_message().split())  # type: ignore[attr-defined]
            if message:  # no arguments at all: the help was printed, nothing more to say
                _err(f"error: {message} (see --help)")
            return 2
        if debug:
            raise
        _err(f"error: unexpected {type(exc).__name__}: {' '.join(str(exc).split())[:300]} (run with --debug for details)")
        return 1
    return int(result) if isinstance(result, int) else 0


def _is_usage_error(exc: Exception) -> bool:
    """Whether `exc` is click's usage error (bad option, missing argument...). Typer bundles its own
    copy of click in a private module, so the class is recognised by name, not imported from there."""
    return any(cls.__name__ == "ClickException" for cls in type(exc).__mro__) and hasattr(exc, "format_message")


class TrackerGroup(TyperGroup):
    """The command group. Its `main` is what the console script, `python -m` and typer's test
    runner all call, so errors become one line and an exit code the same way everywhere."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        argv = list(sys.argv[1:] if args is None else args)
        parent = super()

        def call():
            return parent.main(args=argv, prog_name=prog_name or "forecast-tracker", complete_var=complete_var,
                               standalone_mode=False, **extra)  # fmt: skip

        code = _guarded(call, debug="--debug" in argv)
        if standalone_mode:
            sys.exit(code)
        return code


app = typer.Typer(
    cls=TrackerGroup,
    name="forecast-tracker",
    help="Track forecasts against the evidence: propositions, signposts, observations, updates, scores and scorecards.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
db_app = typer.Typer(help="Database maintenance: schema upgrades and integrity checks.", no_args_is_help=True)
app.add_typer(db_app, name="db")

TABLE_FORMATS = ("table", "csv", "json")
SHOW_LATEST = 20


def _print_version(value: bool) -> None:
    if value:
        from forecast_tracker import __version__

        typer.echo(f"forecast-tracker {__version__}")
        raise typer.Exit(0)


@app.callback()
def _global(
    ctx: typer.Context,
    db: Annotated[
        Optional[str],
        typer.Option("--db", help="Database file or SQLAlchemy URL (env FORECAST_TRACKER_DB; default ./forecast.db)."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show a traceback on unexpected errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", is_eager=True, callback=_print_version)
    ] = False,
) -> None:
    ctx.obj = {"db": db, "debug": debug}


def _tracker(ctx: typer.Context, create: bool = False, upgrade: bool = True) -> api.Tracker:
    """The command's database, closed when the command ends (as sqlite-utils does)."""
    tracker = api.Tracker(ctx.obj["db"], create=create, upgrade=upgrade)
    ctx.call_on_close(tracker.close)
    return tracker


# Terminal escape sequences (CSI/OSC), C0 and C1 control characters other than tab and newline, and
# Unicode bidirectional overrides: text a user typed must not move the cursor, retitle the terminal or
# reorder what the reader sees. Applied to terminal text only; JSON and CSV stay exact.
_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
)


def _printable(text: str) -> str:
    return _CONTROL.sub("", text)


def _say(text: str = "") -> None:
    typer.echo(_printable(text))


def _table(rows: list[dict[str, Any]], columns: list[str], fmt: str, title: str | None = None) -> None:
    """Print rows as a terminal table, CSV or JSON (JSON and CSV are exact, for scripts)."""
    if fmt == "json":
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if fmt == "csv":
        sys.stdout.write(api.to_csv(rows, columns))
        return
    # Plain aligned text: as readable as a boxed table, greppable, and a thousand rows print in
    # milliseconds (rich's tables took longer than the query behind `list`).
    # Nothing is cut: piped or redirected, each row is one whole line; on a terminal, a long cell wraps
    # within its column (at most WIDE wide, the last column taking what the terminal has left).
    cells = [[" ".join(_printable(api.table_cell(row.get(c))).split()) for c in columns] for row in rows]
    natural = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    terminal = sys.stdout.isatty()
    widths = [min(WIDE, n) for n in natural] if terminal else natural
    if terminal and columns:
        import shutil

        room = shutil.get_terminal_size((120, 24)).columns - sum(w + 2 for w in widths[:-1])
        widths[-1] = max(min(natural[-1], room), min(natural[-1], 20))
    lines = [f"{title}:"] if title else []
    lines.append("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    for r in cells:
        lines += _wrapped_row(r, widths)
    if not rows:
        lines.append("(none)")
    sys.stdout.write("\n".join(lines) + "\n")


WIDE = 60


def _wrapped_row(cells: list[str], widths: list[int]) -> list[str]:
    """One table row as lines: each cell wrapped to its column's width (whole words where it can)."""
    import textwrap

    parts = [textwrap.wrap(v, w, break_on_hyphens=False) if len(v) > w else [v] for v, w in zip(cells, widths, strict=True)]
    height = max((len(p) for p in parts), default=1)
    return [
        "  ".join((p[k] if k < len(p) else "").ljust(w) for p, w in zip(parts, widths, strict=True)).rstrip()
        for k in range(height)
    ]


# -- definitions --------------------------------------------------------------------------------
def _print_sync(report) -> None:
    for item in report.added:
        _say(f"added     {item}")
    for item in report.changes:
        _say(f"changed   {item}")
    for item in report.vanished:
        hint = f"; if it is gone for good: retire {item} --reason TEXT" if item.startswith("indicator ") else ""
        _say(f"vanished  {item}  (kept in the database, its history too{hint})")
    for item in report.warnings:
        _err(f"warning: {item}")
    _say(
        f"sync: {len(report.added)} added, {len(report.changed)} changed, {len(report.unchanged)} unchanged, "
        f"{len(report.vanished)} vanished"
    )


@app.command()
def init(
    ctx: typer.Context,
    catalog: Annotated[
        Optional[Path], typer.Option(help="Catalog folder of proposition YAML files (default ./indicators).")
    ] = None,
) -> None:
    """Create the database if missing and sync the catalog."""
    folder = catalog or Path("indicators")
    if catalog is not None and not catalog.is_dir():
        raise InputError(f"{catalog} is not a folder", "catalog")
    if folder.is_dir():
        api.check_catalog(folder)  # a bad catalog leaves no new database behind
    tracker = _tracker(ctx, create=True)
    _say(f"database: {tracker.db.location} (schema {tracker.schema_version()})")
    if folder.is_dir():
        _print_sync(tracker.sync(folder))
    else:
        _say(f"no catalog at {folder}: nothing synced")


@app.command()
def sync(
    ctx: typer.Context,
    catalog: Annotated[Path, typer.Option(help="Catalog folder of proposition YAML files.")] = Path("indicators"),
    restate: Annotated[
        bool,
        typer.Option(
            "--restate",
            help="Accept changes that alter numbers already shown (a back-dated effective; the prior, dates, question "
            "or criteria of a proposition with a record), recorded as restatements that history and every later "
            "scorecard show. Needs --reason.",
        ),
    ] = False,
    reason: Annotated[Optional[str], typer.Option(help="Why the restatement is made (with --restate).")] = None,
) -> None:
    """Load new and changed definitions; never deletes history.

    A changed ratio, threshold, repeats, group, decides or decay counts from today (or the file's later
    `effective: YYYY-MM-DD`) on: every earlier number stays as it was shown. A change that would alter
    numbers already shown is refused unless --restate --reason TEXT."""
    _print_sync(_tracker(ctx).sync(catalog, restate=restate, reason=reason))


# -- state --------------------------------------------------------------------------------------
PoolOption = Annotated[
    Optional[str],
    typer.Option(
        "--pool",
        help="How a team's tracks pool: median, geo-odds, mean or trimmed, on every day (default: each "
        "proposition's catalog `team`, else median).",
    ),
]


@app.command("list")
def list_(
    ctx: typer.Context,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Date YYYY-MM-DD (default today).")] = None,
    status: Annotated[Optional[str], typer.Option(help="Only open, yes, no or annulled.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    since: Annotated[
        Optional[str], typer.Option("--since", help="Show the change since this date (default: the end of last month).")
    ] = None,
    by: Annotated[
        Optional[str],
        typer.Option("--by", help="One forecaster's track (default: the team, the pool of everyone who has forecast)."),
    ] = None,
    pool: PoolOption = None,
    tag: Annotated[
        Optional[list[str]], typer.Option("--tag", help="Only propositions with this tag (repeat: any of them).")
    ] = None,
) -> None:
    """List propositions with their standing probability as of a date (the team's, or --by one forecaster's).
    --as-of and --since take a date or a month (YYYY-MM: its last day)."""
    fmt = api.choice(fmt, "format", TABLE_FORMATS)
    standings = _tracker(ctx).standing(as_of, status, by=by, since=since or api.end_of_last_month(as_of), pool=pool, tags=tag)
    rows = api.standing_rows(standings)
    if fmt == "table":
        rows = [{**r, "words": api.shown_word(r["probability"]), "change": api.change_points(r["change"])} for r in rows]
    columns = (
        ["id", "status", "probability", "words", "change", "last_update", "resolve_by", "question"]
        if fmt == "table"
        else ["id", "statement", "status", "probability", "as_of", "resolve_by", "change", "since", "last_update", "question"]
    )
    if fmt == "table" and rows:
        _say(f"change: since {rows[0]['since']} (--since); last_update: the last update or applied observation")
    _table(rows, columns, fmt)


@app.command()
def show(
    ctx: typer.Context,
    proposition: Annotated[Optional[str], typer.Argument(help="Proposition id (none with --matrix).")] = None,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Date YYYY-MM-DD (default today).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    by: Annotated[
        Optional[str],
        typer.Option("--by", help="One forecaster's track (default: the team, the pool of everyone who has forecast)."),
    ] = None,
    pool: PoolOption = None,
    matrix: Annotated[
        bool, typer.Option("--matrix", help="The evidence x propositions matrix of counted decibans (with --tag: of those).")
    ] = False,
    tag: Annotated[Optional[list[str]], typer.Option("--tag", help="With --matrix: only propositions with this tag.")] = None,
) -> None:
    """Show one proposition: criteria, standing probability (each forecaster's too), indicators and evidence.
    --matrix: every signpost against every proposition, the decibans each counted (a signpost with
    bears_on entries counts in several)."""
    fmt = api.choice(fmt, "format", ("table", "json"))
    if matrix:
        if proposition is not None or by is not None or pool is not None:
            raise InputError("--matrix shows every proposition (the team's); give no proposition, --by or --pool", "proposition")
        _print_matrix(_tracker(ctx).matrix(as_of, tags=tag), fmt)
        return
    if tag:
        raise InputError("--tag goes with --matrix", "tag")
    if proposition is None:
        raise InputError("name a proposition (or --matrix)", "proposition")
    p = _tracker(ctx).show(proposition, as_of, by=by, pool=pool)
    if fmt == "json":
        typer.echo(json.dumps(p, indent=2, ensure_ascii=False, default=str))
        return
    _print_proposition(p, by)


def _print_proposition(p: dict, by: str | None) -> None:
    describe = api.describe
    _say(f"{p['id']}  [{p['status']}]  {describe(p['probability'])} as of {p['as_of']}" + (f"  ({by})" if by else ""))
    if len(p["forecasters"]) > 1:
        members = ", ".join(f"{name} {value:.2f}" for name, value in sorted(p["forecasters"].items()))
        _say(f"  team:       {p['pool']} of {members}")
    _say(f"  statement:  {p['statement']}")
    _say(f"  question:   {p['question']}")
    _say(f"  criteria:   {' '.join(p['resolution_criteria'].split())}")
    _say(
        f"  opened {p['opened']}, resolve by {p['resolve_by']}; prior {describe(p['prior'])}"
        + (f" from {p['prior_phrase']!r}" if p["prior_phrase"] else "")
    )
    _say(f"  source:     {p['source_title']}" + (f" ({p['source_author']})" if p["source_author"] else ""))
    _table(
        [{**i, "ratio": i["likelihood_ratio"], "if_not_met": i["likelihood_ratio_if_not_met"]} for i in p["indicators"]],
        ["id", "kind", "threshold", "ratio", "if_not_met", "description"],
        "table",
        title="indicators",
    )
    observations = p["observations"]
    latest = observations[-SHOW_LATEST:]
    title = (
        "observations"
        if len(observations) <= SHOW_LATEST
        else f"latest {SHOW_LATEST} of {len(observations)} observations (all: --format json)"
    )
    _table(
        [{**o, "retracted": "retracted" if o["retracted"] else ""} for o in latest],
        ["id", "observed_on", "indicator", "value", "source", "note", "retracted"],
        "table",
        title=title,
    )
    for r in p["resolutions"]:
        note = f"; note: {r['note']}" if r["note"] else ""
        gone = f" (retracted: {r['retracted']})" if r["retracted"] else ""
        _say(f"resolution {r['id']}: {r['outcome']} on {r['resolved_on']}; source: {r['source'] or 'none given'}{note}{gone}")


def _print_matrix(m: dict, fmt: str) -> None:
    if fmt == "json":
        typer.echo(json.dumps(m, indent=2, ensure_ascii=False))
        return
    props = [p for p in m["propositions"] if any(p in r["decibans"] for r in m["rows"])]
    rows = [{"signpost": r["indicator"], **{p: f"{r['decibans'][p]:+.1f}" if p in r["decibans"] else "" for p in props}}
            for r in m["rows"]]  # fmt: skip
    _say(f"decibans each signpost counted in each proposition's chain, as of {m['as_of']} (+3 dB doubles the odds)")
    _table(rows, ["signpost", *props], "table")


# -- evidence and judgements ----------------------------------------------------------------------
@app.command()
def observe(
    ctx: typer.Context,
    indicator: Annotated[str, typer.Argument(help="Indicator id.")],
    value: Annotated[
        Optional[str], typer.Option(help="1 (or nothing) for an event that happened, 0 if not; a number for a count or level.")
    ] = None,
    date: Annotated[str, typer.Option(help="Date observed, YYYY-MM-DD.")] = "today",
    source: Annotated[str, typer.Option(help="Where it was seen (required): a URL or citation.")] = "",
    note: Annotated[str, typer.Option(help="What was seen, in your words.")] = "",
    apply: Annotated[bool, typer.Option("--apply", help="Also count it as evidence (the update it implies).")] = False,
    by: Annotated[Optional[str], typer.Option(help="Forecaster (env FORECAST_TRACKER_USER, else login name).")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check it and print its full effect (with --apply: as applied); write nothing.")
    ] = False,
) -> None:
    """Log an observation of an indicator and print what it does on its date; --apply counts it as evidence."""
    r = _tracker(ctx).observe(indicator, value=value, date=date, source=source, note=note, apply=apply, by=by, dry_run=dry_run)
    if r.dry_run:
        _say(f"dry run, nothing written: {r.indicator} on {r.observed_on}")
        _print_effect(r, "would be applied as evidence" if r.applied else "would be stored, not applied")
        return
    _say(f"observation {r.observation_id}: {r.indicator} on {r.observed_on}")
    _print_effect(
        r, f"applied as evidence from {r.observed_on} on" if r.applied else f"not applied; to apply it: apply {r.observation_id}"
    )


def _print_effect(r: api.ObserveResult, tail: str) -> None:
    """What an observation does, for its proposition and each other it bears on (`bears_on`)."""
    _print_one_effect(r, tail)
    for other in r.shared:
        _print_one_effect(other, f"shared: {other.indicator}")


def _print_one_effect(r: api.ObserveResult, tail: str) -> None:
    describe = api.describe
    if r.context:
        _say(f"{r.proposition}: dated before the proposition opened; recorded as context, it counts for nothing")
    elif r.link is None:
        _say(f"{r.proposition}: {'fired' if r.fired else 'did not fire'}; no ratio applies, so it counts for nothing")
    else:
        link = r.link
        assert link.likelihood_ratio is not None  # an ObserveResult's link carries the ratio it applied
        weight = f"{api.decibans(link.likelihood_ratio):+.1f} dB"
        counted = link.counted_ratio if link.counted_ratio is not None else link.likelihood_ratio
        if not math.isclose(counted, link.likelihood_ratio, rel_tol=1e-9):  # floats: never compared for equality
            weight += f", counted {link.decibans:+.1f} dB as a repeat or within its group"
        _say(
            f"{r.proposition}: {describe(link.before)} -> {describe(link.after)} on {link.on}  "
            f"(likelihood ratio {link.likelihood_ratio:g}, {weight}; {tail})"
        )


@app.command("apply")
def apply_(
    ctx: typer.Context,
    observation_ids: Annotated[
        Optional[list[str]],
        typer.Argument(metavar="[OBSERVATION_ID]...", help="The observations' ids (see review, show or export)."),
    ] = None,
    pending: Annotated[
        bool, typer.Option("--pending", help="Every observation not yet applied that can move anything, in date order.")
    ] = False,
    indicator: Annotated[Optional[str], typer.Option(help="With --pending: only this indicator's observations.")] = None,
    before: Annotated[
        Optional[str], typer.Option(help="With --pending: only those dated on or before this date (default today).")
    ] = None,
    by: Annotated[Optional[str], typer.Option(help="Who applied them (env FORECAST_TRACKER_USER, else login name).")] = None,
) -> None:
    """Count stored observations as evidence: the update each proposes, from its date on. Several ids,
    or --pending, apply in one transaction: any id that may not be applied refuses them all."""
    ids = observation_ids or []
    if pending:
        if ids:
            raise InputError("give observation ids or --pending, not both", "id")
        done, left = _tracker(ctx).apply_pending(indicator=indicator, before=before, by=by)
        for r in done:
            _print_effect(r, f"observation {r.observation_id} applied")
        for line in left:
            _say(line)
        _say(f"applied {len(done)} observation(s); {len(left)} left as they were")
        return
    if indicator is not None or before is not None:
        raise InputError("--indicator and --before go with --pending", "indicator" if indicator is not None else "before")
    results = _tracker(ctx).apply_many(ids, by=by)
    for r in results:
        _print_effect(r, "applied" if len(results) == 1 else f"observation {r.observation_id} applied")


@app.command()
def update(
    ctx: typer.Context,
    proposition: Annotated[str, typer.Argument(help="Proposition id.")],
    probability: Annotated[str, typer.Argument(help="0.7, 70% or an ICD 203 term such as 'likely'.")],
    date: Annotated[str, typer.Option(help="Effective date, YYYY-MM-DD.")] = "today",
    rationale: Annotated[Optional[str], typer.Option(help="Why the probability changed (required, or --no-rationale).")] = None,
    no_rationale: Annotated[bool, typer.Option("--no-rationale", help="Record the update without a reason.")] = False,
    by: Annotated[Optional[str], typer.Option(help="Forecaster (env FORECAST_TRACKER_USER, else login name).")] = None,
    new_forecaster: Annotated[
        bool, typer.Option("--new-forecaster", help="--by names someone forecasting here for the first time.")
    ] = False,
) -> None:
    """Record your probability for a proposition from a date on (your track; the team shows the median).
    A --by name nobody has forecast under needs --new-forecaster, so a typo does not join the team."""
    if rationale is not None and no_rationale:
        raise InputError("give --rationale or --no-rationale, not both", "rationale")
    update_id, before, after = _tracker(ctx).update(
        proposition, probability, date=date, rationale=rationale or "", by=by, require_rationale=not no_rationale,
        known_forecaster=by is not None and not new_forecaster,
    )
    _say(f"update {update_id}: {proposition} {api.describe(before)} -> {api.describe(after)} from {date}")


@app.command()
def resolve(
    ctx: typer.Context,
    proposition: Annotated[str, typer.Argument(help="Proposition id.")],
    outcome: Annotated[str, typer.Argument(help="yes, no or annulled.")],
    date: Annotated[str, typer.Option(help="Date resolved, YYYY-MM-DD.")] = "today",
    source: Annotated[str, typer.Option(help="Where the outcome was seen (required, or --no-source): a URL or citation.")] = "",
    no_source: Annotated[bool, typer.Option("--no-source", help="Record the outcome without a source.")] = False,
    note: Annotated[str, typer.Option(help="Note.")] = "",
    force: Annotated[bool, typer.Option("--force", help="Resolve again; the earlier resolution stays on record.")] = False,
) -> None:
    """Record a proposition's outcome, then print the final forecast it locks in and its scores."""
    if source.strip() and no_source:
        raise InputError("give --source or --no-source, not both", "source")
    tracker = _tracker(ctx)
    resolution_id = tracker.resolve(proposition, outcome, date=date, source=source, note=note, force=force,
                                    require_source=not no_source)  # fmt: skip
    _say(f"resolution {resolution_id}: {proposition} {outcome.lower()}")
    in_force = [r for r in tracker.resolution_record(proposition) if r["id"] == resolution_id][0]
    row = tracker.proposition_score(proposition, max(api.today(), in_force["resolved_on"]))
    if row is None:
        return
    if row["outcome"] == "annulled":
        _say("annulled: no score; it counts in no mean")
        return
    _say(f"final forecast {api.describe(row['final_probability'])} (the standing probability the day before "
         f"{row['resolved_on']}); Brier {row['brier']:.4f}, time-averaged Brier {row['time_averaged_brier']:.4f}, "
         f"log loss {row['log_loss']:.4f}, Metaculus baseline {row['baseline_score']:.1f}")  # fmt: skip


@app.command()
def retract(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="observation, update or resolution.")],
    row_id: Annotated[str, typer.Argument(metavar="ID", help="The row's id (see history, show or export).")],
    reason: Annotated[str, typer.Option(help="Why it no longer counts (required).")] = "",
) -> None:
    """Retract a row: it stops counting everywhere but stays on record, marked. Retracting a resolution
    says what is in force afterwards: an earlier resolution it had superseded, or none (open again)."""
    tracker = _tracker(ctx)
    for target, target_id in tracker.retract(kind, row_id, reason=reason):
        _say(f"retracted {target} {target_id}")
        if target == "resolution":
            proposition = tracker.resolution_owner(target_id)
            live = [r for r in tracker.resolution_record(proposition) if r["in_force"]]
            if live:
                r = live[0]
                _say(f"{proposition} is resolved {r['outcome']} again, from resolution {r['id']} of {r['resolved_on']}")
            else:
                _say(f"{proposition} is open again (no resolution in force)")


@app.command()
def amend(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="observation (the only kind that can be amended).")],
    row_id: Annotated[str, typer.Argument(metavar="ID", help="The observation's id (see show, review or export).")],
    reason: Annotated[str, typer.Option(help="Why it is corrected (required; kept with the retracted row).")] = "",
    date: Annotated[Optional[str], typer.Option(help="The corrected date, YYYY-MM-DD.")] = None,
    value: Annotated[Optional[str], typer.Option(help="The corrected value.")] = None,
    source: Annotated[Optional[str], typer.Option(help="The corrected source.")] = None,
    note: Annotated[Optional[str], typer.Option(help="The corrected note.")] = None,
    by: Annotated[Optional[str], typer.Option(help="Who applied it, when the old row was applied (default: you).")] = None,
) -> None:
    """Correct an observation in one transaction: the old row is retracted (the reason kept), the
    corrected row stored, linked to it, and applied if the old one was."""
    api.choice(kind, "kind", ("observation",))
    r = _tracker(ctx).amend(row_id, reason=reason, date=date, value=value, source=source, note=note, by=by)
    _say(f"observation {r.observation_id} amends observation {row_id.strip()}: {r.indicator} on {r.observed_on}")
    _print_effect(r, "applied as evidence" if r.applied else f"not applied; to apply it: apply {r.observation_id}")


@app.command()
def retire(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="indicator (the only kind that can be retired).")],
    indicator: Annotated[str, typer.Argument(metavar="ID", help="The indicator's id.")],
    reason: Annotated[str, typer.Option(help="Why it is retired (required).")] = "",
) -> None:
    """Take a signpost out of use (one removed or renamed in the catalog): it leaves show and sync's
    'vanished' warning, and new observations of it are refused; its observations stay on record and
    count as before."""
    api.choice(kind, "kind", ("indicator",))
    proposition = _tracker(ctx).retire(indicator, reason=reason)
    _say(f"retired indicator {indicator.strip()} of {proposition}; its observations stay on record")


def _resolution_lines(record: list[dict[str, Any]]) -> list[str]:
    """One line per resolution of a proposition: what it said and whether it counts now."""
    later = {r["supersedes"]: r["id"] for r in record if r["supersedes"] is not None}
    lines = []
    for r in record:
        if r["retracted"] is not None:
            state = f"retracted: {r['retracted']}"
        elif r["in_force"]:
            state = "in force"
        else:
            state = f"superseded by resolution {later.get(r['id'], '?')}"
        lines.append(f"resolution {r['id']}: {r['outcome']} on {r['resolved_on']} ({state})")
    return lines


@app.command()
def history(
    ctx: typer.Context,
    proposition: Annotated[str, typer.Argument(help="Proposition id.")],
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Explain the probability on this date (default today).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    by: Annotated[
        Optional[str],
        typer.Option("--by", help="One forecaster's track (default: the team, the pool of everyone who has forecast)."),
    ] = None,
    pool: PoolOption = None,
) -> None:
    """The chain behind a proposition's probability: prior, updates, each observation's counted ratio, decay."""
    fmt = api.choice(fmt, "format", TABLE_FORMATS)
    rows = _tracker(ctx).history(proposition, as_of, by=by, pool=pool)
    columns = ["as_of", "probability", "method", "decibans", "rationale", "observation_id", "indicator", "id", "forecaster",
               "retracted"]  # fmt: skip
    _table(rows, columns, fmt)
    if fmt == "table":
        for line in _resolution_lines(_tracker(ctx).resolution_record(proposition)):
            _say(line)


@app.command()
def review(
    ctx: typer.Context,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Date YYYY-MM-DD (default today).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    notify: Annotated[
        Optional[str],
        typer.Option(
            "--notify",
            help="Also send the queue to this Apprise URL (slack://..., msteams://..., discord://..., matrix://..., "
            "mailto://..., json://host/path); needs the notify extra. Nothing is sent without it.",
        ),
    ] = None,
    digest: Annotated[bool, typer.Option("--digest", help="With --notify: add the month's 'This month' section.")] = False,
) -> None:
    """What needs a look: a criterion met by a decisive signpost (resolve it), overdue, signposts fired
    but not applied, observations not applied, due within 30 days, stale (no update for 90 days). The
    scorecards flag the same things."""
    fmt = api.choice(fmt, "format", ("table", "json"))
    if digest and notify is None:
        raise InputError("--digest goes with --notify URL (it says what is sent)", "digest")
    items = _tracker(ctx).review(as_of)
    if notify is not None:
        _tracker(ctx).notify(notify, as_of, digest, items)
    if fmt == "json":
        typer.echo(json.dumps(items, indent=2, ensure_ascii=False))
        return
    _table(items, ["proposition", "reason", "detail"], "table")


# -- bulk ---------------------------------------------------------------------------------------
@app.command("import")
def import_(
    ctx: typer.Context,
    files: Annotated[
        list[Path],
        typer.Argument(help="Observations, updates or resolutions CSV (told apart by header); with --from, a peer's files."),
    ],
    source: Annotated[
        Optional[str],
        typer.Option(
            "--from",
            help="A peer's export: fatebook, fatebook-sheet, metaculus (question_data.csv + forecast_data.csv, or the "
            "zip), predictionbook (my_predictions JSON, or the extractor's CSV) or manifold (market and bets JSON). "
            "Writes a draft proposition per binary question into --catalog, syncs it, and imports its forecasts "
            "and resolution; a platform's crowd comes in as a benchmark forecaster (metaculus:cp, manifold:market).",
        ),
    ] = None,
    catalog: Annotated[Path, typer.Option(help="With --from: the catalog folder the drafts are written to.")] = Path("indicators"),
    apply: Annotated[bool, typer.Option("--apply", help="Count every imported observation as evidence.")] = False,
    by: Annotated[Optional[str], typer.Option(help="Forecaster for updates (env FORECAST_TRACKER_USER).")] = None,
    excel_safe: Annotated[
        bool, typer.Option("--excel-safe", help="The file was written by 'export --excel-safe': remove its apostrophes.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Resolutions: a row for a resolved proposition resolves it again (as 'resolve --force'). "
            "Rows an export marked with 'supersedes' need no --force.",
        ),
    ] = False,
    no_rationale: Annotated[
        bool, typer.Option("--no-rationale", help="Updates: accept manual rows with an empty rationale.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every row and print what it would do; write nothing.")] = False,
) -> None:
    """Import a CSV atomically: every row, or none and a list of every bad row. With --from, a peer's
    whole binary record (Fatebook, Metaculus, PredictionBook, Manifold), all or nothing. An updates
    CSV whose manual rows lack a rationale is refused unless --no-rationale. A JSON file from 'export
    definitions' is replayed: every proposition's versions, restatements and retirements, into a
    database synced from the same catalog (before its observations, updates and resolutions)."""
    if source is not None:
        if no_rationale or dry_run:
            raise InputError("--no-rationale and --dry-run are for our own CSV files, not a peer's record", "from")
        _import_peers(ctx, source, files, catalog, by, apply or excel_safe or force)
        return
    if len(files) != 1:
        raise InputError(f"import takes one CSV at a time ({len(files)} given); a peer's files go with --from", "file")
    file = files[0]
    r = _tracker(ctx).import_csv(file, apply=apply, by=by, excel_safe=excel_safe, force=force,
                                 require_rationale=not no_rationale, dry_run=dry_run)  # fmt: skip
    if r.kind == "definitions":
        verb = "dry run, nothing written: would replay" if dry_run else "replayed"
        _say(f"{verb} the definitions over time of {r.imported} proposition(s) from {file.name} ({r.duplicates} already as the file has them)")
        return
    extra = f", {r.applied} applied as evidence" if r.applied else ""
    verb = "dry run, nothing written: would import" if dry_run else "imported"
    _say(f"{verb} {r.imported} {r.kind} from {file.name} ({r.duplicates} duplicate(s) skipped, {r.retracted} retracted{extra})")
    waiting = r.imported - r.retracted - r.applied if r.kind == "observations" else 0
    if waiting > 0 and not dry_run:
        _say(f"{waiting} row(s) stored, not counted: apply them with 'forecast-tracker apply --pending' (or import --apply)")


def _import_peers(ctx: typer.Context, source: str, files: list[Path], catalog: Path, by: str | None, csv_flags: bool) -> None:
    if csv_flags:
        raise InputError("--apply, --excel-safe and --force are for our own CSV files, not a peer's record", "from")
    r = _tracker(ctx).import_peers(source, files, catalog=catalog, by=by)
    for line in r.skipped:
        _say(f"skipped: {line}")
    crowd = f" ({r.crowd} by the crowd: {', '.join(r.benchmarks)}, a benchmark never pooled into the team)" if r.crowd else ""
    _say(f"imported {r.questions} question(s) from {source}: {r.drafts} new catalog file(s) in {catalog}, {r.updates} "
         f"forecast(s){crowd}, {r.resolutions} resolution(s) ({r.duplicates} already stored, {r.clamped} clamped to "
         f"[0.001, 0.999])")  # fmt: skip


@app.command()
def export(
    ctx: typer.Context,
    what: Annotated[
        str, typer.Argument(help="observations, updates, propositions, indicators, resolutions, definitions or calendar.")
    ],
    fmt: Annotated[Optional[str], typer.Option("--format", help="csv or json (default csv; definitions are JSON only).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Write to this file instead of standard output.")] = None,
    excel_safe: Annotated[
        bool,
        typer.Option(
            "--excel-safe",
            help="For spreadsheets: text cells starting with = + - @ get a leading apostrophe, so they are "
            "never run as formulas. Import such a file back with 'import --excel-safe'.",
        ),
    ] = False,
) -> None:
    """Export a table as CSV or JSON. CSV is exact (it imports back unchanged); open it in a spreadsheet
    only with --excel-safe, since a spreadsheet runs cells such as '=HYPERLINK(...)' as formulas.
    'export calendar --out FILE.ics' writes each open proposition's resolve-by and review dates as an
    iCalendar file: import it into any calendar to be reminded. 'export definitions' writes every
    proposition's definitions over time (the versions in force on past days, restatements,
    retirements), which the catalog alone cannot carry: import it into a database synced from the
    same catalog before the rest of the record, and every past number comes back as it was."""
    if what == "calendar":
        if fmt is not None or excel_safe:
            raise InputError("a calendar is an .ics file: give neither --format nor --excel-safe", "format")
        if out is None:
            sys.stdout.buffer.write(_tracker(ctx).calendar())
        else:
            _say(f"wrote {_tracker(ctx).export_to(what, fmt, out)}")
        return
    fmt = fmt or ("json" if what == "definitions" else "csv")
    if out is None:
        sys.stdout.write(_tracker(ctx).export(what, fmt, excel_safe))
    else:
        _say(f"wrote {_tracker(ctx).export_to(what, fmt, out, excel_safe)}")


# -- scores and reports -----------------------------------------------------------------------
@app.command()
def score(
    ctx: typer.Context,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Score what was resolved by this date (default today).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    by: Annotated[
        Optional[str],
        typer.Option("--by", help="One forecaster's track (default: the team, the pool of everyone who has forecast)."),
    ] = None,
    pool: PoolOption = None,
    compare_pools: Annotated[
        bool,
        typer.Option("--compare-pools", help="Score every pooling method walk-forward on the resolved record, against the median."),
    ] = False,
    by_tag: Annotated[bool, typer.Option("--by-tag", help="Also print the breakdowns by tag, horizon and year resolved.")] = False,
    early_yes: Annotated[
        bool,
        typer.Option(
            "--early-yes/--without-early-yes",
            help="Whether propositions resolved yes before resolve_by count in the calibration tables (the headline keeps them).",
        ),
    ] = True,
) -> None:
    """Score resolved propositions: Brier (both scales), log loss, time averages, Metaculus baseline;
    calibration on the final day and over the same days as the headline, with 90% intervals; then
    every forecaster side by side against the team (relative Brier and log peer score)."""
    fmt = api.choice(fmt, "format", ("table", "json", "csv"))
    if compare_pools:
        if by is not None or pool is not None:
            raise InputError("--compare-pools scores the team under every method: give neither --by nor --pool", "pool")
        _print_pool_comparison(_tracker(ctx).compare_pools(as_of), fmt)
        return
    scores = _tracker(ctx).scores(as_of, by=by, pool=pool, early_yes=early_yes).as_json()
    if fmt == "json":
        typer.echo(json.dumps(scores, indent=2))
        return
    if fmt == "csv":  # one row per proposition, for spreadsheets
        sys.stdout.write(api.to_csv(scores["propositions"], [*api.SCORE_COLUMNS, "origin"]))
        return
    _print_scores(scores, by_tag)


def _print_scores(scores: dict, by_tag: bool) -> None:
    """`score`'s tables: each proposition, the summary, calibration, breakdowns, forecasters."""
    _table(scores["propositions"], api.SCORE_COLUMNS, "table")
    s = scores["summary"]
    skill = "n/a" if s["skill_vs_prior"] is None else f"{s['skill_vs_prior']:+.3f}"
    mean = "n/a" if s["mean_time_averaged_brier"] is None else f"{s['mean_time_averaged_brier']:.4f}"
    prior = "n/a" if s["mean_prior_time_averaged_brier"] is None else f"{s['mean_prior_time_averaged_brier']:.4f}"
    _say(
        f"{s['n_resolved']} resolved: time-averaged Brier {mean} (the commentary's priors held: {prior}); "
        f"skill vs commentary {skill} over its {s['n_commentary']} own forecast(s)"
    )
    _print_calibration(scores)
    if by_tag:
        for name, table in (("tag", scores["by_tag"]), ("horizon", scores["by_horizon"]), ("year resolved", scores["by_year"])):
            rows = [{name: key, **values} for key, values in table.items()]
            columns = [name, "n_resolved", "mean_time_averaged_brier", "mean_baseline_score", "skill_vs_prior", "note"]
            _table([{**r, "note": r.get("note", "")} for r in rows], columns, "table", title=f"by {name}")
    if scores["forecasters"]:
        _table(
            scores["forecasters"],
            ["forecaster", "n_resolved", "forecast_days", "mean_time_averaged_brier", "mean_relative_brier", "peer_score"],
            "table",
            title=f"forecasters (time-averaged Brier over their forecast days; relative: minus the team's ({scores['pool']}), "
            "below 0 is better; peer: Metaculus's log peer score, above 0 is better)",
        )
    if scores["benchmarks"]:
        _table(
            scores["benchmarks"],
            ["benchmark", "n_resolved", "days", "mean_time_averaged_brier", "team_mean_time_averaged_brier", "team_minus_benchmark"],
            "table",
            title="team vs crowd (time-averaged Brier on the crowd's days; team minus crowd below 0: the team did better)",
        )


def _print_calibration(scores: dict) -> None:
    """Both calibration tables, each bin with its 90% interval, and how far apart yes and no stood."""
    leaves = "" if scores["calibration_includes_early_yes"] else ", without early yeses"
    for key, n, observed, title in (
        ("calibration", "count", "observed_frequency", f"calibration, final day{leaves}"),
        ("calibration_time_weighted", "n", "observed",
         f"calibration over the headline's days (each day weighs 1/L; n in propositions){leaves}"),
    ):  # fmt: skip
        rows = [
            {"bin": f"{r['bin_low']:.1f}-{r['bin_high']:.1f}", "n": round(r[n], 2), "mean_forecast": r["mean_forecast"],
             "observed": r[observed], "90% interval": _interval(r)}
            for r in scores[key]
        ]  # fmt: skip
        _table(rows, ["bin", "n", "mean_forecast", "observed", "90% interval"], "table", title=title)
    d = scores["discrimination"]["time_weighted"]
    if d["gap"] is not None:
        _say(f"mean forecast on yes {d['mean_forecast_yes']:.2f}, on no {d['mean_forecast_no']:.2f} (gap {d['gap']:+.2f})")


def _interval(row: dict) -> str:
    return "" if row["low"] is None else f"{row['low']:.2f}-{row['high']:.2f}"


def _print_pool_comparison(rows: list[dict], fmt: str) -> None:
    if fmt == "json":
        typer.echo(json.dumps(rows, indent=2))
        return
    columns = ["method", "n_resolved", "mean_time_averaged_brier", "difference_vs_median", "low", "high"]
    if fmt == "csv":
        sys.stdout.write(api.to_csv(rows, columns))
        return
    _table(rows, columns, "table", title="pooling methods, walk-forward (difference: minus the median's; 90% bootstrap interval)")


@app.command()
def report(
    ctx: typer.Context,
    month: Annotated[Optional[str], typer.Option(help="One month, YYYY-MM (default the current month).")] = None,
    from_: Annotated[Optional[str], typer.Option("--from", help="First month of a range, YYYY-MM.")] = None,
    to: Annotated[Optional[str], typer.Option(help="Last month of a range, YYYY-MM.")] = None,
    out: Annotated[Path, typer.Option(help="Folder for the scorecards.")] = Path("reports"),
    fmt: Annotated[str, typer.Option("--format", help="md, html or all.")] = "all",
    by: Annotated[
        Optional[str], typer.Option("--by", help="One forecaster's scorecards (default: the team's). Use its own --out.")
    ] = None,
    pool: PoolOption = None,
) -> None:
    """Render monthly scorecards (HTML with charts, Markdown) and an index."""
    fmt = api.choice(fmt, "format", ("md", "html", "all"))
    months = api.report_months(month, from_, to)
    formats = ("md", "html") if fmt == "all" else (fmt,)
    tracker = _tracker(ctx)
    written = _render_with_progress(tracker, months, out, formats, by, pool)
    _say(f"wrote {len(written)} file(s) to {out}; open {out / 'index.html'}")


def _render_with_progress(
    tracker: api.Tracker, months: list[str], out: Path, formats: tuple[str, ...], by: str | None = None,
    pool: str | None = None,
) -> list[Path]:  # fmt: skip
    with _progress_bar() as step:
        return tracker.report(months, out, formats, progress=step, by=by, pool=pool)


@contextlib.contextmanager
def _progress_bar() -> Iterator[Callable[[int, int], None]]:
    """A transient progress bar on stderr; yields the callback `step(done, total)`."""
    if not sys.stderr.isatty():  # a log or a pipe gets no bar, and no stray line before an error
        yield lambda done, total: None
        return
    from rich.console import Console
    from rich.progress import Progress

    # no refresh thread (redrawn on each step): pages may be written by a forked process, and a fork
    # must not copy a thread that could be holding a lock
    with Progress(transient=True, console=Console(stderr=True), auto_refresh=False) as progress:
        task = progress.add_task("rendering scorecards", total=None)

        def step(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)
            progress.refresh()

        yield step


@app.command()
def demo(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="Folder for the demo's database and scorecards.")] = Path("demo"),
    to: Annotated[str | None, typer.Option("--to", help="Last month to render, YYYY-MM (default: this month).")] = None,
    reports: Annotated[Path | None, typer.Option(help="Folder for the scorecards (default: OUT/reports).")] = None,
) -> None:
    """Build a database from the bundled case study and render its scorecards, one per month from 2023-10.

    The published record in the repository's reports/ folder is `demo --to 2026-10 --reports reports`."""
    with _progress_bar() as step:
        result = api.run_demo(out, progress=step, until_month=to, reports=reports)
    _table(result.summary, ["id", "prior", "now", "outcome", "time_avg_brier"], "table", title="Nagorno-Karabakh case study")
    _say(f"database: {result.database}")
    _say(f"scorecards: {result.index}")


@app.command()
def extract(
    file: Annotated[Path, typer.Argument(help="The commentary: plain text or Markdown, UTF-8.")],
    out: Annotated[Path, typer.Option(help="Folder for the drafts, one YAML file per sentence.")] = Path("indicators/drafts"),
    scale: Annotated[str, typer.Option(help="Words -> priors: icd203 (ICD 203) or phia (the UK PHIA yardstick).")] = "icd203",
    source_title: Annotated[Optional[str], typer.Option("--source-title", help="The commentary's title.")] = None,
    author: Annotated[Optional[str], typer.Option(help="Its author.")] = None,
    publisher: Annotated[Optional[str], typer.Option(help="Its publisher.")] = None,
    published: Annotated[
        Optional[str], typer.Option(help="Its date, YYYY-MM-DD: the source's date and each draft's `opened`.")
    ] = None,
    url: Annotated[Optional[str], typer.Option(help="Where it is published.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="yaml: write the drafts; json: print every sentence's verdict, write nothing.")] = "yaml",
) -> None:
    """Draft propositions from a commentary's estimative sentences (no database is opened).

    Each sentence with words of estimative probability ("highly probable", "a realistic possibility",
    "a 70 percent chance", "one in five"), a modal ("could", "may"), a growing trend or a plain
    future becomes a draft: its clause as the statement, the whole sentence as the quote, the prior
    from the words through the scale (the band's midpoint, or the number the text gives) and TODO
    where an analyst must decide. Facts, past judgements and reported intentions are left out.
    `sync` refuses a draft until no TODO is left; then move it into the catalog folder."""
    fmt = api.choice(fmt, "format", ("yaml", "json"))
    r = api.extract(file, None if fmt == "json" else out, scale, source_title, author, publisher, published, url)
    if fmt == "json":
        typer.echo(json.dumps(r.sentences, indent=2, ensure_ascii=False))
        return
    drafted = [row for row in r.sentences if row["draft"]]
    kinds: dict[str, int] = {}
    for row in drafted:
        kinds[row["verdict"]] = kinds.get(row["verdict"], 0) + 1
    detail = ", ".join(f"{n} {kind}" for kind, n in kinds.items())
    _say(f"{r.file.name}: {len(r.sentences)} sentences, {len(drafted)} drafted ({detail or 'none'}), {len(r.sentences) - len(drafted)} left out")
    rows = [
        {"line": row["line"], "draft": row["draft"], "prior": "TODO" if row["probability"] is None else f"{row['probability']:g}",
         "band": row["band"] or "", "words": ", ".join(row["words"])}
        for row in drafted
    ]  # fmt: skip
    if rows:
        _table(rows, ["line", "draft", "prior", "band", "words"], "table")
        _say(f"{len(r.written)} written to {r.out}, {len(r.unchanged)} unchanged" + (f", {len(r.kept)} kept as they are (edited since): {', '.join(r.kept)}" if r.kept else ""))
        _say("fill each TODO, then move the draft into the catalog folder and run sync; --format json shows every sentence's verdict")


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on; anything but 127.0.0.1/localhost needs --auth.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    auth: Annotated[
        Optional[str],
        typer.Option(help="Team mode: header:NAME (a reverse proxy names the user in that header) or tokens:FILE "
                          "(each user's token, stored hashed; see --new-token)."),
    ] = None,
    new_token: Annotated[
        Optional[str], typer.Option("--new-token", metavar="NAME", help="With --auth tokens:FILE: add a token for NAME, print it once, exit.")
    ] = None,
    reload: Annotated[bool, typer.Option("--reload", help="Restart when the code changes (for developing the app).")] = False,
) -> None:
    """The tracker in a browser and a JSON API under /api/ (needs the web extra: pip install 'forecast-tracker[web]').
    Every form and POST writes through the same rules as the command line."""
    from .web.security import new_token as add_token

    if new_token is not None:
        kind, _, path = (auth or "").partition(":")
        if kind.strip().lower() != "tokens" or not path.strip():
            raise InputError("--new-token goes with --auth tokens:FILE (the file it adds the token to)", "auth")
        token = add_token(Path(path.strip()), new_token)
        _say(f"token for {new_token.strip()} (shown once; the file keeps only its hash): {token}")
        return
    try:
        from .web.app import serve as run_server
    except ImportError as exc:
        raise TrackerError(f"serve needs the web extra ({exc.name} is missing): pip install 'forecast-tracker[web]'") from None
    run_server(ctx.obj["db"], host, port, auth, reload, announce=_say)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply pending schema migrations (opening a database also does this)."""
    tracker = _tracker(ctx, upgrade=False)
    done = tracker.upgrade()
    _say(f"applied {', '.join(done)}" if done else f"schema is current ({tracker.schema_version()})")


@db_app.command("rebuild-cache")
def db_rebuild_cache(ctx: typer.Context) -> None:
    """Derive every proposition's tracks from the record and write the cache afresh.

    The cache (each track's anchors, so `list`, `show` and `review` need no history) is never the
    truth: every change to the record empties the rows it touches in the same statement, and the
    command that made the change writes them again before it commits. Run this after editing the
    database by hand, or to check that nothing else is needed: the numbers shown do not change."""
    _say(f"cached the tracks of {_tracker(ctx).rebuild_cache()} proposition(s)")


@db_app.command("check")
def db_check(ctx: typer.Context) -> None:
    """Run SQLite's integrity check and print the schema version."""
    tracker = _tracker(ctx)
    result = tracker.integrity_check()
    _say(f"integrity: {result}; schema {tracker.schema_version()}")
    if result != "ok":
        raise InputError(f"integrity check failed: {result.splitlines()[0][:200]}; restore it from a backup", "db")


# -- entry point --------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    """Run the CLI with `argv` (default the process's arguments) and return the exit code."""
    return typer.main.get_command(app).main(args=argv, standalone_mode=False)


def run() -> None:
    sys.exit(main())
