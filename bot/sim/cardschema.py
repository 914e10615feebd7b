"""The documented JSON 2.0 card schema, as far as the bot uses it, and its validator.

"卡片 JSON 2.0 版本更新说明" (feishu-cards/card-json-v2-breaking-changes-release-notes):
"在 JSON 2.0 版本中，传入不支持的属性将报错" — so every property is checked against the
component's documented list, and an unknown tag is refused. Property lists come from the
JSON 2.0 component pages (feishu-cards/card-json-v2-components/...: 富文本 rich-text, 分栏
column-set, 按钮 button, 表单容器 form-container, 输入框 input, 下拉选择-单选 select_static,
折叠面板 collapsible-panel, 图表 chart, 分割线 hr) and larksuite/cli
skills/lark-im/references/card/components/*.md (the same lists, per component). Nesting:
"表单容器组件不可被内嵌在其它组件内，只可放在卡片根节点下", "折叠面板不支持内嵌表单容器",
column "不能放 form 和 table".

Components that Feishu documents but the bot does not use are recognised by tag and not
property-checked (the simulator only models what the bot sends); anything else is unknown.
"""
from __future__ import annotations

from typing import Any

COMMON = {"tag", "element_id", "margin"}
CONTAINER_LAYOUT = {"direction", "padding", "horizontal_spacing", "horizontal_align", "vertical_spacing",
                    "vertical_align"}

COMPONENTS: dict[str, set[str]] = {
    "markdown": {"content", "i18n_content", "text_align", "text_size", "icon"},
    "hr": set(),
    "column_set": {"columns", "flex_mode", "horizontal_spacing", "horizontal_align", "background_style",
                   "action"},
    "column": {"elements", "width", "weight", "background_style", "action"} | CONTAINER_LAYOUT,
    "button": {"text", "type", "size", "width", "behaviors", "icon", "hover_tips", "disabled",
               "disabled_tips", "confirm", "name", "form_action_type"},
    "form": {"name", "elements"} | CONTAINER_LAYOUT,
    "input": {"name", "required", "placeholder", "default_value", "label", "label_position", "input_type",
              "rows", "auto_resize", "max_rows", "max_length", "show_icon", "width", "disabled",
              "disabled_tips", "behaviors", "confirm"},
    "select_static": {"options", "name", "required", "type", "placeholder", "initial_option", "initial_index",
                      "width", "disabled", "behaviors", "confirm"},
    "collapsible_panel": {"header", "elements", "expanded", "background_color", "border"} | CONTAINER_LAYOUT,
    "chart": {"chart_spec", "aspect_ratio", "color_theme", "height", "preview"},
}
TEXTS: dict[str, set[str]] = {
    "plain_text": {"tag", "content", "i18n_content", "text_size", "text_color", "text_align", "lines"},
    "lark_md": {"tag", "content", "i18n_content"},
    "markdown": {"tag", "content", "i18n_content"},  # a collapsible panel title may be markdown
}
ICONS: dict[str, set[str]] = {
    "standard_icon": {"tag", "token", "color", "size"},
    "custom_icon": {"tag", "img_key", "size"},
}
# Documented JSON 2.0 tags the bot does not send: recognised, not property-checked.
OTHER_DOCUMENTED = {"div", "img", "img_combination", "table", "person", "person_list", "avatar",
                    "interactive_container", "select_person", "multi_select_static", "multi_select_person",
                    "date_picker", "picker_time", "picker_datetime", "select_img", "checker", "overflow",
                    "audio", "text_tag"}

TOP = {"schema", "config", "card_link", "header", "body"}
CONFIG = {"streaming_mode", "streaming_config", "summary", "locales", "enable_forward", "update_multi",
          "width_mode", "use_custom_translation", "enable_forward_interaction", "style"}
HEADER = {"title", "subtitle", "text_tag_list", "i18n_text_tag_list", "template", "icon", "ud_icon",
          "padding", "i18n_title", "i18n_subtitle"}
BODY = {"elements"} | CONTAINER_LAYOUT
BEHAVIOR = {"type", "value", "default_url", "pc_url", "ios_url", "android_url"}
CONFIRM = {"title", "text"}
OPTION = {"text", "value", "icon"}
PANEL_HEADER = {"title", "background_color", "width", "vertical_align", "padding", "icon", "icon_position",
                "icon_expanded_angle"}
BORDER = {"color", "corner_radius"}
ACTION = {"multi_url"}
URLS = {"url", "pc_url", "ios_url", "android_url"}
# property -> what kind of value it holds
TEXT_PROPS = {"text", "hover_tips", "disabled_tips", "placeholder", "label", "title", "subtitle"}
NO_FORM_INSIDE = {"column", "collapsible_panel", "form"}


class CardError(ValueError):
    """A card Feishu refuses; the message names the path."""


def _keys(obj: dict, allowed: set[str], what: str, path: str) -> None:
    for key in obj:
        if key not in allowed:
            raise CardError(f"unknown property {key!r} of {what} at {path} "
                            f"(JSON 2.0 rejects unsupported properties)")


def _obj(value: Any, path: str) -> dict:
    if not isinstance(value, dict):
        raise CardError(f"{path} must be an object")
    return value


