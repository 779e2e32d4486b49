"""`serve` in a real browser: Debian's Chromium driven by Playwright (told to use the system browser,
so nothing is downloaded) against the app on 127.0.0.1."""

from __future__ import annotations

import os
import shutil

import pytest

from conftest import snapshot

pytest.importorskip("fastapi")
from test_web import AFTER, P  # noqa: E402

pytestmark = pytest.mark.browser

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.fixture
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing on CI (.ci/run installs it)")
        pytest.skip("chromium not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=FLAGS)
        yield b
        b.close()


@pytest.fixture(params=["sqlite"])
def anydb(request):  # the browser tests run on SQLite only: the app's paths are the same on both
    return request.getfixturevalue("db")


def test_an_analyst_logs_an_observation_in_the_browser(browser, live_server):
    base, database = live_server
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{base}/")
    page.wait_for_selector("tbody[data-flagged] #row-widget-launch .flag")  # review's flags follow the table
    assert "overdue" in page.inner_text("#row-widget-launch")
    page.click(f"a[href='/propositions/{P}']")
    assert float(page.get_attribute("#probability", "data-probability")) == pytest.approx(0.675)

    # a bad date: the field's error, nothing written
    before = snapshot(database)
    form = page.locator("form#observe")
    form.locator("select[name=indicator]").select_option("widget-factory-built")
    form.locator("input[name=date]").fill("31/12/2025")
    form.locator("input[name=source]").fill("https://example.org/factory")
    form.locator("textarea[name=note]").fill('<script>window.pwned = 1</script> ground broken')
    page.wait_for_selector("#preview .error[data-field=date]")  # the live preview says so before saving
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("form#observe .error[data-field=date]").inner_text().startswith("'31/12/2025' is not an ISO date")
    assert snapshot(database) == before

    # corrected: the preview shows the effect, saving moves the probability
    form = page.locator("form#observe")
    form.locator("input[name=date]").fill("2025-03-02")
    form.locator("input[name=apply]").check()
    page.wait_for_function("document.querySelector('#preview').innerText.includes('→')")
    assert "0.86 (very likely)" in page.inner_text("#preview")
    assert snapshot(database) == before  # a preview writes nothing
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/propositions/{P}")
    assert float(page.get_attribute("#probability", "data-probability")) == pytest.approx(AFTER)
    # the note holding a script shows as text and never ran
    assert "<script>window.pwned = 1</script> ground broken" in page.inner_text("#observations")
    assert page.evaluate("window.pwned === undefined")
    assert [e for e in errors if "status of 422" not in e] == []  # the bad date's page is the only refusal


def test_a_form_posted_without_its_token_is_refused_in_the_browser(browser, live_server):
    base, database = live_server
    context = browser.new_context(bypass_csp=True)  # to edit the page from the test
    page = context.new_page()
    page.goto(f"{base}/propositions/{P}")
    before = snapshot(database)
    page.evaluate("document.querySelectorAll('form#update input[name=csrf]').forEach(e => e.remove())")
    page.fill("form#update input[name=probability]", "0.4")
    page.fill("form#update textarea[name=rationale]", "no token")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("form#update button[type=submit]")
    assert posted.value.status == 403
    assert snapshot(database) == before
    context.close()
