"""A small builder for Feishu card JSON 2.0.

    Card("排期", template="blue").markdown("**今天** 3 场").buttons(
        Button("已完成", {"a": "cp.done", "id": 7}, kind="primary")).to_dict()
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

MAX_CARD_BYTES = 30 * 1024
MAX_COMPONENTS = 200


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

    def to_dict(self) -> dict:
        header: dict[str, Any] = {"title": {"tag": "plain_text", "content": self.title},
                                  "template": self.template}
        if self.subtitle:
            header["subtitle"] = {"tag": "plain_text", "content": self.subtitle}
        card = {"schema": "2.0", "config": {"update_multi": True, "width_mode": "fill"},
                "header": header, "body": {"elements": self.elements}}
        check(card)
        return card


def check(card: dict) -> None:
    size = len(json.dumps(card, ensure_ascii=False).encode("utf-8"))
    if size > MAX_CARD_BYTES:
        raise CardTooLarge(f"card is {size} bytes, over the {MAX_CARD_BYTES} limit")
    if _count(card.get("body", {}).get("elements", [])) > MAX_COMPONENTS:
        raise CardTooLarge("card has more than 200 components")


def _count(elements: list) -> int:
    total = 0
    for el in elements:
        if not isinstance(el, dict):
            continue
        total += 1
        for key in ("elements", "columns"):
            if isinstance(el.get(key), list):
                total += _count(el[key])
    return total


def escape_md(text: str) -> str:
    """Keep user text from being read as card markdown or mentions."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("*", "\\*").replace("_", "\\_").replace("~", "\\~").replace("`", "\\`")
            .replace("[", "\\[").replace("]", "\\]"))
