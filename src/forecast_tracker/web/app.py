"""`serve`: the tracker in a browser, and a JSON API. Every page reads, and every form and POST
writes, through the same `Tracker` method as the command line: bad input gets the same reviewed
message (at its field, HTTP 422) and writes nothing; a form that succeeds redirects (303) to the
page it came from. The API's JSON is the command line's `--format json`, field for field."""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional, Union
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from .. import api
from ..errors import InputError, TrackerError
from ..scorecard.filters import FILTERS
from ..validate import forecaster
from .security import LOCAL_HOSTS, Auth, Sessions

MAX_BODY = 64 * 1024  # bytes: a form or a JSON body is a few hundred; anything past this is refused (413)
STATIC = Path(__file__).parent / "static"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
Scalar = Optional[Union[str, int, float]]


# -- the JSON API's request bodies (loose types: the Tracker checks each value and says what is wrong)
class ObservationIn(BaseModel):
    indicator: str
    value: Scalar = None
    date: Optional[str] = None
    source: str = ""
    note: str = ""
    apply: bool = False
    dry_run: bool = False


class ApplicationsIn(BaseModel):
    ids: list[Union[int, str]] = []
    pending: bool = False
    indicator: Optional[str] = None
    before: Optional[str] = None


class UpdateIn(BaseModel):
    proposition: str
    probability: Union[str, float]
    date: Optional[str] = None
    rationale: str = ""


class ResolutionIn(BaseModel):
    proposition: str
    outcome: str
    date: Optional[str] = None
    source: str = ""
    note: str = ""
    force: bool = False


class RetractionIn(BaseModel):
    kind: str
    id: Union[int, str]
    reason: str = ""


class AmendmentIn(BaseModel):
    id: Union[int, str]
    reason: str = ""
    date: Optional[str] = None
    value: Scalar = None
    source: Optional[str] = None
    note: Optional[str] = None


class _BodyLimit:
    """ASGI middleware: a request body longer than MAX_BODY is refused (413) before any handler reads it."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return await _too_large(send)
        seen = 0

        async def limited() -> dict:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > MAX_BODY:
                raise _TooLarge()
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(send)


class _TooLarge(Exception):
    pass


async def _too_large(send: Callable) -> None:
    await send({"type": "http.response.start", "status": 413, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": f"request body over {MAX_BODY} bytes\n".encode()})


class _Who:
    """The caller of one request: who they are, their session's nonce, and a cookie to set (a new session)."""

    def __init__(self, identity: str, nonce: str, cookie: str | None, bearer: bool = False):
        self.identity, self.nonce, self.cookie, self.bearer = identity, nonce, cookie, bearer


class _Unauthorised(Exception):
    pass


