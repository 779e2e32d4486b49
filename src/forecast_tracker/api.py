"""`Tracker`: the public Python API. The CLI calls only this, so a notebook can do everything it can."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import store
from .db import Database
from .errors import InputError, ValidationErrors
from .updating import ProposedUpdate, decibans, parse_probability, propose
from .validate import (
    OUTCOMES,
    RETRACT_TARGETS,
    check_text,
    choice,
    parse_date,
    parse_value,
    today,
    unknown,
)

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    vanished: list[str] = field(default_factory=list)


@dataclass
class ObserveResult:
    observation_id: int
    indicator: str
    proposition: str
    observed_on: str
    proposal: ProposedUpdate | None  # None: dated before the proposition opened (context only)
    update_id: int | None = None


@dataclass
class Standing:
    id: str
    statement: str
    status: str
    probability: float
    as_of: str
    resolve_by: str
    prior: float
    updated_on: str | None = None


def default_forecaster() -> str:
    name = os.environ.get("FORECAST_TRACKER_USER")
    if name:
        return name
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "unknown"


class Tracker:
    """Open a forecast database. `create=True` makes it (and its schema) when missing."""

    def __init__(self, db: str | os.PathLike | None = None, *, create: bool = False):
        self.db = Database(db, create=create)

    def close(self) -> None:
        self.db.dispose()

    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- definitions ------------------------------------------------------------------------
    def sync(self, catalog: str | os.PathLike = "indicators") -> SyncReport:
        """Load new and changed definitions from a catalog folder; never deletes anything."""
        from .catalog import load_catalog  # YAML parsing is only needed here

        definitions, problems = load_catalog(catalog)
        if problems:
            raise ValidationErrors(f"catalog {catalog}: {len(problems)} problem(s)", [str(p) for p in problems])
        with self.db.write() as conn:
            result = store.sync_definitions(conn, definitions)
        return SyncReport(**result)

    # -- lookups ------------------------------------------------------------------------------
    def _proposition(self, conn, proposition_id: str) -> dict[str, Any]:  # noqa: ANN001
        row = store.get_proposition(conn, proposition_id)
        if row is None:
            raise unknown("proposition", proposition_id, store.proposition_ids(conn))
        return row

    def _indicator(self, conn, indicator_id: str) -> dict[str, Any]:  # noqa: ANN001
        row = store.get_indicator(conn, indicator_id)
        if row is None:
            raise unknown("indicator", indicator_id, store.indicator_ids(conn))
        return row

    def _refuse_if_resolved(self, conn, proposition_id: str, what: str) -> None:  # noqa: ANN001
        resolution = store.current_resolution(conn, proposition_id)
        if resolution is not None:
            raise InputError(
                f"{proposition_id} was resolved {resolution['outcome']} on {resolution['resolved_on']}: "
                f"no new {what} (retract the resolution first if it was a mistake)"
            )

    # -- state --------------------------------------------------------------------------------
    def standing(self, as_of: str | None = None, status: str | None = None) -> list[Standing]:
        """Every opened proposition's standing probability and status as of a date (default today)."""
        day = parse_date(as_of, "--as-of", allow_future=True) if as_of else today()
        if status is not None:
            status = choice(status, "--status", ("open", *OUTCOMES))
        with self.db.read() as conn:
            rows = store.standing(conn, day)
        return [
            Standing(
                r["id"],
                r["statement"],
                r["status"],
                float(r["probability"]),
                day,
                r["resolve_by"],
                float(r["prior"]),
                r["updated_on"],
            )
            for r in rows
            if r["opened"] <= day and (status is None or r["status"] == status)
        ]

    def standing_probability(self, proposition_id: str, as_of: str | None = None) -> float:
        day = parse_date(as_of, "--as-of", allow_future=True) if as_of else today()
        with self.db.read() as conn:
            self._proposition(conn, proposition_id)
            return store.standing_probability(conn, proposition_id, day)

    def show(self, proposition_id: str, as_of: str | None = None) -> dict[str, Any]:
        """A proposition's definition, indicators, standing as of a date, and its evidence so far."""
        day = parse_date(as_of, "--as-of", allow_future=True) if as_of else today()
        with self.db.read() as conn:
            prop = self._proposition(conn, proposition_id)
            state = store.standing(conn, day, proposition_id)[0]
            prop["probability"] = float(state["probability"])
            prop["status"] = state["status"]
            prop["as_of"] = day
            prop["indicators"] = store.indicators_of(conn, proposition_id)
            prop["observations"] = store.observations(conn, proposition_id, until=day)
            prop["resolutions"] = store.resolutions(conn, proposition_id)
        return prop

    # -- evidence and judgements ------------------------------------------------------------
    def observe(
        self,
        indicator: str,
        *,
        value: object = None,
        date: str | None = None,
        source: str = "",
        note: str = "",
        apply: bool = False,
        by: str | None = None,
    ) -> ObserveResult:
        """Record an observation; with `apply`, also record the Bayes update it implies."""
        with self.db.write() as conn:
            ind = self._indicator(conn, indicator)
            prop = self._proposition(conn, ind["proposition_id"])
            day = parse_date(date, "--date")
            number = parse_value(value, ind["kind"], "--value")
            source = check_text(source, "--source", required=True)
            note = check_text(note, "--note")
            self._refuse_if_resolved(conn, prop["id"], "observations")
            obs_id = store.insert_observation(
                conn, {"indicator_id": indicator, "observed_on": day, "value": number, "source": source, "note": note}
            )
            result = ObserveResult(obs_id, indicator, prop["id"], day, None)
            if day >= prop["opened"]:
                prior = store.standing_probability(conn, prop["id"], day)
                result.proposal = indicator_proposal(ind, prior, number)
                if apply and result.proposal.moves:
                    result.update_id = store.insert_update(
                        conn, indicator_update_row(ind, prop["id"], day, obs_id, result.proposal, by)
                    )
        return result

    def update(
        self, proposition: str, probability: str | float, *, date: str | None = None, rationale: str = "", by: str | None = None
    ) -> int:
        """Record a judgement: the proposition's probability from `date` on."""
        with self.db.write() as conn:
            prop = self._proposition(conn, proposition)
            p = parse_probability(probability, field="probability")
            day = parse_date(date, "--date")
            if day < prop["opened"]:
                raise InputError(f"--date: {day} is before {proposition} opened ({prop['opened']})")
            rationale = check_text(rationale, "--rationale")
            forecaster = check_text(by if by is not None else default_forecaster(), "--by") or "unknown"
            self._refuse_if_resolved(conn, proposition, "updates")
            return store.insert_update(
                conn,
                {
                    "proposition_id": proposition,
                    "as_of": day,
                    "probability": p,
                    "method": "manual",
                    "rationale": rationale,
                    "forecaster": forecaster,
                },
            )

    def resolve(
        self, proposition: str, outcome: str, *, date: str | None = None, source: str = "", note: str = "", force: bool = False
    ) -> int:
        """Record the outcome. Resolving again needs `force`; the earlier resolution stays on record."""
        with self.db.write() as conn:
            prop = self._proposition(conn, proposition)
            outcome = choice(outcome, "OUTCOME", OUTCOMES)
            day = parse_date(date, "--date")
            if day < prop["opened"]:
                raise InputError(f"--date: {day} is before {proposition} opened ({prop['opened']})")
            source = check_text(source, "--source")
            note = check_text(note, "--note")
            previous = store.current_resolution(conn, proposition)
            if previous is not None and not force:
                raise InputError(
                    f"{proposition} is already resolved {previous['outcome']} on {previous['resolved_on']}; "
                    "use --force to record a new resolution (the earlier one stays on record)"
                )
            return store.insert_resolution(
                conn, {"proposition_id": proposition, "outcome": outcome, "resolved_on": day, "source": source, "note": note}
            )

    def retract(self, kind: str, row_id: int | str, *, reason: str) -> list[tuple[str, int]]:
        """Mark a row as no longer counting. Retracting an observation also retracts the updates it caused."""
        kind = choice(kind, "KIND", RETRACT_TARGETS)
        try:
            target_id = int(str(row_id))
        except ValueError:
            raise InputError(f"ID: {str(row_id)[:20]!r} is not a whole number") from None
        reason = check_text(reason, "--reason", required=True)
        with self.db.write() as conn:
            if store.get_row(conn, kind, target_id) is None:
                raise InputError(f"unknown {kind} id {target_id}")
            if store.retraction_of(conn, kind, target_id) is not None:
                raise InputError(f"{kind} {target_id} is already retracted")
            done = [(kind, target_id)]
            store.insert_retraction(conn, kind, target_id, reason)
            if kind == "observation":
                for update_id in store.updates_from_observation(conn, target_id):
                    store.insert_retraction(conn, "update", update_id, f"observation {target_id} retracted: {reason}")
                    done.append(("update", update_id))
        return done

    # -- tables for scripts and notebooks -------------------------------------------------------
    def history(self, proposition: str) -> list[dict[str, Any]]:
        """The prior, then every update (retracted ones marked), oldest first."""
        with self.db.read() as conn:
            prop = self._proposition(conn, proposition)
            rows = store.updates(conn, proposition)
        prior = {
            "id": None,
            "as_of": prop["opened"],
            "probability": prop["prior"],
            "method": "prior",
            "rationale": f"commentary: {prop['prior_phrase']!r}" if prop.get("prior_phrase") else "prior",
            "observation_id": None,
            "indicator": None,
            "likelihood_ratio": None,
            "forecaster": "",
            "recorded_at": prop["created_at"],
            "retracted": None,
        }
        rows.sort(key=lambda r: (r["as_of"], r["id"]))
        return [prior, *rows]

    def history_frame(self, proposition: str) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.history(proposition))

    def observations_frame(self, proposition: str | None = None) -> pd.DataFrame:
        import pandas as pd

        with self.db.read() as conn:
            return pd.DataFrame(store.observations(conn, proposition))

    def propositions_frame(self, as_of: str | None = None) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([vars(s) for s in self.standing(as_of)])

    # -- bulk ---------------------------------------------------------------------------------
    def import_csv(self, path: str | os.PathLike, *, apply: bool = False, by: str | None = None):  # noqa: ANN201
        """Import an observations, updates or resolutions CSV, all rows or none."""
        from .importing import import_file

        return import_file(self, Path(path), apply=apply, by=by)

    def export(self, what: str, fmt: str = "csv") -> str:
        from .exporting import export

        return export(self, what, fmt)

    # -- scores and reports -------------------------------------------------------------------
    def scores(self, as_of: str | None = None):  # noqa: ANN201
        from .scorecard import compute_scores

        return compute_scores(self, as_of)

    def report(
        self, months: list[str], out: str | os.PathLike = "reports", formats: tuple[str, ...] = ("md", "html"), progress=None
    ):  # noqa: ANN001, ANN201
        from .report import render_reports

        return render_reports(self, months, Path(out), formats, progress=progress)


def indicator_proposal(ind: dict[str, Any], prior: float, value: float | None) -> ProposedUpdate:
    return propose(
        prior,
        kind=ind["kind"],
        value=value,
        threshold=ind["threshold"],
        likelihood_ratio=ind["likelihood_ratio"],
        likelihood_ratio_if_not_met=ind["likelihood_ratio_if_not_met"],
    )


def indicator_update_row(
    ind: dict[str, Any], proposition: str, day: str, obs_id: int, proposal: ProposedUpdate, by: str | None
) -> dict[str, Any]:
    ratio = proposal.likelihood_ratio or 1.0
    state = "fired" if proposal.fired else "did not fire"
    return {
        "proposition_id": proposition,
        "as_of": day,
        "probability": proposal.posterior,
        "method": "indicator",
        "rationale": f"{ind['id']} {state}: likelihood ratio {ratio:g} ({decibans(ratio):+.1f} dB)",
        "observation_id": obs_id,
        "likelihood_ratio": ratio,
        "forecaster": by if by is not None else default_forecaster(),
    }
