"""Request builders and result parsers of the Feishu-native outbox ops (issue 17, used by
bot.sender): the stream calendar (calendar/v4), Tasks v2 changes and Bitable write-back.

One builder per op: ``(row, target) → (method, path, paths, query, body)``; one parser per op
whose result another row may refer to ("@key" targets resolve to the result's ``id``).
"""
from __future__ import annotations

from typing import Any, Callable

from bot.outbox import feishu_uuid
from bot.store.models import OutboxMessage


def idempotency_uuid(key: str) -> str:
    """创建日程's idempotency_key for one outbox key, in the docs' UUID form (stable on retries)."""
    h = feishu_uuid(key)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _users(ids: list[str]) -> list[dict]:
    return [{"type": "user", "user_id": i} for i in ids]


NATIVE_REQUESTS: dict[str, Callable[[OutboxMessage, str], tuple[str, str, dict, dict, Any]]] = {
    "create_calendar": lambda row, target: ("POST", "/open-apis/calendar/v4/calendars", {}, {},
                                            dict(row.payload)),
    "calendar_acl": lambda row, target: (
        "POST", "/open-apis/calendar/v4/calendars/:calendar_id/acls", {"calendar_id": target},
        {"user_id_type": "open_id"}, {"role": row.payload.get("role", "reader"),
                                      "scope": {"type": "user", "user_id": row.payload["user_id"]}}),
    "create_event": lambda row, target: (
        "POST", "/open-apis/calendar/v4/calendars/:calendar_id/events", {"calendar_id": target},
        {"idempotency_key": idempotency_uuid(row.key), "user_id_type": "open_id"}, row.payload["event"]),
    "patch_event": lambda row, target: (
        "PATCH", "/open-apis/calendar/v4/calendars/:calendar_id/events/:event_id",
        {"calendar_id": row.payload["calendar_id"], "event_id": target}, {"user_id_type": "open_id"},
        row.payload["event"]),
    "delete_event": lambda row, target: (
        "DELETE", "/open-apis/calendar/v4/calendars/:calendar_id/events/:event_id",
        {"calendar_id": row.payload["calendar_id"], "event_id": target}, {"need_notification": "true"}, None),
    "add_attendees": lambda row, target: (
        "POST", "/open-apis/calendar/v4/calendars/:calendar_id/events/:event_id/attendees",
        {"calendar_id": row.payload["calendar_id"], "event_id": target}, {"user_id_type": "open_id"},
        {"attendees": _users(row.payload["user_ids"]), "need_notification": True}),
    "remove_attendees": lambda row, target: (
        "POST", "/open-apis/calendar/v4/calendars/:calendar_id/events/:event_id/attendees/batch_delete",
        {"calendar_id": row.payload["calendar_id"], "event_id": target}, {"user_id_type": "open_id"},
        {"delete_ids": _users(row.payload["user_ids"]), "need_notification": True}),
    "patch_task": lambda row, target: (
        "PATCH", "/open-apis/task/v2/tasks/:guid", {"guid": target}, {"user_id_type": "open_id"},
        {"task": row.payload["task"], "update_fields": row.payload["update_fields"]}),
    "add_task_members": lambda row, target: (
        "POST", "/open-apis/task/v2/tasks/:guid/add_members", {"guid": target}, {"user_id_type": "open_id"},
        {"members": row.payload["members"], "client_token": feishu_uuid(row.key)}),
    "remove_task_members": lambda row, target: (
        "POST", "/open-apis/task/v2/tasks/:guid/remove_members", {"guid": target}, {"user_id_type": "open_id"},
        {"members": row.payload["members"]}),
    "update_record": lambda row, target: (
        "PUT", "/open-apis/bitable/v1/apps/:app_token/tables/:table_id/records/:record_id",
        {"app_token": row.payload["app_token"], "table_id": row.payload["table_id"], "record_id": target},
        {"user_id_type": "open_id"}, {"fields": row.payload["fields"]}),
}
NATIVE_RESULTS: dict[str, Callable[[dict], dict]] = {
    "create_calendar": lambda d: {"id": (d.get("calendar") or {}).get("calendar_id", ""),
                                  "calendar_id": (d.get("calendar") or {}).get("calendar_id", "")},
    "create_event": lambda d: {"id": (d.get("event") or {}).get("event_id", ""),
                               "event_id": (d.get("event") or {}).get("event_id", ""),
                               "app_link": (d.get("event") or {}).get("app_link", "")},
}
