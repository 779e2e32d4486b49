"""`serve`: every page and API route by status and content, the forms' bad input against the CLI's own
messages, CSRF, the auth modes, the limits, and the API's JSON against the CLI's for the same database."""

from __future__ import annotations

import html
import json
import re
import threading
from pathlib import Path

import pytest

from conftest import snapshot

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from forecast_tracker.api import Tracker  # noqa: E402
from forecast_tracker.web.app import MAX_BODY, create_app  # noqa: E402
from forecast_tracker.web.security import Auth, Sessions, new_token, parse_auth, public_host_refused, read_tokens  # noqa: E402

P = "widget-launch"
AFTER = 0.675 * 3 / (0.675 * 3 + 0.325)  # "likely" (0.675) after the factory's ratio of 3: 0.8617


def client_for(database, auth: Auth | None = None) -> TestClient:
    return TestClient(create_app(str(database), auth), base_url="http://127.0.0.1:8000", follow_redirects=False)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def field_errors(page: str) -> dict[str, str]:
    return {m.group(1): html.unescape(m.group(2)) for m in re.finditer(r'data-field="([^"]*)">(.*?)</', page, re.S)}


@pytest.fixture
def web(anydb):
    return client_for(anydb)


def post_form(client: TestClient, path: str, data: dict, page: str = f"/propositions/{P}") -> object:
    token = csrf_of(client.get(page).text)
    return client.post(path, data={**data, "csrf": token})


# -- pages ------------------------------------------------------------------------------------
def test_every_page_answers_with_its_content(web):
    home = web.get("/")
    assert home.status_code == 200
    assert "Will the widget go on sale by 2026-06-30?" in home.text and "gadget-ban" in home.text
    assert f'href="/propositions/{P}"' in home.text and "0.68 (likely)" in home.text
    rows = web.get("/fragments/rows")  # the table's body again, with review's flags (htmx swaps it in)
    assert rows.status_code == 200 and 'data-flagged="1"' in rows.text
    assert re.search(r'id="row-widget-launch">.*?<span class="flag">overdue</span>', rows.text, re.S)
    assert web.get("/fragments/rows?tag=widgets").text.count('id="row-') == 1
    assert web.get("/?tag=widgets").text.count('id="row-') == 1
    assert web.get("/?status=yes").text.count('id="row-') == 0
    page = web.get(f"/propositions/{P}")
    assert page.status_code == 200
    for text in ("YES if the widget is on sale", "The chain", "prior", "widget-factory-built", "<svg", 'id="observe"'):
        assert text in page.text, text
    assert web.get("/review").status_code == 200 and 'id="review"' in web.get("/review").text
    assert web.get("/forecasters").status_code == 200
    months = web.get("/scorecards")
    assert months.status_code == 200 and 'href="/scorecards/2025-01.html"' in months.text
    docs = web.get("/api/docs")
    assert docs.status_code == 200 and "/api/propositions/{pid}/history" in docs.text and "/api/observations" in docs.text
    schema = web.get("/api/openapi.json").json()
    assert {"/api/propositions", "/api/review", "/api/score", "/api/updates", "/api/resolutions"} <= set(schema["paths"])
    js = web.get("/static/htmx.min.js")
    assert js.status_code == 200 and "htmx" in js.text[:2000]
    assert web.get("/static/../app.py").status_code == 404 and web.get("/static/nope.js").status_code == 404
    assert web.get("/propositions/no-such").status_code == 404
    assert web.get("/api/propositions/no-such").json()["error"].startswith("unknown")
    assert web.get("/scorecards/../../etc/passwd").status_code == 404


def test_pages_carry_a_csp_without_inline_script(web):
    response = web.get("/")
    csp = response.headers["content-security-policy"]
    script = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert "'self'" in script and "unsafe-inline" not in script and "unsafe-eval" not in script
    assert response.headers["x-frame-options"] == "DENY"
    for page in ("/", f"/propositions/{P}", "/review"):
        body = web.get(page).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", body), page  # every script is a file of ours
        assert not re.search(r'(src|href)="https?://', body), page  # nothing fetched from elsewhere


