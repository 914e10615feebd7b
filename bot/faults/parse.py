"""Reading the arguments of /故障 and /值班: ticket ids, cause/fix, category and severity
words (statistics periods: bot.periods). Pure functions."""
from __future__ import annotations

import re

from bot.faults.classify import Category

CATEGORY_WORDS: dict[str, Category] = {
    **{c.value: c for c in Category},
    "断流": Category.STREAM_DOWN, "推流": Category.STREAM_DOWN, "推流中断": Category.STREAM_DOWN,
    "黑屏": Category.STREAM_DOWN, "stream": Category.STREAM_DOWN,
    "违规": Category.SANCTION, "限流": Category.SANCTION, "封禁": Category.SANCTION, "平台": Category.SANCTION,
    "网络": Category.NETWORK, "卡顿": Category.NETWORK, "掉帧": Category.NETWORK, "network": Category.NETWORK,
    "编码": Category.ENCODER, "软件": Category.ENCODER, "obs": Category.ENCODER, "直播伴侣": Category.ENCODER,
    "encoder": Category.ENCODER,
    "声音": Category.AUDIO, "音频": Category.AUDIO, "麦克风": Category.AUDIO, "声卡": Category.AUDIO,
    "audio": Category.AUDIO,
    "摄像头": Category.CAMERA, "采集卡": Category.CAMERA, "画面": Category.CAMERA, "camera": Category.CAMERA,
    "价格": Category.PRICE_STOCK, "库存": Category.PRICE_STOCK, "链接": Category.PRICE_STOCK,
    "price": Category.PRICE_STOCK, "stock": Category.PRICE_STOCK,
    "灯光": Category.LIGHTING, "补光灯": Category.LIGHTING, "灯": Category.LIGHTING, "lighting": Category.LIGHTING,
    "推流码": Category.STREAM_KEY, "推流地址": Category.STREAM_KEY, "密钥": Category.STREAM_KEY,
    "小黄车": Category.LISTING, "购物车": Category.LISTING,
    "listing": Category.LISTING, "评论": Category.INTERACTION, "评论区": Category.INTERACTION,
    "互动": Category.INTERACTION, "公屏": Category.INTERACTION, "comments": Category.INTERACTION,
    "其他": Category.OTHER, "其它": Category.OTHER,
}
ALL_WORDS = {"全部", "所有", "all", "通用", "*"}

_ID = re.compile(r"^[#＃]?\s*(\d{1,9})$")
_ID_ANY = re.compile(r"[#＃]\s*(\d{1,9})|^\s*(\d{1,9})\b")


def category_of(word: str) -> Category | None:
    return CATEGORY_WORDS.get(word.strip().lower())


def severity_of(word: str) -> str | None:
    w = word.strip().upper()
    return w if w in ("P0", "P1", "P2", "P3") else None


def ticket_id(text: str) -> int | None:
    """"#12" or "12" anywhere at the start; None when there is no id."""
    m = _ID_ANY.search(text.strip())
    if not m:
        return None
    return int(m.group(1) or m.group(2))


def is_id(word: str) -> bool:
    return bool(_ID.match(word.strip()))


def strip_id(text: str) -> str:
    return _ID_ANY.sub(" ", text, count=1).strip()


_CAUSE = re.compile(r"(?:原因|cause)\s*[:：]?\s*", re.I)
_FIX = re.compile(r"(?:处理|措施|解决办法|办法|fix)\s*[:：]?\s*", re.I)


def cause_and_fix(text: str) -> tuple[str, str]:
    """"原因 推流码过期 处理 更新推流码" → ("推流码过期", "更新推流码"). Without the words the
    whole text is the cause."""
    text = text.strip()
    c, f = _CAUSE.search(text), _FIX.search(text)
    if not c and not f:
        return text, ""
    cause = fix = ""
    if c and f:
        if c.start() < f.start():
            cause, fix = text[c.end():f.start()], text[f.end():]
        else:
            fix, cause = text[f.end():c.start()], text[c.end():]
    elif c:
        cause = text[c.end():]
    else:
        cause, fix = text[:f.start()], text[f.end():]
    return cause.strip(" ，,;；"), fix.strip(" ，,;；")


_CHANGE_KEYS = {"类别": "category", "分类": "category", "类型": "category", "category": "category",
                "级别": "severity", "等级": "severity", "severity": "severity", "level": "severity",
                "直播间": "room", "房间": "room", "room": "room"}


def change_args(text: str) -> dict[str, str]:
    """"类别 网络 级别 P1 直播间 2号间" → {"category": "network", "severity": "P1", "room": "2号间"};
    a bare "P1" or category word counts too. Unknown words → ValueError(word)."""
    out: dict[str, str] = {}
    words = text.replace("：", " ").replace(":", " ").split()
    i = 0
    while i < len(words):
        w = words[i]
        key = _CHANGE_KEYS.get(w.lower())
        value = words[i + 1] if key and i + 1 < len(words) else None
        if key and value is not None:
            i += 2
        else:
            value, key, i = w, None, i + 1
        if key in (None, "severity") and severity_of(value):
            out["severity"] = severity_of(value)  # type: ignore[assignment]
        elif key in (None, "category") and category_of(value):
            out["category"] = category_of(value).value  # type: ignore[union-attr]
        elif key == "room":
            out["room"] = value
        else:
            raise ValueError(value)
    return out
