from __future__ import annotations

import pytest

from bot.cards import BUDGET_ELEMENTS, Button, Card, CardTooLarge, Input, count_elements, escape_md, fits


def test_card_json_2_shape():
    card = (Card("标题", template="red", subtitle="副").markdown("**x**").fields([("a", "1"), ("b", "2"), ("c", "3")])
            .buttons(Button("好", {"a": "x.y", "id": 1}, kind="primary")).hr()
            .form("f", [Input("cause", "原因")], Button("提交", {"a": "x.submit"}))).to_dict()
    assert card["schema"] == "2.0" and card["config"]["update_multi"] is True
    assert card["header"]["template"] == "red"
    button = card["body"]["elements"][3]["columns"][0]["elements"][0]
    assert button["behaviors"] == [{"type": "callback", "value": {"a": "x.y", "id": 1}}]
    form = card["body"]["elements"][-1]
    assert form["tag"] == "form" and form["elements"][-1]["form_action_type"] == "submit"


def test_button_value_must_be_an_object():
    with pytest.raises(TypeError):
        Button("x", "not-an-object").to_dict()  # type: ignore[arg-type]


def test_size_limit():
    with pytest.raises(CardTooLarge):
        Card("big").markdown("字" * 12000).to_dict(strict=True)
    cut = Card("big").markdown("字" * 12000).to_dict()  # cut, and says so
    assert "1" in cut["body"]["elements"][-1]["content"] and fits(cut)


def test_component_limit():
    card = Card("many")
    for i in range(201):
        card.markdown(str(i))
    with pytest.raises(CardTooLarge):
        card.to_dict(strict=True)
    cut = card.to_dict()
    assert fits(cut) and count_elements(cut) <= BUDGET_ELEMENTS
    assert "还有" in cut["body"]["elements"][-1]["content"]


def test_escape_md():
    assert escape_md("<at id=all></at> **x**") == "&lt;at id=all&gt;&lt;/at&gt; \\*\\*x\\*\\*"
