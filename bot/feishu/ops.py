"""Every Feishu write the bot makes through the outbox, declared once: its name (stored in
``outbox.op``), the Open API call, the request builder, the result parser, what is masked,
the rate-limit windows it counts against and (from bot.feishu.scopes) the scope it needs.

bot.outbox derives the ops it accepts (``outbox.OPS``) and what it masks from ``OPS`` here;
the sender (bot.sendcalls) builds, limits and parses every row through it. tests/test_ops.py
checks that every op's calls are in the scopes table and have a simulator route, and that every
op name used in the code is declared here. To add a Feishu write: one ``Op(...)`` below (its
path in bot.feishu.scopes.API_NEEDS, a route in bot/sim), then a typed helper on
``bot.outbox.Out``.

A builder is ``(row, target) → (method, path, paths, query, body)`` (``target``: the row's
target, or the id an "@key" target resolved to); a parser is ``(data, at) → result`` (what
later rows and callbacks need; "@key" targets resolve to the result's ``message_id``,
``chat_id`` or ``id``). Two ops are more than one call (bot.sendcalls ``perform``): ``urgent``
reads the chat's members first, ``send_file`` uploads then posts.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Callable

from bot.feishu import scopes

Request = tuple[str, str, dict, dict, Any]  # method, path (":param" style), paths, query, body
Builder = Callable[[Any, str], Request]
Parser = Callable[[dict, str], dict]

MESSAGES = "/open-apis/im/v1/messages"
MEMBERS = "/open-apis/im/v1/chats/:chat_id/members"
FILES = "/open-apis/im/v1/files"
SEND_API = f"POST {MESSAGES}"  # the API the briefing fan-out and most pages use
READ_MEMBERS = f"GET {MEMBERS}"
URGENT_KINDS = ("app", "sms", "phone")  # 发送应用内/短信/电话加急


def feishu_uuid(key: str) -> str:
    """Feishu's send dedupe id (≤ 50 chars), stable for one idempotency key."""
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def idempotency_uuid(key: str) -> str:
    """创建日程's idempotency_key for one outbox key, in the docs' UUID form (stable on retries)."""
    h = feishu_uuid(key)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


@dataclass(frozen=True)
class Op:
    name: str
    call: str  # "METHOD /open-apis/..." the request the builder makes (":param" style)
    build: Builder
    parse: Parser = lambda data, at: {}
    variants: tuple[str, ...] = ()  # other calls the builder may make instead (urgent_sms, urgent_phone)
    also: tuple[str, ...] = ()  # calls made besides it, each counted against its API's limits
    mask: tuple[str, ...] = ()  # payload fields masked (bot.privacy) before the row is stored
    per_message: bool = False  # counts against the 5-a-second window of the message it changes
    page: bool = False  # always the outbox's most urgent priority (bot.outbox PAGE)
    calls: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "calls", (self.call, *self.variants, *self.also))

    def request(self, row: Any, target: str) -> Request:
        return self.build(row, target)

    def api_keys(self, method: str, path: str) -> tuple[str, ...]:
        """The rate-limit keys (bot.sendlimits) of one request of this op."""
        return (f"{method} {path}", *self.also)

    def scopes(self) -> tuple[str, ...]:
        """The scopes Feishu accepts for the main call (bot.feishu.scopes)."""
        method, path = self.call.split(" ", 1)
        need = scopes.needs_for(method, path)
        return need.scopes if need is not None else ()


