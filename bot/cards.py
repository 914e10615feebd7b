"""A small builder for Feishu card JSON 2.0.

    Card("排期", template="blue").markdown("**今天** 3 场").buttons(
        Button("已完成", {"a": "cp.done", "id": 7}, kind="primary")).to_dict()

Limits (Feishu refuses the card otherwise): at most 200 elements, every tagged object counted,
``plain_text`` included ("卡片 JSON 2.0 结构"); a request body of at most 30 KB ("卡片及富文本消息
请求体最大不能超过30KB"), and the card travels as an escaped JSON string inside that body, so
it is measured that way. Cards stay under a budget with margin (``BUDGET_ELEMENTS``,
``BUDGET_BYTES``): ``to_dict()`` cuts what does not fit from the end of the content — never the
buttons and forms — and says so in a closing line ("还有 N 行没有显示", plus ``Card.more``, how to
see the rest). ``to_dict(strict=True)`` raises CardTooLarge instead, for builders that have a
better fallback of their own.
"""
from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

MAX_CARD_BYTES = 30 * 1024
MAX_COMPONENTS = 200
BUDGET_ELEMENTS = 180
BUDGET_BYTES = 27 * 1024  # of the card as the escaped "content" string; the rest of the body fits in 3 KB
INTERACTIVE = {"button", "form", "input", "select_static"}


class CardTooLarge(ValueError):
    pass


@dataclass
class Button:
    text: str
    value: dict
    kind: str = "default"  # default | primary | danger | primary_filled | danger_filled | text
    disabled: bool = False
    submit: bool = False  # a form's submit button
    name: str = ""
    confirm: tuple[str, str] | None = None  # (title, text)

    def to_dict(self) -> dict:
        if not isinstance(self.value, dict):
            raise TypeError("a button value must be an object")
        out: dict[str, Any] = {
            "tag": "button",
            "text": {"tag": "plain_text", "content": self.text},
            "type": self.kind,
            "behaviors": [{"type": "callback", "value": self.value}],
        }
        if self.disabled:
            out["disabled"] = True
        if self.submit:
            out["form_action_type"] = "submit"
        if self.name:
            out["name"] = self.name
        if self.confirm:
            out["confirm"] = {"title": {"tag": "plain_text", "content": self.confirm[0]},
                              "text": {"tag": "plain_text", "content": self.confirm[1]}}
        return out


@dataclass
class Input:
    name: str
    label: str
    placeholder: str = ""
    default: str = ""
    multiline: bool = False
    required: bool = False

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"tag": "input", "name": self.name,
                               "label": {"tag": "plain_text", "content": self.label},
                               "placeholder": {"tag": "plain_text", "content": self.placeholder or self.label}}
        if self.default:
            out["default_value"] = self.default
        if self.multiline:
            out["input_type"] = "multiline_text"
        if self.required:
            out["required"] = True
        return out


@dataclass
class Select:
    name: str
    placeholder: str
    options: list[tuple[str, str]]  # (label, value)
    default: str = ""

    def to_dict(self) -> dict:
        out: dict[str, Any] = {
            "tag": "select_static", "name": self.name,
            "placeholder": {"tag": "plain_text", "content": self.placeholder},
            "options": [{"text": {"tag": "plain_text", "content": label}, "value": value}
                        for label, value in self.options]}
        if self.default:
            out["initial_option"] = self.default
        return out