def create_app(db: str | None = None, auth: Auth | None = None, scorecards: str | Path | None = None) -> FastAPI:
    # long because every route is a closure over the app's one tracker, session key and templates
    """The web app over one database (as `--db` names it). `scorecards`: the folder the rendered
    scorecards are kept in (default: a temporary folder for the app's life)."""
    tracker = api.Tracker(db)
    auth = auth or Auth("local")
    sessions = Sessions()
    local_name = forecaster(None) if auth.mode == "local" else ""
    folder = Path(scorecards) if scorecards else Path(tempfile.mkdtemp(prefix="forecast-tracker-scorecards-"))
    lock = threading.Lock()  # one Tracker call at a time: the CLI's one-action-one-transaction, per request
    env = Environment(loader=PackageLoader("forecast_tracker.web", "templates"), autoescape=select_autoescape(default=True))
    env.filters.update(FILTERS)
    env.filters["words"] = api.shown_word
    env.filters["describe"] = api.describe
    env.filters["points"] = api.change_points

    app = FastAPI(title="forecast-tracker", version=_version(), docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json")  # fmt: skip
    app.state.tracker = tracker
    app.add_middleware(_BodyLimit)

    async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        def locked() -> Any:
            with lock:
                return fn(*args, **kwargs)

        return await run_in_threadpool(locked)

    # -- who is asking ----------------------------------------------------------------------
    def who(request: Request) -> _Who:
        if auth.mode == "local":
            if _host_name(request.headers.get("host") or "") not in LOCAL_HOSTS:  # a rebound DNS name reaching 127.0.0.1
                raise _Unauthorised("this server answers to 127.0.0.1 and localhost only")
        session = sessions.read(request.cookies.get(Sessions.COOKIE))
        if auth.mode == "tokens":
            bearer = request.headers.get("authorization", "")
            if bearer.lower().startswith("bearer "):
                name = auth.who_has(bearer[7:].strip())
                if name is None:
                    raise _Unauthorised("unknown token")
                return _Who(name, "", None, bearer=True)
            if session is None or not session[1]:
                raise _Unauthorised("sign in with your token")
            return _Who(session[1], session[0], None)
        if auth.mode == "header":
            name = (request.headers.get(auth.header) or "").strip()
            if not name:
                raise _Unauthorised(f"no {auth.header} header: this server expects its proxy to name the user")
            try:
                name = forecaster(name, "by")
            except InputError as exc:
                raise _Unauthorised(f"{auth.header}: {exc.message}") from None
        else:
            name = local_name
        if session is not None and session[1] == name:
            return _Who(name, session[0], None)
        cookie = sessions.new(name)
        fresh = sessions.read(cookie)
        assert fresh is not None
        return _Who(name, fresh[0], cookie)

    def finish(response: Response, caller: _Who | None) -> Response:
        if caller is not None and caller.cookie:
            response.set_cookie(Sessions.COOKIE, caller.cookie, httponly=True, samesite="strict", path="/")
        return response

    @app.middleware("http")
    async def headers(request: Request, call_next: Callable) -> Response:
        refused = _cross_site_json(request)  # a handler's _Unauthorised and _Forbidden have their handlers
        response = refused if refused is not None else await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(_Unauthorised)
    async def unauthorised(request: Request, exc: _Unauthorised) -> Response:
        return _unauthorised(request, str(exc), auth)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
        field = where[0] if where else None
        message = f"{first.get('msg', 'invalid')}".replace("Input should be", "should be")
        return JSONResponse({"error": f"{field}: {message}" if field else message, "field": field}, status_code=422)

    def page(name: str, caller: _Who, code: int = 200, **context: Any) -> Response:
        html = env.get_template(name).render(csrf=sessions.csrf(caller.nonce) if caller.nonce else "", who=caller.identity,
                                             auth=auth.mode, **context)  # fmt: skip
        return finish(HTMLResponse(html, status_code=code), caller)

    async def form_of(request: Request, caller: _Who) -> dict[str, Any]:
        """The posted form, once its CSRF token is checked (403 without it: nothing is written)."""
        form = await request.form()
        data: dict[str, Any] = {}
        for key, value in form.multi_items():
            if not isinstance(value, str):
                raise _Forbidden("files are not accepted")
            data.setdefault(key, []).append(value)
        token = (data.get("csrf") or [None])[0]
        if caller.bearer is False and not sessions.csrf_ok(caller.nonce, token):
            raise _Forbidden("this form has no valid CSRF token: reload the page and send it again")
        return {k: v if k == "ids" else v[-1] for k, v in data.items()}

    @app.exception_handler(_Forbidden)
    async def forbidden(request: Request, exc: _Forbidden) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": str(exc), "field": None}, status_code=403)
        return HTMLResponse(f"<!doctype html><title>403</title><p>{_escape(str(exc))}</p>", status_code=403)

    def json_write_allowed(request: Request, caller: _Who) -> None:
        """A JSON POST (its content type and origin checked by `_cross_site_json` before its body is
        read): a bearer token, or, signed in by a cookie, the session's CSRF token in X-CSRF-Token."""
        if caller.bearer:
            return
        csrf = request.headers.get("x-csrf-token")
        if auth.mode == "tokens" and not sessions.csrf_ok(caller.nonce, csrf):
            raise _Forbidden("a signed-in browser sends its X-CSRF-Token with a JSON POST")

    # -- pages ------------------------------------------------------------------------------
    async def proposition_rows(tag: str, status: str, flagged: bool) -> dict[str, Any]:
        standings = await call(tracker.standing, None, status or None, since=api.end_of_last_month())
        flags: dict[str, list[str]] = {}
        for item in await call(tracker.review) if flagged else []:
            flags.setdefault(item["proposition"], []).append(item["reason"])
        shown = [s for s in standings if not tag or tag in s.tags]
        return {"rows": shown, "flags": flags, "flagged": flagged, "tags": sorted({t for s in standings for t in s.tags}),
                "tag": tag, "status": status}  # fmt: skip

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def propositions(request: Request, tag: str = "", status: str = "") -> Response:
        """The table at once; its flags (review's rules over every proposition, the slower half) follow
        from /fragments/rows, which replaces the table's body when it arrives."""
        caller = who(request)
        return page("propositions.html.j2", caller, statuses=("open", "yes", "no", "annulled"),
                    **await proposition_rows(tag, status, flagged=False))  # fmt: skip

    @app.get("/fragments/rows", response_class=HTMLResponse, include_in_schema=False)
    async def flagged_rows(request: Request, tag: str = "", status: str = "") -> Response:
        caller = who(request)
        return page("_rows.html.j2", caller, **await proposition_rows(tag, status, flagged=True))

    async def proposition_page(
        request: Request, pid: str, caller: _Who, status: int = 200, errors: dict | None = None, typed: dict | None = None
    ) -> Response:
        shown = await call(tracker.show, pid)
        chain = await call(tracker.history, pid)
        chart = await call(tracker.chart_svg, pid)
        record = await call(tracker.resolution_record, pid)
        return page("proposition.html.j2", caller, status, p=shown, chain=chain, chart=chart, record=record,
                    errors=errors or {}, typed=typed or {}, today=api.today())  # fmt: skip

    @app.get("/propositions/{pid}", response_class=HTMLResponse, include_in_schema=False)
    async def proposition(request: Request, pid: str) -> Response:
        caller = who(request)
        try:
            return await proposition_page(request, pid, caller)
        except InputError as exc:
            return page("error.html.j2", caller, 404, message=exc.message)

    async def form_action(
        request: Request, pid: str, form_name: str, action: Callable[[dict, _Who], Any], back: str | None = None
    ) -> Response:
        """Run a form's Tracker call: 303 to `back` (default the proposition) on success; on bad input
        the page again with the message at the field (422), nothing written."""
        caller = who(request)
        data = await form_of(request, caller)
        try:
            await call(action, data, caller)
        except InputError as exc:
            errors = {form_name: {exc.field or "_": exc.message}}
            if not pid:
                return page("error.html.j2", caller, 422, message=exc.message)
            try:
                return await proposition_page(request, pid, caller, 422, errors, {form_name: data})
            except InputError:
                return page("error.html.j2", caller, 422, message=exc.message)
        return finish(RedirectResponse(back or f"/propositions/{quote(pid)}", status_code=303), caller)

    def _flag(data: dict, name: str) -> bool:
        return str(data.get(name, "")).lower() in ("1", "on", "true", "yes")

    def _opt(data: dict, name: str) -> str | None:
        value = data.get(name)
        return None if value is None or str(value) == "" else str(value)

    @app.post("/propositions/{pid}/observe", include_in_schema=False)
    async def observe_form(request: Request, pid: str) -> Response:
        def act(d: dict, c: _Who) -> Any:
            return tracker.observe(str(d.get("indicator", "")), value=_opt(d, "value"), date=_opt(d, "date"),
                                   source=str(d.get("source", "")), note=str(d.get("note", "")), apply=_flag(d, "apply"),
                                   by=c.identity)  # fmt: skip

        return await form_action(request, pid, "observe", act)

    @app.post("/propositions/{pid}/observe/preview", response_class=HTMLResponse, include_in_schema=False)
    async def observe_preview(request: Request, pid: str) -> Response:
        caller = who(request)
        d = await form_of(request, caller)
        try:
            r = await call(tracker.observe, str(d.get("indicator", "")), value=_opt(d, "value"), date=_opt(d, "date"),
                           source=str(d.get("source", "")), note=str(d.get("note", "")), apply=_flag(d, "apply"),
                           by=caller.identity, dry_run=True)  # fmt: skip
        except InputError as exc:
            return page("_preview.html.j2", caller, error=exc.message, field=exc.field)
        return page("_preview.html.j2", caller, r=r)

    @app.post("/propositions/{pid}/update", include_in_schema=False)
    async def update_form(request: Request, pid: str) -> Response:
        def act(d: dict, c: _Who) -> Any:
            return tracker.update(pid, str(d.get("probability", "")), date=_opt(d, "date"), rationale=str(d.get("rationale", "")),
                                  by=c.identity, require_rationale=True)  # fmt: skip

        return await form_action(request, pid, "update", act)

    @app.post("/propositions/{pid}/resolve", include_in_schema=False)
    async def resolve_form(request: Request, pid: str) -> Response:
        def act(d: dict, c: _Who) -> Any:
            return tracker.resolve(pid, str(d.get("outcome", "")), date=_opt(d, "date"), source=str(d.get("source", "")),
                                   note=str(d.get("note", "")), force=_flag(d, "force"), require_source=True)  # fmt: skip

        return await form_action(request, pid, "resolve", act)

    @app.post("/propositions/{pid}/retract", include_in_schema=False)
    async def retract_form(request: Request, pid: str) -> Response:
        def act(d: dict, c: _Who) -> Any:
            return tracker.retract(str(d.get("kind", "")), str(d.get("id", "")), reason=str(d.get("reason", "")))

        return await form_action(request, pid, "retract", act)

    @app.post("/propositions/{pid}/amend", include_in_schema=False)
    async def amend_form(request: Request, pid: str) -> Response:
        def act(d: dict, c: _Who) -> Any:
            return tracker.amend(str(d.get("id", "")), reason=str(d.get("reason", "")), date=_opt(d, "date"),
                                 value=_opt(d, "value"), source=_opt(d, "source"), note=_opt(d, "note"),
                                 by=c.identity)  # fmt: skip

        return await form_action(request, pid, "amend", act)

    @app.post("/apply", include_in_schema=False)
    async def apply_form(request: Request) -> Response:
        def act(d: dict, c: _Who) -> Any:
            return tracker.apply_many(list(d.get("ids") or []), by=c.identity)

        return await form_action(request, "", "apply", act, back=_back(request))

    @app.get("/review", response_class=HTMLResponse, include_in_schema=False)
    async def review_page(request: Request) -> Response:
        caller = who(request)
        return page("review.html.j2", caller, items=await call(tracker.review))

    @app.get("/forecasters", response_class=HTMLResponse, include_in_schema=False)
    async def forecasters_page(request: Request) -> Response:
        caller = who(request)
        scores = (await call(tracker.scores)).as_json()
        return page("forecasters.html.j2", caller, rows=scores.get("forecasters", []), summary=scores.get("summary", {}))

    @app.get("/scorecards", response_class=HTMLResponse, include_in_schema=False)
    async def scorecards_page(request: Request) -> Response:
        caller = who(request)
        return page("scorecards.html.j2", caller, months=list(reversed(await call(tracker.months))))

    @app.get("/scorecards/{name:path}", include_in_schema=False)
    async def scorecard_file(request: Request, name: str) -> Response:
        """A rendered file: a month's page (rendered on request, the bytes `report` writes), a
        proposition's page or the index (rendered with the current month when missing)."""
        caller = who(request)
        target = (folder / name).resolve()
        if folder.resolve() not in target.parents or target.suffix not in (".html", ".svg"):
            return page("error.html.j2", caller, 404, message="no such scorecard file")
        month = name.removesuffix(".html")
        try:
            if "/" not in name and name.endswith(".html") and name != "index.html":
                await call(tracker.report, api.parse_month(month, "month"), folder, ("html",))
            elif not target.exists():
                await call(tracker.report, api.today()[:7], folder, ("html",))
        except InputError as exc:
            return page("error.html.j2", caller, 404, message=exc.message)
        if not target.exists():
            return page("error.html.j2", caller, 404, message="no such scorecard file")
        return finish(FileResponse(target), caller)

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        target = STATIC / name
        if "/" in name or name.startswith(".") or not target.is_file():
            return Response("not found\n", status_code=404, media_type="text/plain")
        response = FileResponse(target)
        response.headers["Cache-Control"] = "max-age=3600"
        return response

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    async def login_page(request: Request) -> Response:
        caller = _Who("", *_anonymous(sessions, request))
        return page("login.html.j2", caller, error="")

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        caller = _Who("", *_anonymous(sessions, request))
        data = await form_of(request, caller)
        name = auth.who_has(str(data.get("token", ""))) if auth.mode == "tokens" else None
        if name is None:
            return page("login.html.j2", caller, 401, error="unknown token")
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(Sessions.COOKIE, sessions.new(name), httponly=True, samesite="strict", path="/")
        return response

    @app.get("/api/docs", response_class=HTMLResponse, include_in_schema=False)
    async def api_docs(request: Request) -> Response:
        caller = who(request)
        return page("api.html.j2", caller, schema=app.openapi())

    # -- the JSON API -----------------------------------------------------------------------
    async def answer(request: Request, fn: Callable[..., Any], *args: Any, status: int = 200, **kwargs: Any) -> Response:
        try:
            result = await call(fn, *args, **kwargs)
        except InputError as exc:
            code = 404 if request.method == "GET" and exc.message.startswith("unknown ") else 422
            return JSONResponse({"error": exc.message, "field": exc.field}, status_code=code)
        except TrackerError as exc:
            return JSONResponse({"error": str(exc), "field": None}, status_code=409)
        body = json.dumps(result, indent=2, ensure_ascii=False, default=str)
        return Response(body, status_code=status, media_type="application/json")

    @app.get("/api/propositions", summary="Every proposition's standing probability (list --format json)")
    async def api_propositions(
        request: Request, as_of: Optional[str] = None, status: Optional[str] = None, since: Optional[str] = None,
        by: Optional[str] = None, pool: Optional[str] = None,
    ) -> Response:  # fmt: skip
        who(request)

        def rows() -> list[dict[str, Any]]:
            return api.standing_rows(tracker.standing(as_of, status, by=by, since=since or api.end_of_last_month(as_of),
                                                      pool=pool))  # fmt: skip

        return await answer(request, rows)

    @app.get("/api/propositions/{pid}", summary="One proposition (show --format json)")
    async def api_proposition(request: Request, pid: str, as_of: Optional[str] = None, by: Optional[str] = None,
                              pool: Optional[str] = None) -> Response:  # fmt: skip
        who(request)
        return await answer(request, tracker.show, pid, as_of, by=by, pool=pool)

    @app.get("/api/propositions/{pid}/history", summary="The chain behind its probability (history --format json)")
    async def api_history(request: Request, pid: str, as_of: Optional[str] = None, by: Optional[str] = None,
                          pool: Optional[str] = None) -> Response:  # fmt: skip
        who(request)
        return await answer(request, tracker.history, pid, as_of, by=by, pool=pool)

    @app.get("/api/review", summary="What needs a look (review --format json)")
    async def api_review(request: Request, as_of: Optional[str] = None) -> Response:
        who(request)
        return await answer(request, tracker.review, as_of)

    @app.get("/api/score", summary="Scores (score --format json)")
    async def api_score(request: Request, as_of: Optional[str] = None, by: Optional[str] = None,
                        pool: Optional[str] = None) -> Response:  # fmt: skip
        who(request)
        return await answer(request, lambda: tracker.scores(as_of, by=by, pool=pool).as_json())

    @app.post("/api/observations", status_code=201, summary="Log an observation (observe); dry_run writes nothing")
    async def api_observe(request: Request, body: ObservationIn) -> Response:
        caller = who(request)
        json_write_allowed(request, caller)

        def act() -> dict[str, Any]:
            r = tracker.observe(body.indicator, value=body.value, date=body.date, source=body.source, note=body.note,
                                apply=body.apply, by=caller.identity, dry_run=body.dry_run)  # fmt: skip
            return _effect_json(r)

        return await answer(request, act, status=200 if body.dry_run else 201)

    @app.post("/api/applications", status_code=201, summary="Apply stored observations (apply IDS, or apply --pending)")
    async def api_apply(request: Request, body: ApplicationsIn) -> Response:
        caller = who(request)
        json_write_allowed(request, caller)

        def act() -> dict[str, Any]:
            if body.pending:
                if body.ids:
                    raise InputError("give observation ids or pending, not both", "ids")
                done, left = tracker.apply_pending(indicator=body.indicator, before=body.before, by=caller.identity)
                return {"applied": [_effect_json(r) for r in done], "left": left}
            return {"applied": [_effect_json(r) for r in tracker.apply_many(body.ids, by=caller.identity)], "left": []}

        return await answer(request, act, status=201)

    @app.post("/api/updates", status_code=201, summary="Record your probability (update); rationale required")
    async def api_update(request: Request, body: UpdateIn) -> Response:
        caller = who(request)
        json_write_allowed(request, caller)

        def act() -> dict[str, Any]:
            update_id, before, after = tracker.update(body.proposition, body.probability, date=body.date,
                                                      rationale=body.rationale, by=caller.identity,
                                                      require_rationale=True)  # fmt: skip
            return {"id": update_id, "proposition": body.proposition, "before": before, "probability": after,
                    "forecaster": caller.identity}  # fmt: skip

        return await answer(request, act, status=201)

    @app.post("/api/resolutions", status_code=201, summary="Record an outcome (resolve); source required")
    async def api_resolve(request: Request, body: ResolutionIn) -> Response:
        caller = who(request)
        json_write_allowed(request, caller)

        def act() -> dict[str, Any]:
            rid = tracker.resolve(body.proposition, body.outcome, date=body.date, source=body.source, note=body.note,
                                  force=body.force, require_source=True)  # fmt: skip
            return {"id": rid, "proposition": body.proposition, "outcome": body.outcome.strip().lower(),
                    "score": tracker.proposition_score(body.proposition, max(api.today(), body.date or ""))}  # fmt: skip

        return await answer(request, act, status=201)

    @app.post("/api/retractions", status_code=201, summary="Retract a row (retract)")
    async def api_retract(request: Request, body: RetractionIn) -> Response:
        caller = who(request)
        json_write_allowed(request, caller)
        return await answer(request, lambda: [{"kind": k, "id": i} for k, i in tracker.retract(body.kind, body.id,
                                                                                              reason=body.reason)],
                            status=201)  # fmt: skip

    @app.post("/api/amendments", status_code=201, summary="Correct an observation (amend observation)")
    async def api_amend(request: Request, body: AmendmentIn) -> Response:
        caller = who(request)
        json_write_allowed(request, caller)
        return await answer(request, lambda: _effect_json(tracker.amend(
            body.id, reason=body.reason, date=body.date, value=body.value, source=body.source, note=body.note,
            by=caller.identity)), status=201)  # fmt: skip

    return app


class _Forbidden(Exception):
    pass


def _cross_site_json(request: Request) -> Response | None:
    """A POST to the API must be application/json from this origin, unless it carries a bearer token:
    a page elsewhere cannot send JSON without a CORS preflight, which this server never grants, and
    a form elsewhere can send only form or text bodies. Checked before anything reads the body."""
    if request.method != "POST" or not request.url.path.startswith("/api/"):
        return None
    if (request.headers.get("authorization") or "").lower().startswith("bearer "):
        return None
    kind = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if kind != "application/json":
        return JSONResponse({"error": "send the body as application/json", "field": None}, status_code=403)
    origin = request.headers.get("origin")
    if origin is not None and origin.split("://", 1)[-1] != request.headers.get("host", ""):
        return JSONResponse({"error": "a request from another origin", "field": None}, status_code=403)
    return None


def _host_name(host: str) -> str:
    """The name in a Host header, without its port: `[::1]:8000` -> `::1`, `localhost:8000` -> `localhost`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _back(request: Request) -> str:
    """Where a form's success returns: a proposition page it came from, else the review queue (never
    another site: only our own paths, read from the Referer)."""
    referer = request.headers.get("referer") or ""
    path = "/" + referer.split("://", 1)[-1].partition("/")[2] if "://" in referer else ""
    if path.startswith("/propositions/") and "//" not in path and "\\" not in path:
        return path.split("?", 1)[0].split("#", 1)[0]
    return "/review"


def _anonymous(sessions: Sessions, request: Request) -> tuple[str, str | None]:
    """(nonce, cookie to set) of a session with no identity yet: the sign-in form's own CSRF."""
    session = sessions.read(request.cookies.get(Sessions.COOKIE))
    if session is not None:
        return session[0], None
    cookie = sessions.new("")
    read = sessions.read(cookie)
    assert read is not None
    return read[0], cookie


