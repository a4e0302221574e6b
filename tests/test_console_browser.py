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


STORAGE = """() => {
  const kept = (area) => Object.keys(area).filter((key) => key.startsWith("graphiql:"))
    .map((key) => key + "=" + area.getItem(key));
  return { local: kept(window.localStorage), session: kept(window.sessionStorage) };
}"""
SECRET = "a password typed in the console 73"


async def test_graphiql_keeps_what_was_typed_in_the_tab_only_and_forgets_it_on_sign_out(
    admin: GraphQLClient, visit: Visit
) -> None:
    """A signIn typed in GraphiQL holds a password, an answer may hold a token: none of it
    may stay in the browser once the admin signs out (localStorage outlives everything)."""
    page = visit.page
    await page.goto("/graphql/console/sign-in")
    # What an earlier release left in localStorage is forgotten on opening the console.
    await page.evaluate(
        "secret => localStorage.setItem('graphiql:query', 'mutation { signIn(password: \"'"
        " + secret + '\") }')",
        SECRET,
    )
    await page.fill("#email", ADMIN_EMAIL)
    await page.fill("#password", ADMIN_PASSWORD)
    await page.click("button[type=submit]")
    await expect(page.locator("#console-admin")).to_have_text(ADMIN_EMAIL)
    editor = page.locator(".graphiql-query-editor .CodeMirror")
    await expect(editor).to_be_visible()
    await editor.click()
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await page.keyboard.type(
        f'mutation {{ signIn(email: "{ADMIN_EMAIL}", password: "{SECRET}") '
        "{ session { token } } }"
    )
    await page.click(".graphiql-execute-button")
    await expect(page.locator(".graphiql-response .CodeMirror-code")).to_contain_text("signIn")

    stored = await page.evaluate(STORAGE)
    assert stored["local"] == []
    assert any(SECRET in item for item in stored["session"])  # kept for this tab's reloads
    await page.reload()
    await expect(page.locator(".graphiql-query-editor .CodeMirror-code")).to_contain_text(SECRET)

    # Signing out right after typing: GraphiQL's write of the text, a moment later, keeps
    # nothing either.
    await page.locator(".graphiql-query-editor .CodeMirror").click()
    await page.keyboard.type(" # and one more line")
    await page.click("#sign-out")
    await expect(page.locator("#email")).to_be_visible()
    assert await page.evaluate(STORAGE) == {"local": [], "session": []}
    everything = await page.evaluate(
        "() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])"
    )
    assert SECRET not in everything

    # Signed in again in the same tab: an empty console, nothing of the earlier work.
    await page.fill("#email", ADMIN_EMAIL)
    await page.fill("#password", ADMIN_PASSWORD)
    await page.click("button[type=submit]")
    await expect(page.locator(".graphiql-query-editor .CodeMirror")).to_be_visible()
    assert SECRET not in await page.locator(".graphiql-query-editor").inner_text()