@dataclass
class Card:
    title: str
    template: str = "blue"
    subtitle: str = ""
    elements: list[dict] = field(default_factory=list)
    more: str = ""  # how to see what did not fit, e.g. "用 `/任务 全部` 查看"
    locale: str = ""  # of the closing "N more lines" note (default: the bot's default locale)

    def markdown(self, content: str) -> "Card":
        if content:
            self.elements.append({"tag": "markdown", "content": content})
        return self

    def fields(self, pairs: list[tuple[str, str]]) -> "Card":
        """Label/value pairs, two to a row."""
        rows = [pairs[i:i + 2] for i in range(0, len(pairs), 2)]
        for row in rows:
            self.elements.append({"tag": "column_set", "columns": [
                {"tag": "column", "width": "weighted", "weight": 1,
                 "elements": [{"tag": "markdown", "content": f"**{label}**\n{value}"}]}
                for label, value in row]})
        return self

    def hr(self) -> "Card":
        self.elements.append({"tag": "hr"})
        return self

    def note(self, content: str) -> "Card":
        self.elements.append({"tag": "markdown", "content": f"<font color='grey'>{content}</font>",
                              "text_size": "notation"})
        return self

    def buttons(self, *buttons: Button) -> "Card":
        if buttons:
            self.elements.append({"tag": "column_set", "flex_mode": "flow", "columns": [
                {"tag": "column", "width": "auto", "elements": [b.to_dict()]} for b in buttons]})
        return self

    def form(self, name: str, items: list[Input | Select], submit: Button) -> "Card":
        submit.submit = True
        submit.name = submit.name or f"{name}_submit"
        self.elements.append({"tag": "form", "name": name,
                              "elements": [i.to_dict() for i in items] + [submit.to_dict()]})
        return self

    def chart(self, spec: dict, height: str = "auto", aspect_ratio: str = "") -> "Card":
        """A Feishu chart element: ``spec`` is a VChart spec (no functions in it)."""
        element = {"tag": "chart", "chart_spec": spec, "height": height}
        if aspect_ratio:
            element["aspect_ratio"] = aspect_ratio  # 1:1 | 2:1 | 4:3 | 16:9
        self.elements.append(element)
        return self

    def panel(self, title: str, content: str, expanded: bool = False) -> "Card":
        self.elements.append({"tag": "collapsible_panel", "expanded": expanded,
                              "header": {"title": {"tag": "plain_text", "content": title}},
                              "elements": [{"tag": "markdown", "content": content}]})
        return self

    def _dict(self, elements: list[dict]) -> dict:
        header: dict[str, Any] = {"title": {"tag": "plain_text", "content": self.title},
                                  "template": self.template}
        if self.subtitle:
            header["subtitle"] = {"tag": "plain_text", "content": self.subtitle}
        return {"schema": "2.0", "config": {"update_multi": True, "width_mode": "fill"},
                "header": header, "body": {"elements": elements}}

    def to_dict(self, *, strict: bool = False) -> dict:
        card = self._dict(self.elements)
        if fits(card):
            return card
        if strict:
            check(card)  # over Feishu's own limits: say which
            raise CardTooLarge(f"card is over the budget ({count_elements(card)} elements, "
                               f"{wire_size(card)} bytes on the wire)")
        card = self._dict(self._trimmed())
        check(card)
        return card

    def _note(self, hidden: int) -> dict:
        from bot.i18n import t

        text = t(self.locale or None, "card.more_lines", n=hidden) + (" " + self.more if self.more else "")
        return {"tag": "markdown", "content": f"<font color='grey'>{text}</font>", "text_size": "notation"}

    def _trimmed(self) -> list[dict]:
        """Cut content from the end (lines of markdown first, then whole elements) until the
        card fits with a closing note that counts what was left out; buttons and forms stay."""
        elements = copy.deepcopy(self.elements)
        hidden = 0
        while True:
            idx = next((i for i in range(len(elements) - 1, -1, -1) if not _interactive(elements[i])), None)
            if idx is None:
                raise CardTooLarge("the card's buttons and forms alone are over Feishu's limits")
            el = elements[idx]
            lines = el["content"].split("\n") if el.get("tag") == "markdown" and isinstance(
                el.get("content"), str) else []

            def attempt(keep: int, el=el, lines=lines, idx=idx, hidden=hidden) -> list[dict]:
                part = dict(el, content="\n".join(lines[:keep]))
                return elements[:idx] + [part, self._note(hidden + len(lines) - keep)] + elements[idx + 1:]

            if len(lines) > 1 and fits(self._dict(attempt(1))):
                lo, hi = 1, len(lines) - 1  # the most lines that fit
                while lo < hi:
                    mid = (lo + hi + 1) // 2
                    lo, hi = (mid, hi) if fits(self._dict(attempt(mid))) else (lo, mid - 1)
                return attempt(lo)
            hidden += max(1, len(lines))
            del elements[idx]
            with_note = elements[:idx] + [self._note(hidden)] + elements[idx:]
            if fits(self._dict(with_note)):
                return with_note


def _interactive(el: Any) -> bool:
    if isinstance(el, dict):
        return el.get("tag") in INTERACTIVE or any(_interactive(v) for v in el.values())
    if isinstance(el, list):
        return any(_interactive(v) for v in el)
    return False


def count_elements(node: Any) -> int:
    """Every tagged object counts, text objects and icons included, as Feishu counts them."""
    if isinstance(node, dict):
        own = 1 if isinstance(node.get("tag"), str) else 0
        return own + sum(count_elements(v) for k, v in node.items() if k != "chart_spec")
    if isinstance(node, list):
        return sum(count_elements(v) for v in node)
    return 0


def wire_size(card: dict) -> int:
    """Bytes of the card as sent: a JSON string (quotes and newlines escaped) in the body."""
    return len(json.dumps(json.dumps(card, ensure_ascii=False), ensure_ascii=False).encode("utf-8"))


def fits(card: dict) -> bool:
    inner = json.dumps(card, ensure_ascii=False)
    if len(json.dumps(inner, ensure_ascii=False).encode("utf-8")) > BUDGET_BYTES:
        return False
    # Counted in the JSON text (every card is checked when it is built, a reminder's on every
    # firing), where _TAG is exactly a "tag" key with a string value: a key opens an object or
    # follows ", ", and a quote inside any string is escaped, so no string can hold the match. A
    # chart's spec is left out of the count, so a card with one is walked.
    count = count_elements(card) if '"chart_spec": ' in inner else len(_TAG.findall(inner))
    return count <= BUDGET_ELEMENTS


_TAG = re.compile(r'(?:\{|, )"tag": "')


def check(card: dict) -> None:
    """Raise CardTooLarge when Feishu itself would refuse the card."""
    size = wire_size(card)
    if size > MAX_CARD_BYTES:
        raise CardTooLarge(f"card is {size} bytes, over the {MAX_CARD_BYTES} limit")
    if count_elements(card) > MAX_COMPONENTS:
        raise CardTooLarge("card has more than 200 elements")


def escape_md(text: str) -> str:
    """Keep user text from being read as card markdown or mentions."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("*", "\\*").replace("_", "\\_").replace("~", "\\~").replace("`", "\\`")
            .replace("[", "\\[").replace("]", "\\]"))