def _unauthorised(request: Request, message: str, auth: Auth) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message, "field": None}, status_code=401)
    if auth.mode == "tokens":
        return RedirectResponse("/login", status_code=303)
    return HTMLResponse(f"<!doctype html><title>401</title><p>{_escape(message)}</p>", status_code=401)


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def _effect_json(r: api.ObserveResult) -> dict[str, Any]:
    """What an observation does, as `observe` prints it, in JSON."""
    link = r.link
    return {
        "observation_id": r.observation_id, "indicator": r.indicator, "proposition": r.proposition,
        "observed_on": r.observed_on, "applied": r.applied, "dry_run": r.dry_run, "fired": r.fired, "context": r.context,
        "before": None if link is None else link.before, "after": None if link is None else link.after,
        "likelihood_ratio": None if link is None else link.likelihood_ratio,
        "counted_ratio": None if link is None else link.counted_ratio,
    }  # fmt: skip


def _version() -> str:
    from forecast_tracker import __version__

    return __version__


ENV_AUTH = "FORECAST_TRACKER_SERVE_AUTH"


def from_environment() -> FastAPI:
    """The app as `serve` starts it (uvicorn's factory, so `--reload` can start it again): the
    database from FORECAST_TRACKER_DB and the auth mode from FORECAST_TRACKER_SERVE_AUTH."""
    import gc
    import os

    from .security import parse_auth

    app = create_app(os.environ.get("FORECAST_TRACKER_DB"), parse_auth(os.environ.get(ENV_AUTH)))
    gc.freeze()  # what lives as long as the server (modules, templates, the engine) leaves the full collections
    return app


def serve(
    db: str | None, host: str, port: int, auth_spec: str | None, reload: bool = False, announce: Callable[[str], None] = print
) -> None:
    """Check everything `serve` was given (the database opens, the auth mode reads, the address is
    allowed), then run the app with uvicorn until interrupted."""
    import os

    import uvicorn

    from .security import parse_auth, public_host_refused

    auth = parse_auth(auth_spec)
    refused = public_host_refused(host, auth)
    if refused:
        raise InputError(refused, "host")
    if not 0 < port < 65536:
        raise InputError(f"{port} is not a port (1-65535)", "port")
    api.Tracker(db).close()  # a missing or newer database is refused here, with its one line
    if db is not None:
        os.environ["FORECAST_TRACKER_DB"] = db
    if auth_spec:
        os.environ[ENV_AUTH] = auth_spec
    announce(f"serving {db or 'the default database'} on http://{host}:{port}/ ({auth.mode} auth; Ctrl-C stops it)")
    uvicorn.run("forecast_tracker.web.app:from_environment", factory=True, host=host, port=port, reload=reload,
                log_level="info", server_header=False)  # fmt: skip
