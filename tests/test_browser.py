"""A real-browser check of the sandbox page: headless Chromium (Debian's /usr/bin/chromium) driven
by Playwright against the sandbox started in-process, as ``liveops`` does with no credentials.

Skips, with the reason shown by ``-ra``, when the browser or the playwright package is missing.
Playwright's own browser downloads are never used.
"""
from __future__ import annotations

import os

import pytest

from bot.config import Settings
from bot.sandbox import Sandbox

CHROMIUM = os.environ.get("LIVEOPS_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WAIT_MS = 10_000


@pytest.fixture
def async_playwright():
    """Playwright's entry point, or a skip (checked before the sandbox starts)."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    return async_playwright


@pytest.fixture
async def sandbox_url(async_playwright, tmp_path):
    sandbox = Sandbox(Settings(sandbox=True, database_url=f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}"))
    url = await sandbox.start("127.0.0.1", 0)
    try:
        yield url
    finally:
        await sandbox.stop()


def bot_card(page, text: str):
    return page.locator(".msg.from-bot").filter(has=page.locator(".card")).filter(has_text=text)


async def test_sandbox_page_in_chromium(async_playwright, sandbox_url, tmp_path):
    errors: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 860})
            page.set_default_timeout(WAIT_MS)
            page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
            page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
            await page.goto(sandbox_url)

            # Pick the team group; its bot-joined hello card shows up there.
            await page.locator(".chat-item", has_text="运营群").first.click()
            await page.wait_for_selector("#input:not([disabled])")
            await bot_card(page, "查看帮助").first.wait_for()

            # /帮助 → the help card.
            await page.fill("#input", "/帮助")
            await page.press("#input", "Enter")
            await bot_card(page, "LiveOps 命令帮助").first.wait_for()

            # /提醒 → the confirmation card; 取消 redraws it as cancelled.
            await page.fill("#input", "/提醒 30分钟后 对样品")
            await page.press("#input", "Enter")
            confirm = bot_card(page, "提醒已设置").last
            await confirm.wait_for()
            assert "对样品" in await confirm.inner_text()
            msg_id = await confirm.get_attribute("data-id")
            await confirm.locator("button.cbtn", has_text="取消").click()
            card = page.locator(f'.msg[data-id="{msg_id}"]')
            await card.filter(has_text="已取消").wait_for()
            await card.locator(".updated-mark").wait_for()
            assert await card.locator("button.cbtn", has_text="取消").count() == 0

            shot = tmp_path / "sandbox.png"
            await page.screenshot(path=str(shot), full_page=True)
        finally:
            await browser.close()
    data = shot.read_bytes()
    assert len(data) > 1000 and data.startswith(b"\x89PNG\r\n\x1a\n")
    assert errors == []