def test_a_month_page_is_the_bytes_report_writes(anydb, tmp_path):
    client = client_for(anydb)
    Tracker(anydb if isinstance(anydb, Path) else str(anydb)).observe(
        "widget-factory-built", date="2025-03-02", source="s", note="ground broken", apply=True
    )
    served = client.get("/scorecards/2025-03.html")
    assert served.status_code == 200
    with Tracker(str(anydb)) as t:
        t.report(["2025-03"], tmp_path / "r", ("html",))
    assert served.content == (tmp_path / "r" / "2025-03.html").read_bytes()
    assert client.get(f"/scorecards/propositions/{P}.html").status_code == 200
    assert client.get("/scorecards/2999-01.html").status_code == 404


# -- the API is the CLI's JSON ----------------------------------------------------------------
def test_api_json_equals_the_cli_json(anydb, cli):
    cli("observe", "widget-factory-built", "--date", "2025-03-02", "--source", "s", "--apply")
    cli("observe", "widget-orders", "--value", "1200", "--date", "2025-03-05", "--source", "s")
    cli("update", "--new-forecaster", "gadget-ban", "0.3", "--date", "2025-02-01", "--rationale", "a bill", "--by", "ana")
    cli("resolve", "gadget-ban", "no", "--date", "2025-06-01", "--source", "gazette")
    web = client_for(anydb)
    pairs = [
        ("/api/propositions?as_of=2025-04-01", ("list", "--as-of", "2025-04-01", "--format", "json")),
        ("/api/propositions", ("list", "--format", "json")),
        (f"/api/propositions/{P}?as_of=2025-04-01", ("show", P, "--as-of", "2025-04-01", "--format", "json")),
        (f"/api/propositions/{P}/history", ("history", P, "--format", "json")),
        ("/api/propositions/gadget-ban?by=ana", ("show", "gadget-ban", "--by", "ana", "--format", "json")),
        ("/api/review?as_of=2025-04-01", ("review", "--as-of", "2025-04-01", "--format", "json")),
        ("/api/score?as_of=2025-07-01", ("score", "--as-of", "2025-07-01", "--format", "json")),
    ]
    for path, command in pairs:
        response = web.get(path)
        assert response.status_code == 200, (path, response.text)
        result = cli(*command)
        assert result.code == 0, result.err
        assert response.json() == result.json, path
    assert any(item["observation_id"] for item in web.get("/api/review?as_of=2025-04-01").json())


def test_api_writes_and_refuses_as_the_cli_does(anydb):
    web = client_for(anydb)
    made = web.post("/api/observations", json={"indicator": "widget-factory-built", "date": "2025-03-02", "source": "s",
                                               "apply": True})  # fmt: skip
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["applied"] and body["before"] == pytest.approx(0.675) and body["after"] == pytest.approx(AFTER)
    before = snapshot(anydb)
    bad = web.post("/api/observations", json={"indicator": "widget-factory-built", "date": "31/12/2025", "source": "s"})
    assert bad.status_code == 422 and bad.json()["field"] == "date" and "YYYY-MM-DD" in bad.json()["error"]
    wrong_type = web.post("/api/observations", json={"indicator": "widget-factory-built", "date": [1], "source": "s"})
    assert wrong_type.status_code == 422 and wrong_type.json()["field"] == "date"
    plain = web.post("/api/updates", content=json.dumps({"proposition": P, "probability": 0.5, "rationale": "r"}),
                     headers={"content-type": "text/plain"})  # fmt: skip
    assert plain.status_code == 403  # a page elsewhere could send text/plain without asking first
    other = web.post("/api/updates", json={"proposition": P, "probability": 0.5, "rationale": "r"},
                     headers={"origin": "http://evil.example"})  # fmt: skip
    assert other.status_code == 403
    no_reason = web.post("/api/updates", json={"proposition": P, "probability": 0.5})
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "rationale"
    no_source = web.post("/api/resolutions", json={"proposition": P, "outcome": "yes", "date": "2025-04-01"})
    assert no_source.status_code == 422 and no_source.json()["field"] == "source"
    assert snapshot(anydb) == before
    preview = web.post("/api/observations", json={"indicator": "widget-recall", "date": "2025-03-03", "source": "s",
                                                  "dry_run": True, "apply": True})  # fmt: skip
    assert preview.status_code == 200 and preview.json()["dry_run"] and preview.json()["observation_id"] == 0
    assert snapshot(anydb) == before
    update = web.post("/api/updates", json={"proposition": P, "probability": "60%", "date": "2025-04-01", "rationale": "r"})
    assert update.status_code == 201 and update.json()["forecaster"] == "tester"
    resolved = web.post("/api/resolutions", json={"proposition": P, "outcome": "yes", "date": "2025-05-01", "source": "s"})
    assert resolved.status_code == 201 and resolved.json()["score"]["outcome"] == "yes"


