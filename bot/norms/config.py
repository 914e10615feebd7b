"""Norm settings: defaults from the domain note's norms table, overridden per team and per room.

Keys and their defaults (minutes unless said otherwise; 0 switches a checkpoint or nudge off):

* ``cp.script`` 2880 (T-2d), ``cp.venue`` 1440 (T-1d), ``cp.equipment`` 120 (T-2h),
  ``cp.onsite`` 60 (T-1h): how long before the start each checkpoint card is posted.
* ``cp.remind`` 30, ``cp.escalate`` 60: after the card, remind the owner again, then
  escalate to the ops leads.
* ``latency_max`` 200 (ms): the equipment test fails above it.
* ``cadence.interact`` 5, ``cadence.data`` 15, ``cadence.bag`` 30: in-stream nudges (per room).
* ``explain.hero`` [8, 12], ``explain.traffic`` [3, 5]: explanation bounds.
* ``after.export`` 60: data export due after the end; ``after.escalate`` 30 after that.
* ``ontime`` 5: a start within this many minutes of the schedule counts as on time.
* ``far`` 30: /开播 or /下播 further than this from the schedule asks for confirmation first.
* ``announce.weekly`` "7 20:00" (ISO weekday and time, for next week),
  ``announce.monthly`` "1 09:00" (day of month and time); "" switches it off.
* ``optional.selfeval`` / ``optional.learning`` / ``optional.innovation`` / ``optional.topic``:
  False; the norm reminders a team can switch on.
* ``sentiment.respond`` 3: a negative comment (/舆情) is answered within it, else the ops
  lead hears; ``sentiment.replies``: the team's response suggestions shown on the card.
* ``adhoc.plan`` 30: an ad-hoc task's owner gives a plan within it (then reminded);
  ``adhoc.escalate`` 15: after the reminder, the ops lead hears.
* ``emergency.window`` 60: an off-hours emergency is handled within it, else the ops lead
  hears; ``emergency.noshow`` 10: minutes after the scheduled start without /开播 or the
  streamer's arrival before a no-show emergency starts (0: off).
* ``handover.days`` 3 (working days after the last day); ``handover.checklist``: the files
  and accounts to hand over.
* ``newbie.days`` 15 (7–15): the growth plan's length; ``newbie.template``: its items,
  each "day title".
* ``optional.quarterly``: False; the quarterly review reminder (with the quarter's KPIs).
* ``script.chars`` 200, ``script.lines`` 5: a compliance check of typed text counts as a check
  of the stream's script (for the T-2d gate, bot/norms/script_gate.py) from this many
  characters or non-empty lines; an uploaded or replied script file always counts.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.norms.models import NormSetting

CHECKPOINTS = ("script", "venue", "equipment", "onsite")
AFTER = ("export", "review")
CADENCE = ("interact", "data", "bag")
OPTIONAL = ("selfeval", "learning", "innovation", "topic", "quarterly")
LIST_KEYS = ("sentiment.replies", "handover.checklist", "newbie.template")  # lists of texts (template: [day, text])
SENTIMENT_REPLIES = ["先感谢反馈，承诺私信跟进处理，不与观众争辩", "产品质疑：展示质检报告/授权书，说明正品保障和退换政策",
                     "带节奏：场控引导话题回到产品，福袋或互动冲淡刷屏，必要时按平台规则处理违规评论",
                     "投诉物流/售后：报出客服渠道，请观众留下订单号，下播后 1 小时内回复"]
HANDOVER_CHECKLIST = ["工作文件（脚本、排期、数据表）", "直播账号与后台权限", "千川/投放账号与素材", "飞书文档、群与群主身份",
                      "设备、样品与物料"]
NEWBIE_TEMPLATE = [[1, "产品知识：熟悉主推品的卖点、价格机制和常见问题"], [3, "话术：背熟开场、讲品、逼单、福袋话术并演练"],
                   [5, "镜头感训练：表情、站位、手势和节奏"], [7, "陪播一场，跟着复盘「亮点-不足-改进」"],
                   [10, "助播陪同独立开播一场"], [15, "阶段复盘：转化率对比和下一步计划"]]

DEFAULTS: dict[str, Any] = {
    "cp.script": 2880, "cp.venue": 1440, "cp.equipment": 120, "cp.onsite": 60,
    "cp.remind": 30, "cp.escalate": 60, "latency_max": 200,
    "cadence.interact": 5, "cadence.data": 15, "cadence.bag": 30,
    "explain.hero": [8, 12], "explain.traffic": [3, 5],
    "after.export": 60, "after.escalate": 30, "ontime": 5, "far": 30,
    "announce.weekly": "7 20:00", "announce.monthly": "1 09:00",
    "script.chars": 200, "script.lines": 5,
    "sentiment.respond": 3, "sentiment.replies": SENTIMENT_REPLIES, "adhoc.plan": 30, "adhoc.escalate": 15,
    "emergency.window": 60, "emergency.noshow": 10, "handover.days": 3, "handover.checklist": HANDOVER_CHECKLIST,
    "newbie.days": 15, "newbie.template": NEWBIE_TEMPLATE,
    **{f"optional.{k}": False for k in OPTIONAL},
}
ROOM_KEYS = {f"cadence.{k}" for k in CADENCE}  # the keys a room may override

# What people type → key.
NAMES = {
    "脚本": "cp.script", "脚本初审": "cp.script", "script": "cp.script",
    "场地": "cp.venue", "彩排": "cp.venue", "venue": "cp.venue",
    "设备": "cp.equipment", "联调": "cp.equipment", "equipment": "cp.equipment",
    "到岗": "cp.onsite", "onsite": "cp.onsite",
    "再提醒": "cp.remind", "remind": "cp.remind", "升级": "cp.escalate", "escalate": "cp.escalate",
    "延迟": "latency_max", "latency": "latency_max",
    "互动": "cadence.interact", "interact": "cadence.interact",
    "数据": "cadence.data", "data": "cadence.data",
    "福袋": "cadence.bag", "bag": "cadence.bag",
    "爆款": "explain.hero", "hero": "explain.hero", "引流": "explain.traffic", "引流款": "explain.traffic",
    "traffic": "explain.traffic",
    "导出": "after.export", "export": "after.export",
    "准点": "ontime", "ontime": "ontime",
    "开播确认": "far", "far": "far",
    "周排期": "announce.weekly", "weekly": "announce.weekly",
    "月排期": "announce.monthly", "monthly": "announce.monthly",
    "自评表": "optional.selfeval", "selfeval": "optional.selfeval",
    "学习报告": "optional.learning", "learning": "optional.learning",
    "创新": "optional.innovation", "innovation": "optional.innovation",
    "选题会": "optional.topic", "topic": "optional.topic",
    "脚本字数": "script.chars", "script-chars": "script.chars",
    "脚本行数": "script.lines", "script-lines": "script.lines",
    "舆情": "sentiment.respond", "差评": "sentiment.respond", "sentiment": "sentiment.respond",
    "舆情话术": "sentiment.replies", "回应话术": "sentiment.replies", "sentiment-replies": "sentiment.replies",
    "临时任务": "adhoc.plan", "adhoc": "adhoc.plan", "临时任务升级": "adhoc.escalate", "adhoc-escalate": "adhoc.escalate",
    "应急": "emergency.window", "emergency": "emergency.window", "未到场": "emergency.noshow", "noshow": "emergency.noshow",
    "交接": "handover.days", "handover": "handover.days", "交接清单": "handover.checklist",
    "handover-checklist": "handover.checklist",
    "新人": "newbie.days", "newbie": "newbie.days", "新人模板": "newbie.template", "newbie-template": "newbie.template",
    "季度复盘": "optional.quarterly", "quarterly": "optional.quarterly",
}

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(天|d|days?|小时|h|hours?|分钟|分|min|mins|minutes?|m)?$", re.I)
_RANGE = re.compile(r"^(\d+)\s*[-–~～到]\s*(\d+)\s*(分钟|分|min|m)?$", re.I)
_WHEN = re.compile(r"^(?:(周|星期)?([1-7一二三四五六日天]))\s*(\d{1,2})[:：](\d{2})$")
_WEEKDAYS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7}


class BadValue(ValueError):
    pass


def minutes(text: str) -> int:
    """"2天" → 2880, "2小时" → 120, "90分钟" / "90" → 90, "关" / "off" → 0."""
    text = text.strip().lower()
    if text in ("关", "关闭", "off", "0"):
        return 0
    m = _DURATION.match(text)
    if not m:
        raise BadValue(text)
    n, unit = float(m.group(1)), (m.group(2) or "分")
    factor = 1440 if unit in ("天", "d", "day", "days") else 60 if unit in ("小时", "h", "hour", "hours") else 1
    value = int(round(n * factor))
    if value < 0 or value > 30 * 1440:
        raise BadValue(text)
    return value


def parse_value(key: str, text: str) -> Any:
    """The stored value of ``key`` from what someone typed; BadValue if it cannot be read."""
    text = text.strip()
    if key.startswith("optional."):
        if text.lower() in ("开", "开启", "on", "true", "1", "是"):
            return True
        if text.lower() in ("关", "关闭", "off", "false", "0", "否"):
            return False
        raise BadValue(text)
    if key.startswith("explain."):
        m = _RANGE.match(text)
        if not m or not 0 < int(m.group(1)) < int(m.group(2)) <= 120:
            raise BadValue(text)
        return [int(m.group(1)), int(m.group(2))]
    if key.startswith("announce."):
        if text.lower() in ("关", "关闭", "off"):
            return ""
        m = _WHEN.match(text.replace(" ", ""))
        if not m:
            raise BadValue(text)
        day = _WEEKDAYS.get(m.group(2)) or int(m.group(2))
        hh, mm = int(m.group(3)), int(m.group(4))
        if hh > 23 or mm > 59 or (key == "announce.weekly" and day > 7):
            raise BadValue(text)
        return f"{day} {hh:02d}:{mm:02d}"
    if key in LIST_KEYS:
        return parse_list(key, text)
    if key in ("handover.days", "newbie.days"):
        digits = re.sub(r"\s*(个?工作日|天|days?|working days?)$", "", text.lower())
        low, high = (1, 15) if key == "handover.days" else (7, 15)
        if not digits.isdigit() or not low <= int(digits) <= high:
            raise BadValue(text)
        return int(digits)
    if key.startswith("script."):
        digits = re.sub(r"\s*(字|行|chars?|lines?)$", "", text.lower())
        if not digits.isdigit() or not 1 <= int(digits) <= 100_000:
            raise BadValue(text)
        return int(digits)
    if key == "latency_max":
        digits = re.sub(r"\s*(ms|毫秒)$", "", text.lower())
        if not digits.isdigit() or not 0 < int(digits) <= 5000:
            raise BadValue(text)
        return int(digits)
    value = minutes(text)
    if key.startswith("cadence.") and value and value > 180:
        raise BadValue(text)
    return value


_SPLIT = re.compile(r"[;；|｜\n]+")
_ITEM = re.compile(r"^(?:第\s*)?(\d{1,2})\s*(?:天|日|d)?\s*[:：.、 ]\s*(.+)$", re.I)


def parse_list(key: str, text: str) -> list:
    """"甲；乙｜丙" → ["甲", "乙", "丙"]; the newbie template's items start with their day:
    "1 产品知识；3 话术演练" → [[1, "产品知识"], [3, "话术演练"]]."""
    items = [" ".join(x.split())[:120] for x in _SPLIT.split(text) if x.strip()]
    if not items or len(items) > 12:
        raise BadValue(text)
    if key != "newbie.template":
        return items
    out = []
    for item in items:
        m = _ITEM.match(item)
        if not m or not 1 <= int(m.group(1)) <= 15:
            raise BadValue(item)
        out.append([int(m.group(1)), m.group(2).strip()])
    return sorted(out, key=lambda x: x[0])


def merge(*layers: dict[str, Any]) -> dict[str, Any]:
    out = dict(DEFAULTS)
    for layer in layers:
        out.update({k: v for k, v in layer.items() if k in DEFAULTS})
    return out


async def layer(session: AsyncSession, scope: str) -> dict[str, Any]:
    rows = (await session.execute(select(NormSetting).where(NormSetting.scope == scope))).scalars()
    return {r.key: r.value for r in rows}


async def effective(session: AsyncSession, room_id: int | None = None) -> dict[str, Any]:
    """Defaults ← the team's settings ← the room's (cadence only)."""
    team = await layer(session, "team")
    room = {k: v for k, v in (await layer(session, f"room:{room_id}")).items() if k in ROOM_KEYS} \
        if room_id is not None else {}
    return merge(team, room)


async def set_value(session: AsyncSession, *, key: str, value: Any, scope: str, by: str, now: datetime) -> None:
    row = (await session.execute(select(NormSetting).where(NormSetting.scope == scope,
                                                           NormSetting.key == key))).scalars().first()
    if row is None:
        session.add(NormSetting(scope=scope, key=key, value=value, updated_by=by, updated_at=now))
    else:
        row.value, row.updated_by, row.updated_at = value, by, now
    await session.flush()
