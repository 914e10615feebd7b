"""A real-browser check of the sandbox page: headless Chromium (Debian's /usr/bin/chromium) driven
by Playwright against the sandbox started in-process, as ``liveops`` does with no credentials.

Card charts are drawn by VChart when dev.py could fetch its build into .cache/vchart/, else by the
page's own SVG; both ways are checked here.

Skips, with the reason shown by ``-ra``, when the browser or the playwright package is missing.
Playwright's own browser downloads are never used.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
import os
import shutil

import pytest

from bot.config import Settings
from bot.feishu.platform import Platform
from bot.sandbox import APP_ID, APP_SECRET, Sandbox

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


# ---- card charts: VChart when the sandbox has its build (fetched by dev.py), else the page's own SVG

LINE = {"type": "line", "title": {"text": "在线人数"}, "xField": "time", "yField": "online",
        "data": {"values": [{"time": f"{19 + m // 60}:{m % 60:02d}", "online": n} for m, n in
                            zip(range(0, 125, 5), [320, 580, 910, 1234, 1480, 1620, 1710, 1650, 1590, 1720, 1880,
                                                   2050, 1990, 1870, 1760, 1690, 1580, 1430, 1390, 1250, 1100,
                                                   980, 820, 610, 400])]}}
BAR = {"type": "bar", "title": {"text": "商品转化率（%）"}, "xField": ["product", "场次"], "yField": "rate",
       "seriesField": "场次", "legends": {"visible": True, "orient": "top"},
       "data": {"values": [{"product": p, "场次": s, "rate": r} for p, pair in
                           [("保温杯", (4.2, 3.8)), ("面膜礼盒", (6.1, 5.0)), ("蓝牙耳机", (2.7, 3.1)), ("坚果大礼包", (8.4, 7.2))]
                           for s, r in zip(("本场", "上一场"), pair)]}}
WEEK = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
COMMON = {"type": "common", "title": {"text": "李主播本周"}, "legends": {"visible": True, "orient": "top"},
          "data": [{"id": "gmv", "values": [{"day": d, "gmv": v, "指标": "GMV（元）"}
                                           for d, v in zip(WEEK, [12e3, 18e3, 9e3, 0, 26e3, 31e3, 22e3])]},
                   {"id": "hours", "values": [{"day": d, "hours": v, "指标": "时长（小时）"}
                                             for d, v in zip(WEEK, [4, 5, 3, 0, 6, 6, 5])]}],
          "series": [{"type": "bar", "dataIndex": 0, "xField": "day", "yField": "gmv", "seriesField": "指标"},
                     {"type": "line", "dataIndex": 1, "xField": "day", "yField": "hours", "seriesField": "指标"}],
          "axes": [{"orient": "left", "seriesIndex": [0]}, {"orient": "right", "seriesIndex": [1]},
                   {"orient": "bottom", "type": "band"}]}
ODD = {"type": "no_such_chart", "data": {"values": [{"x": "周一", "y": 1}]}, "xField": "x", "yField": "y"}


def chart_card(title: str, *charts: tuple[dict, str]) -> dict:
    return {"schema": "2.0", "config": {"width_mode": "fill"},
            "header": {"title": {"tag": "plain_text", "content": title}, "template": "blue"},
            "body": {"elements": [{"tag": "chart", "chart_spec": spec, "aspect_ratio": ratio, "height": "auto"}
                                  for spec, ratio in charts]}}


async def send_card(platform: Platform, chat_id: str, card: dict) -> str:
    result = await platform.call("POST", "/open-apis/im/v1/messages", query={"receive_id_type": "chat_id"},
                                 body={"receive_id": chat_id, "msg_type": "interactive", "content": json.dumps(card)})
    assert result.ok, result.msg
    return result.data["message_id"]


@pytest.fixture(params=["vchart", "svg"])
async def chart_sandbox(request, async_playwright, tmp_path):
    sandbox = Sandbox(Settings(sandbox=True, database_url=f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}"))
    if request.param == "vchart" and sandbox.vchart is None:
        pytest.skip("no VChart build in .cache/vchart/ (python3 dev.py fetches it with npm)")
    if request.param == "svg":
        sandbox.vchart = None  # as on a machine where dev.py could not fetch it
    url = await sandbox.start("127.0.0.1", 0)
    try:
        yield sandbox, url
    finally:
        await sandbox.stop()


# True once a chart's canvas has paint on at least 1% of its pixels and is unchanged since the last poll.
CANVAS_SETTLED = """(sel) => {
  const c = document.querySelector(sel); if (!c || !c.width || !c.height) return false;
  const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let painted = 0; for (let i = 3; i < px.length; i += 4) if (px[i]) painted++;
  const url = c.toDataURL(), key = '__shot_' + sel, same = window[key] === url;
  window[key] = url;
  return painted > px.length / 400 && same;
}"""


async def test_card_charts_in_chromium(async_playwright, chart_sandbox, tmp_path):
    sandbox, url = chart_sandbox
    vchart = sandbox.vchart is not None
    errors: list[str] = []
    platform = Platform(url.rstrip("/"), APP_ID, APP_SECRET)
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                page = await browser.new_page(viewport={"width": 1280, "height": 1400})
                page.set_default_timeout(WAIT_MS)
                page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
                page.on("console", lambda m: m.type == "error" and errors.append(f"console.error: {m.text}"))
                await page.goto(url)
                await page.locator(".chat-item", has_text="运营群").first.click()
                await page.wait_for_selector("#input:not([disabled])")

                chat_id = sandbox.chat_ids["运营群"]
                msg_id = await send_card(platform, chat_id, chart_card("本场复盘", (LINE, "16:9"), (BAR, "4:3")))
                card = page.locator(f'.msg[data-id="{msg_id}"]')
                charts = card.locator(".el.chart")
                await charts.nth(1).wait_for()
                assert await charts.count() == 2
                if vchart:
                    for i in range(2):
                        sel = f'.msg[data-id="{msg_id}"] .el.chart:nth-child({i + 1}) canvas'
                        await page.wait_for_function(CANVAS_SETTLED, arg=sel, polling=250)
                        box = await page.locator(sel).bounding_box()
                        assert box and box["width"] > 300 and box["height"] > 150
                        assert await charts.nth(i).get_attribute("data-renderer") == "vchart"
                    assert await charts.nth(0).locator("svg.chart-svg").count() == 0
                    ratio = [await page.locator(f'.msg[data-id="{msg_id}"] .chart-vchart').nth(i).evaluate(
                        "e => e.clientWidth / e.clientHeight") for i in range(2)]
                    assert abs(ratio[0] - 16 / 9) < 0.05 and abs(ratio[1] - 4 / 3) < 0.05
                    assert await page.evaluate("LiveOpsSandbox.liveCharts()") == 2
                else:
                    for i in range(2):
                        await charts.nth(i).locator("svg.chart-svg").wait_for()
                        assert await charts.nth(i).get_attribute("data-renderer") == "svg"
                    await charts.nth(0).locator("polyline").wait_for()
                    assert await charts.nth(1).locator("rect").count() == 8
                assert "19:05" in await charts.nth(0).locator(".chart-data").text_content()
                shot = tmp_path / "charts.png"
                await card.screenshot(path=str(shot))

                # The card is patched: the old charts are released, the new one is drawn (or, a type
                # VChart does not know, drawn by the page's own SVG renderer with its data table).
                patched = chart_card("本场复盘（更新）", (COMMON, "2:1"), (ODD, "16:9"))
                result = await platform.call("PATCH", f"/open-apis/im/v1/messages/{msg_id}",
                                             body={"content": json.dumps(patched)})
                assert result.ok, result.msg
                await card.filter(has_text="本场复盘（更新）").wait_for()
                odd = card.locator(".el.chart").nth(1)
                await odd.locator(".ctable").wait_for()
                assert await odd.get_attribute("data-renderer") == "svg"
                if vchart:
                    await page.wait_for_function(CANVAS_SETTLED, arg=f'.msg[data-id="{msg_id}"] canvas', polling=250)
                    await page.wait_for_function("LiveOpsSandbox.liveCharts() === 1")
                    assert await card.locator("canvas").count() == 1
                await card.screenshot(path=str(tmp_path / "patched.png"))
            finally:
                await browser.close()
    finally:
        await platform.close()
    if os.environ.get("LIVEOPS_SCREENSHOTS"):  # e.g. /tmp, to look at the drawing
        name = "vchart_sandbox.png" if vchart else "vchart_sandbox_svg.png"
        shutil.copy(shot, os.path.join(os.environ["LIVEOPS_SCREENSHOTS"], name))
        shutil.copy(tmp_path / "patched.png", os.path.join(os.environ["LIVEOPS_SCREENSHOTS"], "patched_" + name))
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert errors == []


# ---- an honest sandbox (issue 18): fast-forward on time, sandbox times, jump to, folded pile-ups

async def test_fast_forward_jump_and_fold_in_chromium(async_playwright, tmp_path):
    from sqlalchemy import select

    from bot.timers.models import Timer

    # Thursday 13:45 in Beijing, a fixed time: the next hour holds the 14:00 stream's
    # checkpoints (folded below); at the real time it may hold nothing.
    sandbox = Sandbox(Settings(sandbox=True, database_url=f"sqlite+aiosqlite:///{tmp_path / 'sandbox.db'}"),
                      start_at=datetime(2026, 12, 3, 5, 45, tzinfo=timezone.utc))
    url = await sandbox.start("127.0.0.1", 0)
    errors: list[str] = []
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                page = await browser.new_page(viewport={"width": 1280, "height": 860})
                page.set_default_timeout(WAIT_MS)
                page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
                page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
                await page.goto(url)
                await page.locator(".chat-item", has_text="运营群").first.click()
                await page.wait_for_selector("#input:not([disabled])")

                # the member counts of the sidebar and the header agree (the bot counts)
                for name in ("运营群", "技术群"):
                    item = page.locator(".chat-item", has_text=name).first
                    await item.click()
                    await page.locator(".chat-title", has_text=name).wait_for()
                    side = await item.locator(".chat-item-subtext").inner_text()
                    head = await page.locator("details.members summary").inner_text()
                    assert side.strip() == head.strip().lstrip(), (name, side, head)
                await page.locator(".chat-item", has_text="运营群").first.click()
                await page.wait_for_selector("#input:not([disabled])")

                await page.fill("#input", "/提醒 30分钟后 对样品")
                await page.press("#input", "Enter")
                await bot_card(page, "提醒已设置").last.wait_for()
                # Enter on an @name typed in full sends (the suggestion list was open)
                await page.click("#input")
                await page.keyboard.type("/帮助 @LiveOps")
                assert await page.locator("#mentionPop").is_visible()
                await page.keyboard.press("Enter")
                await bot_card(page, "LiveOps 命令帮助").last.wait_for()
                assert await page.input_value("#input") == ""
                await page.keyboard.type("收到 @陈")  # a name to complete: Enter picks it, the next one sends
                await page.keyboard.press("Enter")
                assert await page.input_value("#input") == "收到 @陈助播 "
                await page.keyboard.press("Enter")
                await page.locator(".msg.mine", has_text="收到 @陈助播").wait_for()
                assert await page.input_value("#input") == ""
                async with sandbox.bot.db.session() as s:
                    due = (await s.execute(select(Timer.next_due).where(Timer.kind == "reminder"))).scalar_one()

                # +1 hour: the reminder fires on time, stamped with the sandbox's time
                await page.locator(".ff-btn", has_text="+1小时").click()
                await page.locator(".toast-success", has_text="已按时发出").wait_for()
                fired = bot_card(page, "⏰ 提醒 #1").last
                await fired.wait_for()
                text = await fired.inner_text()
                assert "对样品" in text and "晚了" not in text and "不在线" not in text
                local = due.astimezone(sandbox.settings.tz)
                shown = await fired.locator(".msg-time").inner_text()
                assert shown in (f"{local:%H:%M}", f"{local + timedelta(minutes=1):%H:%M}"), (shown, local)
                # what else fell due in that hour is folded into one summary, the reminder stays in view
                fold = page.locator(".jump-fold").last
                await fold.wait_for()
                assert "按时发了" in await fold.inner_text()
                hidden = await page.locator(".msg.folded").count()
                assert hidden >= 3 and await fired.is_visible()
                await fold.locator(".jump-fold-btn").click()
                assert await page.locator(".msg.folded").count() == 0
                await page.screenshot(path=str(tmp_path / "after_hour.png"))

                # jump to 09:30 tomorrow: the daily briefing subscribed for 09:30 arrives, in view
                await page.fill("#input", "/日报 订阅 09:30")
                await page.press("#input", "Enter")
                await page.locator(".msg.from-bot", has_text="已订阅日报").last.wait_for()
                await page.select_option("#jumpDay", "1")
                await page.fill("#jumpTime", "09:30")
                await page.locator("#jumpBtn").click()
                await page.locator(".toast-success", has_text="已跳到").wait_for(timeout=60_000)
                assert "09:30" in await page.locator("#clockNow").inner_text()
                now = sandbox.clock.now().astimezone(sandbox.settings.tz)
                assert (now.hour, now.minute) == (9, 30) and now.date() == (local + timedelta(days=1)).date()
                briefing = bot_card(page, "直播日报").last
                await briefing.wait_for()
                assert await briefing.is_visible() and await page.locator(".msg.folded").count() >= 3
                await page.screenshot(path=str(tmp_path / "after_jump.png"))
            finally:
                await browser.close()
    finally:
        await sandbox.stop()
    if os.environ.get("LIVEOPS_SCREENSHOTS"):
        for name in ("after_hour.png", "after_jump.png"):
            shutil.copy(tmp_path / name, os.path.join(os.environ["LIVEOPS_SCREENSHOTS"], name))
    assert errors == []