# -- forms ------------------------------------------------------------------------------------
def probability_on(page: str) -> float:
    found = re.search(r'id="probability" data-probability="([0-9.]+)"', page)
    assert found
    return float(found.group(1))


def test_an_observation_form_saves_applies_and_moves_the_probability(anydb):
    web = client_for(anydb)
    assert probability_on(web.get(f"/propositions/{P}").text) == pytest.approx(0.675)
    done = post_form(web, f"/propositions/{P}/observe", {"indicator": "widget-factory-built", "date": "2025-03-02",
                                                          "source": "s", "note": "ground broken", "apply": "1"})  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == f"/propositions/{P}"
    assert probability_on(web.get(f"/propositions/{P}").text) == pytest.approx(AFTER)


def test_the_preview_shows_the_effect_and_writes_nothing(anydb):
    web = client_for(anydb)
    before = snapshot(anydb)
    shown = post_form(web, f"/propositions/{P}/observe/preview", {"indicator": "widget-factory-built", "date": "2025-03-02",
                                                                  "source": "s", "apply": "1"})  # fmt: skip
    assert shown.status_code == 200 and "0.68 (likely) &rarr; 0.86 (very likely)" in shown.text
    bad = post_form(web, f"/propositions/{P}/observe/preview", {"indicator": "widget-factory-built", "date": "nope", "source": "s"})
    assert 'data-field="date"' in bad.text
    assert snapshot(anydb) == before


def test_update_resolve_retract_and_amend_forms(anydb):
    web = client_for(anydb)
    assert post_form(web, f"/propositions/{P}/update", {"probability": "0.6", "date": "2025-02-01", "rationale": "slow"}).status_code == 303
    obs = Tracker(str(anydb)).observe("widget-factory-built", date="2025-03-02", source="s", apply=True).observation_id
    amended = post_form(web, f"/propositions/{P}/amend", {"id": str(obs), "date": "2025-03-04", "reason": "misdated"})
    assert amended.status_code == 303
    page = web.get(f"/propositions/{P}").text
    assert "amended: misdated" in page and "2025-03-04" in page
    with Tracker(str(anydb)) as t:
        assert [o["observed_on"] for o in t.show(P)["observations"] if not o["retracted"]] == ["2025-03-04"]
        update_id = t.history(P)[1]["id"]
    assert post_form(web, f"/propositions/{P}/retract", {"kind": "update", "id": str(update_id), "reason": "typo"}).status_code == 303
    assert post_form(web, f"/propositions/{P}/resolve", {"outcome": "yes", "date": "2025-05-01", "source": "s"}).status_code == 303
    assert "final forecast" in web.get(f"/propositions/{P}").text


