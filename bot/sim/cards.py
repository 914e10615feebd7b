"""Checks on interactive card JSON, as strict as Feishu where it matters to the bot.

JSON 2.0 (``"schema": "2.0"``): validated against the documented component schema
(cardschema.py: unknown tags and properties are refused, "传入不支持的属性将报错"),
``update_multi`` may only be true (and defaults to true). JSON 1.0 cards (top-level
``elements``) are accepted; there ``update_multi`` defaults to false. Both: at most 200 elements
counting every tagged object, ``plain_text`` included ("卡片 JSON 2.0 结构" / issue 13), and a
request body of at most 30 KB ("更新已发送的消息卡片": 卡片及富文本消息请求体最大不能超过30KB —
checked on the HTTP body by the Open API), callback button values must be objects.
"""
from __future__ import annotations

from typing import Any, Iterator

from .cardschema import CardError, count_elements, validate_v2

MAX_CARD_BYTES = 30 * 1024
MAX_ELEMENTS = 200
MAX_COMPONENTS = MAX_ELEMENTS  # the old name


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if isinstance(node.get("tag"), str):
            yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def _roots(card: dict[str, Any]) -> list[Any]:
    if card.get("schema") == "2.0":
        body = card.get("body") or {}
        return [body.get("elements", [])]
    roots: list[Any] = [card.get("elements", [])]
    for key, value in card.items():
        if key.startswith("i18n_elements"):
            roots.append(value)
    return roots


def check_card(card: Any, raw_size: int | None = None) -> None:
    """Raise CardError with a reason (and the path) when Feishu would refuse this card."""
    if not isinstance(card, dict):
        raise CardError("card content must be a JSON object")
    if raw_size is not None and raw_size > MAX_CARD_BYTES:
        raise CardError(f"card is {raw_size} bytes, over the 30 KB limit")
    if card.get("type") == "template":
        if not isinstance(card.get("data"), dict):
            raise CardError("template card needs a data object")
        return
    config = card.get("config", {})
    if not isinstance(config, dict):
        raise CardError("config must be an object")
    if "schema" in card:
        if card["schema"] != "2.0":
            raise CardError(f"unsupported card schema {card['schema']!r}")
        body = card.get("body")
        if not isinstance(body, dict) or not isinstance(body.get("elements"), list):
            raise CardError("JSON 2.0 card needs body.elements as an array")
        validate_v2(card)
        if config.get("update_multi", True) is not True:
            raise CardError("JSON 2.0 cards only support update_multi: true")
    elif "elements" in card and not isinstance(card["elements"], list):
        raise CardError("elements must be an array")
    else:
        for root in _roots(card):
            for node in _walk(root):
                if node["tag"] == "button":
                    _check_button(node)
    count = count_elements(card)
    if count > MAX_ELEMENTS:
        raise CardError(f"card has {count} elements (every element counts, plain_text included), "
                        f"over the limit of {MAX_ELEMENTS}")


def _check_button(node: dict[str, Any]) -> None:
    behaviors = node.get("behaviors")
    if behaviors is None:
        return
    if not isinstance(behaviors, list):
        raise CardError("button behaviors must be an array")
    for b in behaviors:
        if not isinstance(b, dict):
            raise CardError("button behavior must be an object")
        if b.get("type") == "callback" and not isinstance(b.get("value"), dict):
            raise CardError("callback behavior value must be an object")
        if b.get("type") == "open_url" and not isinstance(b.get("default_url"), str):
            raise CardError("open_url behavior needs default_url")


def is_shared(card: Any) -> bool:
    """update_multi: default true for JSON 2.0, false for 1.0."""
    if not isinstance(card, dict):
        return False
    config = card.get("config") or {}
    default = card.get("schema") == "2.0"
    return bool(config.get("update_multi", default)) if isinstance(config, dict) else default


def buttons(card: Any) -> list[dict[str, Any]]:
    """Every pressable button: [{"value", "name", "tag"}] (callback behaviors and 1.0 values)."""
    out: list[dict[str, Any]] = []
    if not isinstance(card, dict):
        return out
    for root in _roots(card):
        for node in _walk(root):
            if node["tag"] != "button":
                continue
            for b in node.get("behaviors") or []:
                if isinstance(b, dict) and b.get("type") == "callback":
                    out.append({"value": b.get("value"), "name": node.get("name"), "tag": "button"})
            if isinstance(node.get("value"), dict):
                out.append({"value": node["value"], "name": node.get("name"), "tag": "button"})
    return out
