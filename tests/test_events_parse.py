"""Feishu envelopes to the bot's own types, and the long-connection feed."""
from __future__ import annotations

import json

from bot.feishu import events

BOT = "ou_bot"


def _msg(content: dict, msg_type="text", mentions=None, chat_type="group"):
    return {"schema": "2.0", "header": {"event_id": "e1", "event_type": "im.message.receive_v1"},
            "event": {"sender": {"sender_id": {"open_id": "ou_u"}, "sender_type": "user"},
                      "message": {"message_id": "om_1", "chat_id": "oc_1", "chat_type": chat_type,
                                  "message_type": msg_type, "content": json.dumps(content),
                                  "mentions": mentions or []}}}


def test_text_with_mentions():
    body = _msg({"text": "@_user_1 /角色 授予 @_user_2 运营"}, mentions=[
        {"key": "@_user_1", "id": {"open_id": BOT}, "name": "LiveOps"},
        {"key": "@_user_2", "id": {"open_id": "ou_w"}, "name": "小王"}])
    msg = events.parse(body, BOT)
    assert msg.bot_mentioned and msg.text == "/角色 授予 @小王 运营"
    assert [m.open_id for m in msg.mentions] == ["ou_w"]


def test_post_message():
    body = _msg({"title": "故障", "content": [[{"tag": "at", "user_id": BOT}, {"tag": "text", "text": " 推流断了"}],
                                             [{"tag": "img", "image_key": "img_1"}]]}, msg_type="post")
    msg = events.parse(body, BOT)
    assert msg.bot_mentioned and "推流断了" in msg.text and msg.image_keys == ("img_1",)


def test_file_message_and_lane():
    body = _msg({"file_key": "file_1", "file_name": "排期.csv"}, msg_type="file")
    msg = events.parse(body, BOT)
    assert msg.file_key == "file_1" and msg.file_name == "排期.csv"
    assert events.envelope_keys(body)[3] == "oc_1"


def test_card_action():
    body = {"schema": "2.0", "header": {"event_id": "e2", "event_type": "card.action.trigger"},
            "event": {"operator": {"open_id": "ou_u"}, "action": {"value": {"a": "x"}, "form_value": {"f": "1"}},
                      "context": {"open_message_id": "om_1", "open_chat_id": "oc_1"}, "token": "c-1"}}
    action = events.parse(body, BOT)
    assert action.value == {"a": "x"} and action.form_value == {"f": "1"} and action.chat_id == "oc_1"


def test_wrong_types_do_not_crash():
    body = _msg({"text": 5})
    body["event"]["message"]["mentions"] = "nope"
    body["event"]["message"]["content"] = "{not json"
    msg = events.parse(body, BOT)
    assert msg.text == ""


