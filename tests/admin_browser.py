"""What the admin pages' browser tests share: an admin, signing in through /admin's form."""

from __future__ import annotations

from playwright.async_api import Page, expect

from domain.models import User
from domain.users.service import create_admin
from tests.fixtures import ADMIN_PASSWORD

ADMIN_EMAIL = "admin@participate.example.org"


async def an_admin(locale: str | None = None) -> User:
    return await create_admin(
        email=ADMIN_EMAIL,
        password=ADMIN_PASSWORD,
        first_name="Ada",
        last_name="Admin",
        locale=locale,
    )


async def sign_in(page: Page, path: str = "/admin") -> None:
    """Open an admin page and sign in through the form it shows; the page asked for follows."""
    await page.goto(path)
    await page.fill("#email", ADMIN_EMAIL)
    await page.fill("#password", ADMIN_PASSWORD)
    await page.click("main button[type=submit]")
    await expect(page.locator("#admin-email")).to_have_text(ADMIN_EMAIL)
    # The page asked for is on screen; its script runs by the time it has loaded, as a person
    # sees it ready (a test that picks a file or a link before then outruns any person).
    await page.wait_for_load_state()


async def said_at(page: Page, selector: str) -> str:
    """The problem a page shows at an input: the input marked invalid, and the words it is
    described by (read with it by a screen reader)."""
    control = page.locator(selector)
    await expect(control).to_have_attribute("aria-invalid", "true")
    words: str = await control.evaluate(
        """input => (input.getAttribute("aria-describedby") || "").split(/\\s+/)
          .map((id) => document.getElementById(id))
          .filter((note) => note && note.matches("[data-problem-note]"))
          .map((note) => note.textContent).join(" ")"""
    )
    return words


async def watch_status(page: Page, selector: str = "#done") -> None:
    """From now on, note where the focus is each time the status element gets words (a
    screen reader says the status, then the newly focused element cuts it short: the focus
    must move first)."""
    await page.evaluate(
        """selector => {
          const status = document.querySelector(selector);
          window.statusSaid = [];
          if (status.dataset.watched) return;  // watched already: only the notes start again
          status.dataset.watched = "true";
          new MutationObserver(() => {
            if (!status.textContent) return;
            const focused = document.activeElement;
            window.statusSaid.push({ text: status.textContent, focused });
          }).observe(status, { childList: true, characterData: true, subtree: true });
        }""",
        selector,
    )


async def focus_when_said(page: Page) -> list[tuple[str, str, bool]]:
    """What the status said since watch_status: its words, the accessible name (aria-label or
    text) of the element focused then, and whether that element is still the focused one."""
    said: list[tuple[str, str, bool]] = [
        tuple(item)
        for item in await page.evaluate(
            """() => window.statusSaid.map(({ text, focused }) => [
              text,
              focused.getAttribute("aria-label") || focused.textContent,
              focused === document.activeElement,
            ])"""
        )
    ]
    return said
