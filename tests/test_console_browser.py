"""The admin console in a real Chromium: sign in through the form, run a query in GraphiQL,
download the admins' files with the console's cookie, sign out; no script error and no CSP
violation on the way (the `visit` fixture checks)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.async_api import expect

from tests.browser import Visit, check_accessibility
from tests.fixtures import ADMIN_PASSWORD, GraphQLClient

pytestmark = pytest.mark.browser

ADMIN_EMAIL = "admin@participate.example.org"


async def test_an_admin_signs_in_and_runs_a_query_in_graphiql(
    admin: GraphQLClient, visit: Visit
) -> None:
    page = visit.page
    await page.goto("/graphql")
    await expect(page.locator("h1")).to_have_text("GraphQL console")
    assert await check_accessibility(page) == []
    await page.fill("#email", ADMIN_EMAIL)
    await page.fill("#password", "not the password at all")
    await page.click("button[type=submit]")
    await expect(page.locator("#sign-in-error")).to_have_text(
        "The email or the password is not right."
    )
    assert await page.input_value("#email") == ADMIN_EMAIL
    assert await page.input_value("#password") == ""
    # The refused sign-in answers 401, which Chromium reports; nothing else may be reported.
    assert visit.problems == [
        "Failed to load resource: the server responded with a status of 401 (Unauthorized)"
    ]
    visit.problems.clear()

    await page.fill("#password", ADMIN_PASSWORD)
    await page.click("button[type=submit]")
    await expect(page.locator("#console-admin")).to_have_text(ADMIN_EMAIL)
    assert page.url.endswith("/graphql")
    [cookie] = await page.context.cookies()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert await page.evaluate("document.cookie") == ""  # out of reach of scripts

    # GraphiQL loaded the schema (introspection, as the admin) and shows its docs button.
    editor = page.locator(".graphiql-query-editor .CodeMirror")
    await expect(editor).to_be_visible()
    await expect(
        page.locator(".graphiql-sidebar button[aria-label='Show Documentation Explorer']")
    ).to_be_visible()
    await editor.click()
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await page.keyboard.type("{ me { email } }")
    await page.click(".graphiql-execute-button")
    result = page.locator(".graphiql-response .CodeMirror-code")
    await expect(result).to_contain_text(ADMIN_EMAIL)
    shown = json.loads(
        await page.evaluate(
            "document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue()"
        )
    )
    assert shown == {"data": {"me": {"email": ADMIN_EMAIL}}}
    # GraphiQL's panes are named for screen readers, its scrolling boxes reachable by the
    # keyboard, its faint text readable (console.js and console.css mend GraphiQL's own);
    # with the bar's heading and the main landmark, axe-core finds nothing at all.
    assert await check_accessibility(page) == []
    names = await page.eval_on_selector_all(
        ".CodeMirror textarea", "boxes => boxes.map(box => box.getAttribute('aria-label'))"
    )
    assert sorted(names) == ["Headers", "Query", "Response", "Variables"]

    posts = [r for r in visit.graphql_requests() if r.method == "POST"]
    assert posts, "GraphiQL sent nothing"
    for request in posts:
        headers = await request.all_headers()
        assert headers["content-type"] == "application/json"
        assert "authorization" not in headers
        assert f"invitations_console={cookie['value']}" in headers.get("cookie", "")
    # Everything came from this service: no CDN.
    assert all(
        r.url.startswith(visit.base_url) or r.url.startswith("data:") for r in visit.requests
    )

    # Downloads take the same cookie: a link on the console's pages downloads the file.
    for path in ("/invitations/template.xlsx", "/invitations/export.xlsx?status=pending"):
        async with page.expect_download() as started:
            await page.evaluate("path => { window.location.assign(path); }", path)
        download = await started.value
        assert download.suggested_filename.endswith(".xlsx")
        workbook = load_workbook(io.BytesIO(Path(await download.path()).read_bytes()))
        assert workbook.sheetnames
    fetched = [r for r in visit.requests if "/invitations/" in r.url]
    for request in fetched:
        assert (await request.all_headers())["sec-fetch-site"] == "same-origin"

    await page.click("#sign-out")
    await expect(page.locator("h1")).to_have_text("GraphQL console")
    await expect(page.locator("#email")).to_be_visible()
    assert await page.context.cookies() == []
