"""Pushed, not polled: REST changes reach open dispatch and crew pages over ``/ws/live`` with
polling switched off, and the dispatch page's Escalate button works (Debian's chromium).

The pages' fallback polls are set to ten minutes before the pages load, so every update seen
here within seconds came over the live socket.
"""

from __future__ import annotations

import pytest

from tests.browser.test_working_pages import (  # noqa: F401 - fixtures and helpers
    DESK,
    PHONE,
    T,
    User,
    browser,
    server,
)
from tests.dashboard.dispatch_fixtures import LAT, LON

pytestmark = pytest.mark.browser

NO_POLL_MS = 600_000


def _live(user: User) -> None:
    user.page.wait_for_function(
        "() => window.streettwinPages && window.streettwinPages.status === 'live'", timeout=T
    )


def test_rest_changes_are_pushed_and_escalate_works(server, browser, monkeypatch, artifacts_dir):  # noqa: F811
    from tests.dashboard.pages_app import page_module

    url, pa, _runtime = server
    monkeypatch.setattr(page_module("dispatch"), "POLL_MS", NO_POLL_MS)
    monkeypatch.setattr(page_module("crew"), "POLL_MS", NO_POLL_MS)
    op, crew = User(browser, url, "op", DESK), User(browser, url, "crew1", PHONE)
    try:
        op.page.goto(f"{url}/dispatch?lang=en")
        crew.page.goto(f"{url}/crew?lang=en")
        _live(op)
        _live(crew)
        # a ticket opened through the REST API appears in the open queue
        body = {"type": "water", "level": "orange", "lon": LON, "lat": LAT}
        created = op.page.evaluate(
            """async ([body, csrf]) => (await (await fetch("/api/tickets", {method: "POST",
                 headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
                 body: JSON.stringify(body)})).json())""",
            [body, op.csrf],
        )
        ref = created["ref"]
        row = op.page.locator(f'tr[data-ticket="{ref}"]')
        row.wait_for(timeout=T)
        # dispatched through the REST API: the crew's phone shows it and beeps
        assert op.post(f"/api/tickets/{ref}/dispatch", {"crew_id": "K1"}) == 200
        crew.page.locator(f'.st-tcard[data-ref="{ref}"]').wait_for(timeout=T)
        crew.page.wait_for_function("() => (window.streettwinPages.beeps || 0) >= 1", timeout=T)
        op.page.wait_for_selector(f'tr[data-ticket="{ref}"][data-state="dispatched"]', timeout=T)
        # the Escalate button raises it to the supervisor, with the note, in the history
        row.click()
        op.page.wait_for_selector(f'#st-dsp-detail [data-ticket="{ref}"]', timeout=T)
        op.page.fill("#st-dsp-note", "no answer from K1")
        op.page.click(".st-act-escalate")
        op.page.wait_for_selector('#st-dsp-facts [data-escalation="1"]', timeout=T)
        op.page.wait_for_selector("#st-dsp-history:has-text('no answer from K1')", timeout=T)
        op.page.screenshot(path=str(artifacts_dir / "dispatch_escalated.png"))
        view = pa.store.get(pa.svc.id_of(ref))
        assert (view.escalation, view.state) == (1, "dispatched")
        assert op.errors == [] and crew.errors == []
    finally:
        op.ctx.close()
        crew.ctx.close()