def content(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _users(ids: list[str]) -> list[dict]:
    return [{"type": "user", "user_id": i} for i in ids]


# -- builders --------------------------------------------------------------------------------
def _send(row, target) -> Request:
    p = row.payload
    return ("POST", MESSAGES, {}, {"receive_id_type": p.get("receive_id_type", "chat_id")},
            {"receive_id": target, "msg_type": p["msg_type"], "content": content(p["content"]),
             "uuid": feishu_uuid(row.key)})


def _reply(row, target) -> Request:
    p = row.payload
    return ("POST", f"{MESSAGES}/:message_id/reply", {"message_id": target}, {},
            {"msg_type": p["msg_type"], "content": content(p["content"]),
             "reply_in_thread": bool(p.get("reply_in_thread")), "uuid": feishu_uuid(row.key)})


def _urgent(row, target) -> Request:
    kind = row.payload.get("kind", "app")
    return ("PATCH", f"{MESSAGES}/:message_id/urgent_{kind}", {"message_id": target},
            {"user_id_type": "open_id"}, {"user_id_list": row.payload["user_ids"]})


def _create_chat(row, target) -> Request:
    body = {k: v for k, v in row.payload.items() if k in ("name", "description", "owner_id", "user_id_list",
                                                          "bot_id_list", "chat_mode", "chat_type")}
    return ("POST", "/open-apis/im/v1/chats", {}, {"user_id_type": "open_id", "set_bot_manager": "true",
                                                  "uuid": feishu_uuid(row.key)}, body)


def _send_file(row, target) -> Request:
    """The upload (bot.sendcalls then posts the file message with the file_key it returns)."""
    p = row.payload
    return ("POST", FILES, {}, {}, {"file_type": p.get("file_type", "stream"), "file_name": p["file_name"]})


def file_message(row, target: str, file_key: str) -> Request:
    """The second call of ``send_file``: the message carrying the uploaded file."""
    return ("POST", MESSAGES, {}, {"receive_id_type": row.payload.get("receive_id_type", "chat_id")},
            {"receive_id": target, "msg_type": "file", "content": json.dumps({"file_key": file_key}),
             "uuid": feishu_uuid(row.key)})


def _event_paths(row, target) -> dict:
    return {"calendar_id": row.payload["calendar_id"], "event_id": target}


# -- parsers ---------------------------------------------------------------------------------
def _message(data: dict, at: str) -> dict:
    return {"message_id": data.get("message_id", ""), "chat_id": data.get("chat_id", ""), "at": at}


def _task(data: dict, at: str) -> dict:
    task = data.get("task") or {}
    return {"guid": task.get("guid", ""), "url": task.get("url", ""), "id": task.get("guid", "")}


def _calendar(data: dict, at: str) -> dict:
    cid = (data.get("calendar") or {}).get("calendar_id", "")
    return {"id": cid, "calendar_id": cid}


def _event(data: dict, at: str) -> dict:
    ev = data.get("event") or {}
    return {"id": ev.get("event_id", ""), "event_id": ev.get("event_id", ""), "app_link": ev.get("app_link", "")}


_URGENT = f"PATCH {MESSAGES}/:message_id/urgent_"
_CAL = "/open-apis/calendar/v4/calendars"
_EV = f"{_CAL}/:calendar_id/events/:event_id"
_TASK = "/open-apis/task/v2/tasks"
_RECORD = "/open-apis/bitable/v1/apps/:app_token/tables/:table_id/records/:record_id"

DECLARED: tuple[Op, ...] = (
    # -- messages and chats ------------------------------------------------------------------
    Op("send", SEND_API, _send, _message, mask=("content",)),
    Op("reply", f"POST {MESSAGES}/:message_id/reply", _reply, _message, mask=("content",)),
    Op("patch", f"PATCH {MESSAGES}/:message_id", lambda row, target: (
        "PATCH", f"{MESSAGES}/:message_id", {"message_id": target}, {}, {"content": content(row.payload["content"])}),
       mask=("content",), per_message=True),
    Op("urgent", _URGENT + "app", _urgent, variants=(_URGENT + "sms", _URGENT + "phone"), also=(READ_MEMBERS,),
       mask=("content",), per_message=True, page=True),
    Op("create_chat", "POST /open-apis/im/v1/chats", _create_chat,
       lambda d, at: {"chat_id": d.get("chat_id", ""), "name": d.get("name", "")}),
    Op("add_members", f"POST {MEMBERS}", lambda row, target: (
        "POST", MEMBERS, {"chat_id": target}, {"member_id_type": "open_id", "succeed_type": "1"},
        {"id_list": row.payload["ids"]}),
       lambda d, at: {"invalid": d.get("invalid_id_list") or [], "missing": d.get("not_existed_id_list") or []}),
    Op("update_chat", "PUT /open-apis/im/v1/chats/:chat_id", lambda row, target: (
        "PUT", "/open-apis/im/v1/chats/:chat_id", {"chat_id": target}, {"user_id_type": "open_id"}, dict(row.payload))),
    Op("pin", "POST /open-apis/im/v1/pins", lambda row, target: (
        "POST", "/open-apis/im/v1/pins", {}, {}, {"message_id": target}), per_message=True),
    Op("send_file", f"POST {FILES}", _send_file, _message, also=(SEND_API,)),
    # -- Feishu Tasks v2 ---------------------------------------------------------------------
    Op("create_task", f"POST {_TASK}", lambda row, target: (
        "POST", _TASK, {}, {"user_id_type": "open_id"}, {**row.payload, "client_token": feishu_uuid(row.key)}), _task),
    Op("patch_task", f"PATCH {_TASK}/:guid", lambda row, target: (
        "PATCH", f"{_TASK}/:guid", {"guid": target}, {"user_id_type": "open_id"},
        {"task": row.payload["task"], "update_fields": row.payload["update_fields"]})),
    Op("add_task_members", f"POST {_TASK}/:guid/add_members", lambda row, target: (
        "POST", f"{_TASK}/:guid/add_members", {"guid": target}, {"user_id_type": "open_id"},
        {"members": row.payload["members"], "client_token": feishu_uuid(row.key)})),
    Op("remove_task_members", f"POST {_TASK}/:guid/remove_members", lambda row, target: (
        "POST", f"{_TASK}/:guid/remove_members", {"guid": target}, {"user_id_type": "open_id"},
        {"members": row.payload["members"]})),
    # -- the stream calendar (calendar/v4) ---------------------------------------------------
    Op("create_calendar", f"POST {_CAL}", lambda row, target: ("POST", _CAL, {}, {}, dict(row.payload)), _calendar),
    Op("calendar_acl", f"POST {_CAL}/:calendar_id/acls", lambda row, target: (
        "POST", f"{_CAL}/:calendar_id/acls", {"calendar_id": target}, {"user_id_type": "open_id"},
        {"role": row.payload.get("role", "reader"), "scope": {"type": "user", "user_id": row.payload["user_id"]}})),
    Op("create_event", f"POST {_CAL}/:calendar_id/events", lambda row, target: (
        "POST", f"{_CAL}/:calendar_id/events", {"calendar_id": target},
        {"idempotency_key": idempotency_uuid(row.key), "user_id_type": "open_id"}, row.payload["event"]), _event),
    Op("patch_event", f"PATCH {_EV}", lambda row, target: (
        "PATCH", _EV, _event_paths(row, target), {"user_id_type": "open_id"}, row.payload["event"])),
    Op("delete_event", f"DELETE {_EV}", lambda row, target: (
        "DELETE", _EV, _event_paths(row, target), {"need_notification": "true"}, None)),
    Op("add_attendees", f"POST {_EV}/attendees", lambda row, target: (
        "POST", f"{_EV}/attendees", _event_paths(row, target), {"user_id_type": "open_id"},
        {"attendees": _users(row.payload["user_ids"]), "need_notification": True})),
    Op("remove_attendees", f"POST {_EV}/attendees/batch_delete", lambda row, target: (
        "POST", f"{_EV}/attendees/batch_delete", _event_paths(row, target), {"user_id_type": "open_id"},
        {"delete_ids": _users(row.payload["user_ids"]), "need_notification": True})),
    # -- Bitable write-back ------------------------------------------------------------------
    Op("update_record", f"PUT {_RECORD}", lambda row, target: (
        "PUT", _RECORD, {"app_token": row.payload["app_token"], "table_id": row.payload["table_id"],
                         "record_id": target}, {"user_id_type": "open_id"}, {"fields": row.payload["fields"]})),
)
OPS: dict[str, Op] = {op.name: op for op in DECLARED}
NAMES: tuple[str, ...] = tuple(OPS)


def op_of(name: str) -> Op:
    op = OPS.get(name)
    if op is None:
        raise ValueError(f"cannot send op {name}")
    return op