def _text(value: Any, path: str) -> None:
    obj = _obj(value, path)
    tag = obj.get("tag")
    if tag not in TEXTS:
        raise CardError(f"{path} must be a text object (plain_text or lark_md), not {tag!r}")
    _keys(obj, TEXTS[tag], tag, path)
    if "content" in obj and not isinstance(obj["content"], str):
        raise CardError(f"{path}.content must be a string")


def _icon(value: Any, path: str) -> None:
    obj = _obj(value, path)
    tag = obj.get("tag")
    if tag not in ICONS:
        raise CardError(f"{path} must be standard_icon or custom_icon, not {tag!r}")
    _keys(obj, ICONS[tag], tag, path)


def _behaviors(value: Any, path: str) -> None:
    if not isinstance(value, list):
        raise CardError(f"{path} must be an array")
    for i, b in enumerate(value):
        p = f"{path}[{i}]"
        _keys(_obj(b, p), BEHAVIOR, "behavior", p)
        if b.get("type") == "callback" and not isinstance(b.get("value"), dict):
            raise CardError(f"{p}.value must be an object for a callback behavior")
        if b.get("type") == "open_url" and not isinstance(b.get("default_url"), str):
            raise CardError(f"{p} needs default_url for an open_url behavior")


def _elements(value: Any, path: str, parent: str) -> None:
    if not isinstance(value, list):
        raise CardError(f"{path} must be an array")
    for i, el in enumerate(value):
        component(el, f"{path}[{i}]", parent)


def component(el: Any, path: str, parent: str = "body") -> None:
    """Check one component (and everything inside it) against the documented schema."""
    obj = _obj(el, path)
    tag = obj.get("tag")
    if tag in OTHER_DOCUMENTED:
        return
    if tag not in COMPONENTS:
        raise CardError(f"unknown component tag {tag!r} at {path}")
    if tag == "form" and parent != "body":
        raise CardError(f"form at {path}: a form can only be placed at the card's root (body.elements)")
    _keys(obj, COMPONENTS[tag] | COMMON, tag, path)
    for key, value in obj.items():
        p = f"{path}.{key}"
        if key in TEXT_PROPS:
            _text(value, p)
        elif key == "icon":
            _icon(value, p)
        elif key == "behaviors":
            _behaviors(value, p)
        elif key == "confirm":
            _keys(_obj(value, p), CONFIRM, "confirm", p)
            for part in ("title", "text"):
                if part in value:
                    _text(value[part], f"{p}.{part}")
        elif key == "options":
            if not isinstance(value, list):
                raise CardError(f"{p} must be an array")
            for i, opt in enumerate(value):
                _keys(_obj(opt, f"{p}[{i}]"), OPTION, "option", f"{p}[{i}]")
                _text(opt.get("text"), f"{p}[{i}].text")
        elif key == "columns":
            if not isinstance(value, list):
                raise CardError(f"{p} must be an array")
            for i, col in enumerate(value):
                if _obj(col, f"{p}[{i}]").get("tag") != "column":
                    raise CardError(f"{p}[{i}]: a column_set holds only column")
                component(col, f"{p}[{i}]", "column_set")
        elif key == "elements":
            if tag in NO_FORM_INSIDE:
                _no_form(value, p, tag)
            _elements(value, p, tag)
        elif key == "header" and tag == "collapsible_panel":
            _keys(_obj(value, p), PANEL_HEADER, "panel header", p)
            for part, check in (("title", _text), ("icon", _icon)):
                if part in value:
                    check(value[part], f"{p}.{part}")
        elif key == "border":
            _keys(_obj(value, p), BORDER, "border", p)
        elif key == "action":
            _keys(_obj(value, p), ACTION, "action", p)
            if "multi_url" in value:
                _keys(_obj(value["multi_url"], f"{p}.multi_url"), URLS, "multi_url", f"{p}.multi_url")
        elif key == "chart_spec" and not isinstance(value, dict):
            raise CardError(f"{p} must be an object (a VChart spec)")


def _no_form(value: Any, path: str, tag: str) -> None:
    for i, el in enumerate(value if isinstance(value, list) else []):
        if isinstance(el, dict) and el.get("tag") == "form":
            raise CardError(f"form at {path}[{i}]: {tag} cannot hold a form")


def validate_v2(card: dict) -> None:
    """The whole JSON 2.0 card: top level, config, header, body and every component."""
    _keys(card, TOP, "card", "card")
    if "config" in card:
        _keys(_obj(card["config"], "config"), CONFIG, "config", "config")
    if "header" in card:
        header = _obj(card["header"], "header")
        _keys(header, HEADER, "header", "header")
        for part in ("title", "subtitle"):
            if part in header:
                _text(header[part], f"header.{part}")
        if "icon" in header:
            _icon(header["icon"], "header.icon")
    body = _obj(card.get("body"), "body")
    _keys(body, BODY, "body", "body")
    _elements(body.get("elements"), "body.elements", "body")


def count_elements(node: Any) -> int:
    """Every tagged object counts, text objects (plain_text) and icons included
    ("卡片 JSON 2.0 结构": at most 200 elements, every element counted)."""
    if isinstance(node, dict):
        own = 1 if isinstance(node.get("tag"), str) else 0
        return own + sum(count_elements(v) for k, v in node.items() if k != "chart_spec")
    if isinstance(node, list):
        return sum(count_elements(v) for v in node)
    return 0