def test_apply_form_applies_ticked_observations_in_one_transaction(anydb):
    web = client_for(anydb)
    with Tracker(str(anydb)) as t:
        a = t.observe("widget-factory-built", date="2025-03-02", source="s").observation_id
        b = t.observe("widget-recall", date="2025-03-03", source="s").observation_id
    before = snapshot(anydb)
    token = csrf_of(web.get("/review").text)
    refused = web.post("/apply", data={"ids": [str(a), "999"], "csrf": token})
    assert refused.status_code == 422 and "unknown observation id 999" in html.unescape(refused.text)
    assert snapshot(anydb) == before
    done = web.post("/apply", data={"ids": [str(a), str(b)], "csrf": token})
    assert done.status_code == 303 and done.headers["location"] == "/review"
    with Tracker(str(anydb)) as t:
        assert all(o["applied_by"] == "tester" for o in t.show(P)["observations"])


def test_user_text_is_shown_as_text(anydb):
    web = client_for(anydb)
    note = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    post_form(web, f"/propositions/{P}/observe", {"indicator": "widget-factory-built", "date": "2025-03-02", "source": "s", "note": note})
    page = web.get(f"/propositions/{P}").text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


# The CLI's bad-input cases that a form can express: the form shows the CLI's message at its field.
FORM_OF = {
    "observe": (f"/propositions/{P}/observe", {"--value": "value", "--date": "date", "--source": "source", "--note": "note"}),
    "update": (f"/propositions/{P}/update", {"--date": "date", "--rationale": "rationale"}),
    "resolve": (f"/propositions/{P}/resolve", {"--date": "date", "--source": "source", "--note": "note"}),
    "retract": (f"/propositions/{P}/retract", {"--reason": "reason"}),
}


def form_cases() -> list[tuple]:
    from test_bad_input import CASES

    found = []
    for case in CASES:
        command, args = case[0], list(case[1:])
        if command not in FORM_OF or "--by" in args or "--dry-run" in args or "--no-source" in args or "--no-rationale" in args:
            continue
        if command in ("update", "resolve") and (not args or args[0] != P):
            continue
        found.append(case)
    return found


def as_form(case: tuple) -> tuple[str, dict]:
    command, args = case[0], list(case[1:])
    path, flags = FORM_OF[command]
    data: dict[str, str] = {}
    positional = {"observe": ["indicator"], "update": ["_p", "probability"], "resolve": ["_p", "outcome"],
                  "retract": ["kind", "id"]}[command]  # fmt: skip
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("--apply", "--force"):
            data[a[2:]] = "1"
            i += 1
        elif a in flags:
            data[flags[a]] = args[i + 1]
            i += 2
        elif a.startswith("--") and a != "--no-such-option":
            raise AssertionError(f"unmapped flag {a}")
        elif a == "--no-such-option":
            i += 1
        else:
            data[positional.pop(0)] = a
            i += 1
    data.pop("_p", None)
    return path, data


def one_line(text: str) -> str:
    from forecast_tracker.cli import _printable

    return " ".join(_printable(text).split())[:300]


@pytest.mark.parametrize("case", form_cases(), ids=lambda c: " ".join(map(str, c))[:80])
def test_a_forms_bad_input_gets_the_clis_message_at_its_field(db, cli, case):
    path, data = as_form(case)
    web = client_for(db)
    token = csrf_of(web.get(f"/propositions/{P}").text)
    before = snapshot(db)
    result = cli(*case)
    assert result.code == 2 and snapshot(db) == before
    expected = one_line(result.err.removeprefix("error: "))
    response = web.post(path, data={**data, "csrf": token})
    assert response.status_code == 422, response.text[:300]
    errors = field_errors(response.text)
    assert errors, response.text[:500]
    assert snapshot(db) == before
    if "(see --help)" in result.err:
        return  # a usage error of the command line (a missing argument): the form still refuses, at a field
    (field, shown), *_ = errors.items()
    from forecast_tracker.cli import FLAGS

    label = FLAGS.get(field, field)  # the CLI names the field as its flag or argument; the form shows it at the field
    message = expected.split(": ", 1)[1] if expected.startswith(label + ":") else expected
    assert one_line(shown) == message[: len(one_line(shown))] and len(one_line(shown)) >= min(len(message), 250)
    assert snapshot(db) == before


