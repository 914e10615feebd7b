"""Fault categories, their labels and default severities (the domain note's fault table).

The domain note lists eight kinds of equipment and platform fault plus "other". Three more
come from what people actually report and need their own first steps:

* ``stream_key`` – 推流码/推流地址 expired, invalid or reset: the stream cannot be pushed, and
  the fix is a new key in the platform's console, not a backup line (P1; raised to P0 when
  the room is live or goes live within 2 hours, which is when it matters);
* ``listing`` – a product link that cannot be put up or opened (小黄车/购物车/商品链接挂不上,
  打不开, 不显示): the 中控 works in the shop back end, unlike ``price_stock`` where the
  listing is up but wrong (价格挂错, 超卖);
* ``interaction`` – the comment area or other interaction tools do not load (评论区刷不出来,
  公屏不显示, 福袋发不出去): the streamer cannot answer viewers within the 3 minutes the
  norms ask (P1).
"""
from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    STREAM_DOWN = "stream_down"
    STREAM_KEY = "stream_key"
    SANCTION = "sanction"
    NETWORK = "network"
    ENCODER = "encoder"
    AUDIO = "audio"
    CAMERA = "camera"
    PRICE_STOCK = "price_stock"
    LISTING = "listing"
    INTERACTION = "interaction"
    LIGHTING = "lighting"
    OTHER = "other"


class Severity(StrEnum):
    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"


CATEGORY_LABELS: dict[str, dict[Category, str]] = {
    "zh_CN": {
        Category.STREAM_DOWN: "推流中断/断流",
        Category.STREAM_KEY: "推流码/推流地址失效",
        Category.SANCTION: "平台违规/限流/封禁",
        Category.NETWORK: "网络卡顿/延迟/掉帧",
        Category.ENCODER: "编码/推流软件(OBS/直播伴侣)",
        Category.AUDIO: "声音/麦克风/声卡",
        Category.CAMERA: "摄像头/采集卡",
        Category.PRICE_STOCK: "价格/库存/链接错误",
        Category.LISTING: "商品链接/小黄车挂不上",
        Category.INTERACTION: "评论区/互动功能异常",
        Category.LIGHTING: "灯光/补光灯",
        Category.OTHER: "其他设备故障",
    },
    "en_US": {
        Category.STREAM_DOWN: "Stream down",
        Category.STREAM_KEY: "Stream key / push URL invalid",
        Category.SANCTION: "Platform violation / throttling / ban",
        Category.NETWORK: "Network lag / latency / dropped frames",
        Category.ENCODER: "Encoder / streaming software (OBS, 直播伴侣)",
        Category.AUDIO: "Audio / microphone / sound card",
        Category.CAMERA: "Camera / capture card",
        Category.PRICE_STOCK: "Price / stock / listing error",
        Category.LISTING: "Product link / shopping cart not showing",
        Category.INTERACTION: "Comments / interaction tools not working",
        Category.LIGHTING: "Lighting / fill light",
        Category.OTHER: "Other equipment fault",
    },
}

# P0 stops sales or risks the account; P1 degrades the stream; P2 is visible but the
# stream goes on. "other" (提词器, 空调, 云台, a PC …) is P2: unknown kit in a live room is
# worth a technician's look, and P3 would hide it behind routine tasks. A stream key is
# P1: before the stream it blocks going live later, and a live room raises it to P0.
DEFAULT_SEVERITY: dict[Category, Severity] = {
    Category.STREAM_DOWN: Severity.P0,
    Category.STREAM_KEY: Severity.P1,
    Category.SANCTION: Severity.P0,
    Category.NETWORK: Severity.P1,
    Category.ENCODER: Severity.P1,
    Category.AUDIO: Severity.P1,
    Category.CAMERA: Severity.P1,
    Category.PRICE_STOCK: Severity.P1,
    Category.LISTING: Severity.P1,
    Category.INTERACTION: Severity.P1,
    Category.LIGHTING: Severity.P2,
    Category.OTHER: Severity.P2,
}

_SEVERITY_ORDER = [Severity.P0, Severity.P1, Severity.P2, Severity.P3]


def category_label(category: Category, locale: str = "zh_CN") -> str:
    return CATEGORY_LABELS.get(locale, CATEGORY_LABELS["zh_CN"])[category]


def raise_severity(
    severity: Severity | str, live_now: bool, starts_within_2h: bool
) -> Severity:
    """Raise by exactly one level (P3→P2, P2→P1, P1→P0) when the room is live now or its
    next stream starts within 2 hours; both being true still raises one level only.
    P0 stays P0; with neither flag the severity is returned unchanged."""
    sev = Severity(severity)
    if not (live_now or starts_within_2h):
        return sev
    index = _SEVERITY_ORDER.index(sev)
    return _SEVERITY_ORDER[max(0, index - 1)]
