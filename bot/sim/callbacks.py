"""A user pressing a button on one of the bot's cards: the card.action.trigger callback.

"回调概述" (event-subscription-guide/callback-subscription/callback-overview): callbacks are
synchronous — "回调是同步操作，不提供补推机制，超时未响应即认为这次回调失败，前端会展示报错等平台
提供的兜底响应策略" — while events are asynchronous and re-pushed. "处理卡片回调"
(feishu-cards/handle-card-callbacks) and "延时更新消息卡片": answer within 3 s with HTTP 200 and
a body of ``{}``, a toast ``{"toast": {"type": "success|info|warning|error", "content": ...}}``
and/or ``{"card": {"type": "raw", "data": <card>}}`` (lark-oapi
event/callback/model/p2_card_action_trigger.py: P2CardActionTriggerResponse, CallBackToast,
CallBackCard). So the simulator delivers a press exactly once, waits at most 3 s, shows the
presser the bot's toast (or Feishu's own error toast when the answer is not a 200 JSON body in
time), replaces the card when the answer carries one, and never retries.

Lifetime: JSON 2.0 cards "可交互和可更新时间统一为 14 天" (卡片 JSON 2.0 版本更新说明), 1.0 cards
30 days; a press on an older card reaches nobody and the presser sees a notice instead.
"""
from __future__ import annotations

from bot.clock import wall_seconds
import json
from typing import TYPE_CHECKING, Any

from . import cards
from .apibase import CARD_LIFETIME_MS
from .state import Message, SimError, iso_ms, now_ms, random_hex

if TYPE_CHECKING:
    from .server import FeishuSimulator

CALLBACK_TIMEOUT = 3.0
V1_LIFETIME_MS = 30 * 86400 * 1000
MAX_TOASTS = 50
# Feishu's own texts are not given in the docs; these stand for "平台提供的兜底响应".
FEISHU_ERROR = "出错了，请稍后重试 / Something went wrong, please try again later"
EXPIRED = "该卡片已超过有效期，无法操作 / This card has expired and can no longer be used"


def toast_of(answer: Any) -> dict[str, str] | None:
    toast = answer.get("toast") if isinstance(answer, dict) else None
    if not isinstance(toast, dict):
        return None
    content = toast.get("content")
    if not isinstance(content, str):
        i18n = toast.get("i18n") if isinstance(toast.get("i18n"), dict) else {}
        content = str(i18n.get("zh_cn") or next(iter(i18n.values()), "")) if i18n else ""
    kind = str(toast.get("type")) if toast.get("type") in ("success", "info", "warning", "error") else "info"
    return {"type": kind, "content": content}


def _record(m: Message, user: str, toast: dict[str, str], source: str) -> dict[str, Any]:
    entry = {"user": user, "type": toast["type"], "content": toast["content"], "source": source,
             "time": iso_ms(now_ms())}
    m.toasts.append(entry)
    del m.toasts[:-MAX_TOASTS]
    return entry


async def press(sim: FeishuSimulator, message_id: str, user_ref: Any, value: dict[str, Any],
                form_value: dict[str, Any] | None = None, *, check: bool = True) -> dict[str, Any]:
    """Deliver one press. Returns {"response": the bot's JSON answer or None, "toast": what the
    presser saw (or None), "delivery": the push record or None, "expired": bool}."""
    m = sim.state.messages.get(message_id)
    if m is None:
        raise SimError(f"unknown message {message_id!r}", 404)
    if m.msg_type != "interactive" or m.sender_type != "app":
        raise SimError("only the bot's cards have buttons")
    if not isinstance(value, dict):
        raise SimError("a button value is an object")
    if form_value is not None and not isinstance(form_value, dict):
        raise SimError("form_value is an object")
    chat = sim._chat(m.chat_id)
    u = sim._user(user_ref)
    sim._member_check(chat, u)
    parsed = m.parsed()
    found = [b for b in cards.buttons(parsed) if b["value"] == value]
    if check and not found:
        known = [b["value"] for b in cards.buttons(parsed)]
        raise SimError(f"no button with value {value!r} on this card; buttons: {known!r}")
    lifetime = CARD_LIFETIME_MS if isinstance(parsed, dict) and parsed.get("schema") == "2.0" else V1_LIFETIME_MS
    if sim.card_age_ms(m) > lifetime:
        shown = _record(m, u.open_id, {"type": "warning", "content": EXPIRED}, "feishu")
        sim.notify()
        return {"response": None, "toast": shown, "delivery": None, "expired": True}
    action: dict[str, Any] = {"value": value, "tag": "button"}
    if found and found[0].get("name"):
        action["name"] = found[0]["name"]
    if form_value is not None:
        action["form_value"] = form_value
    token = "c-" + random_hex(40)
    sim.state.card_tokens[token] = {"message_id": m.message_id, "expires": wall_seconds() + 1800, "uses": 2}
    event = {
        "operator": {"tenant_key": sim.tenant_key, **u.ids()},
        "token": token,
        "action": action,
        "host": "im_message",
        "context": {"open_message_id": m.message_id, "open_chat_id": chat.chat_id},
    }
    payload = sim.pusher.envelope("card.action.trigger", event, token=sim.verification_token,
                                  create_time=str(now_ms() * 1000))
    info = await sim._push(payload, timeout=sim.callback_timeout, kind="callback")
    answer = info.get("response")
    if info.get("status") != 200 or info.get("error") or not isinstance(answer, (dict, type(None))):
        # no answer in time, an error status or a non-JSON body: Feishu shows its own error
        # toast to the presser and does not deliver the press again
        shown = _record(m, u.open_id, {"type": "error", "content": FEISHU_ERROR}, "feishu")
        sim.stats["callbacks_failed"] += 1
        sim.notify()
        return {"response": answer if isinstance(answer, dict) else None, "toast": shown, "delivery": info,
                "expired": False}
    answer = answer or {}
    shown = None
    toast = toast_of(answer)
    if toast is not None:
        shown = _record(m, u.open_id, toast, "bot")
    card = answer.get("card")
    if isinstance(card, dict) and card.get("type") == "raw":
        data = card.get("data")
        try:
            cards.check_card(data, len(json.dumps(data, ensure_ascii=False).encode("utf-8")))
        except cards.CardError as exc:
            info["card_error"] = str(exc)
        else:
            m.content = json.dumps(data, ensure_ascii=False)
            m.updated = True
            sim.state.touch(m)
    sim.notify()
    return {"response": answer, "toast": shown, "delivery": info, "expired": False}