def test_form_cases_cover_every_form():
    assert {case[0] for case in form_cases()} == set(FORM_OF)
    assert len(form_cases()) >= 20


# -- CSRF, auth and limits --------------------------------------------------------------------
def test_a_form_without_its_token_is_refused_and_writes_nothing(anydb):
    web = client_for(anydb)
    web.get("/")  # a session
    before = snapshot(anydb)
    data = {"indicator": "widget-factory-built", "date": "2025-03-02", "source": "s"}
    assert web.post(f"/propositions/{P}/observe", data=data).status_code == 403
    assert web.post(f"/propositions/{P}/observe", data={**data, "csrf": "0" * 64}).status_code == 403
    other = client_for(anydb)  # another session's token is not this one's
    stolen = csrf_of(other.get(f"/propositions/{P}").text)
    assert web.post(f"/propositions/{P}/observe", data={**data, "csrf": stolen}).status_code in (403,)
    assert snapshot(anydb) == before


def test_a_rebound_host_name_is_refused(db):
    web = client_for(db)
    assert web.get("/", headers={"host": "attacker.example:8000"}).status_code == 401
    assert web.get("/", headers={"host": "localhost:8000"}).status_code == 200
    assert web.get("/", headers={"host": "[::1]:8000"}).status_code == 200
    assert web.get("/", headers={"host": "127.0.0.1.attacker.example"}).status_code == 401
    assert web.get("/", headers={"host": "testserver"}).status_code == 401  # no name a test client uses is let in


def test_header_auth_names_the_forecaster(anydb):
    web = client_for(anydb, parse_auth("header:X-Forwarded-User"))
    assert web.get("/").status_code == 401
    assert web.get("/api/propositions").status_code == 401
    web.headers["X-Forwarded-User"] = "carol"
    page = web.get(f"/propositions/{P}")
    assert page.status_code == 200 and "signed in as carol" in page.text
    done = web.post(f"/propositions/{P}/update", data={"probability": "0.4", "date": "2025-02-01", "rationale": "r",
                                                       "by": "mallory", "csrf": csrf_of(page.text)})  # fmt: skip
    assert done.status_code == 303
    with Tracker(str(anydb)) as t:
        assert t.forecasters() == ["carol"]
    web.headers["X-Forwarded-User"] = "dave"  # another user behind the same browser: carol's token is not dave's
    assert web.post(f"/propositions/{P}/update", data={"probability": "0.5", "rationale": "r",
                                                       "csrf": csrf_of(page.text)}).status_code == 403  # fmt: skip


def test_token_auth_hashes_tokens_and_names_the_forecaster(anydb, tmp_path):
    tokens = tmp_path / "tokens"
    ana = new_token(tokens, "ana")
    new_token(tokens, "bo")
    assert ana not in tokens.read_text() and len(read_tokens(tokens)) == 2
    assert oct(tokens.stat().st_mode & 0o777) == "0o600"
    web = client_for(anydb, parse_auth(f"tokens:{tokens}"))
    assert web.get("/api/propositions").status_code == 401
    assert web.get("/api/propositions", headers={"authorization": "Bearer wrong"}).status_code == 401
    assert web.get("/").status_code == 303 and web.get("/").headers["location"] == "/login"
    made = web.post("/api/updates", json={"proposition": P, "probability": 0.4, "date": "2025-02-01", "rationale": "r"},
                    headers={"authorization": f"Bearer {ana}"})  # fmt: skip
    assert made.status_code == 201 and made.json()["forecaster"] == "ana"
    login = web.get("/login")
    assert web.post("/login", data={"token": "wrong", "csrf": csrf_of(login.text)}).status_code == 401
    signed = web.post("/login", data={"token": ana, "csrf": csrf_of(login.text)})
    assert signed.status_code == 303
    assert "signed in as ana" in web.get("/").text


def test_auth_specs_and_the_public_address_rule(tmp_path):
    from forecast_tracker.errors import InputError

    for bad in ("header:", "header:X User", "tokens:", "kerberos:x", f"tokens:{tmp_path / 'missing'}"):
        with pytest.raises(InputError):
            parse_auth(bad)
    (tmp_path / "plain").write_text("ana secret-in-clear\n")
    with pytest.raises(InputError, match="NAME sha256:HEX"):
        parse_auth(f"tokens:{tmp_path / 'plain'}")
    assert public_host_refused("0.0.0.0", Auth("local")) and public_host_refused("192.168.1.4", Auth("local"))
    assert public_host_refused("127.0.0.1", Auth("local")) is None and public_host_refused("localhost", Auth("local")) is None
    assert public_host_refused("0.0.0.0", parse_auth("header:X-Forwarded-User")) is None
    s = Sessions()
    cookie = s.new("ana")
    nonce, who = s.read(cookie)
    assert who == "ana" and s.csrf_ok(nonce, s.csrf(nonce)) and not s.csrf_ok(nonce, "")
    forged = cookie.rsplit(".", 1)[0] + "." + "0" * 64
    assert s.read(forged) is None and Sessions().read(cookie) is None  # another server's key


def test_serve_refuses_a_public_address_without_auth(db, cli):
    result = cli("serve", "--host", "0.0.0.0")
    assert result.code == 2 and "--host" in result.err and "--auth" in result.err and result.out == ""
    assert cli("serve", "--port", "70000").code == 2
    assert cli("serve", "--auth", "bogus:x").code == 2
    assert cli("serve", "--new-token", "ana").code == 2  # needs --auth tokens:FILE


def test_a_body_over_the_limit_is_refused(anydb):
    web = client_for(anydb)
    before = snapshot(anydb)
    token = csrf_of(web.get(f"/propositions/{P}").text)
    big = web.post(f"/propositions/{P}/observe", data={"indicator": "widget-factory-built", "source": "s",
                                                        "note": "x" * (MAX_BODY + 10), "csrf": token})  # fmt: skip
    assert big.status_code == 413
    assert snapshot(anydb) == before


# -- a real server, several clients -----------------------------------------------------------
CLIENTS = 8
EACH = 5


def test_eight_clients_posting_at_once_lose_nothing(live_server):
    import httpx

    base, database = live_server
    failures: list[str] = []
    start = threading.Barrier(CLIENTS)

    def client(k: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as c:
            start.wait()
            for j in range(EACH):
                r = c.post("/api/observations", json={"indicator": "widget-orders", "value": 100 * k + j,
                                                      "date": "2025-03-01", "source": f"client {k}"})  # fmt: skip
                if r.status_code != 201:
                    failures.append(r.text)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert failures == []
    with Tracker(str(database)) as t:
        values = sorted(o["value"] for o in t.show(P)["observations"])
    assert values == sorted(float(100 * k + j) for k in range(CLIENTS) for j in range(EACH))


def test_an_observation_is_applied_from_its_proposition_page(anydb):
    web = client_for(anydb)
    obs = Tracker(str(anydb)).observe("widget-factory-built", date="2025-03-02", source="s").observation_id
    page = web.get(f"/propositions/{P}").text
    assert f'<input type="hidden" name="ids" value="{obs}"><button>Apply</button>' in page
    done = web.post("/apply", data={"ids": [str(obs)], "csrf": csrf_of(page)},
                    headers={"referer": f"http://127.0.0.1:8000/propositions/{P}"})  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == f"/propositions/{P}"
    assert probability_on(web.get(f"/propositions/{P}").text) == pytest.approx(AFTER)
    elsewhere = web.post("/apply", data={"ids": ["999"], "csrf": csrf_of(page)}, headers={"referer": "http://evil.example/x"})
    assert elsewhere.status_code == 422
    later = Tracker(str(anydb)).observe("widget-recall", date="2025-03-03", source="s").observation_id
    back = web.post("/apply", data={"ids": [str(later)], "csrf": csrf_of(page)}, headers={"referer": "http://evil.example/x"})
    assert back.status_code == 303 and back.headers["location"] == "/review"  # never another site
