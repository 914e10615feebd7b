"""Open API: Feishu Calendar (calendar/v4) as the bot uses it — a shared calendar the app
creates and owns, its access control (who may see it), and events with attendees.

Rules, each from the doc page named (open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/...):

* 创建共享日历 calendar-v4/calendar/create: POST /calendar/v4/calendars creates a shared
  calendar for the calling identity (the app, with a tenant token), which "会自动订阅该日历";
  ``summary`` and ``description`` at most 255 characters; ``permissions`` private |
  show_only_free_busy (default) | public. It has no idempotency key.
* 访问控制资源介绍 calendar-v4/calendar-acl/introduction: an ACL gives ONE user a role
  (free_busy_reader, reader, writer, owner); ``scope.type`` only ``user``, with ``user_id``.
  The answer carries ``acl_id`` ("user_<n>").
* 创建日程 calendar-v4/calendar-event/create: POST .../calendars/:calendar_id/events with an
  ``idempotency_key`` query parameter (lark-oapi 1.7.5 CreateCalendarEventRequest); the same key
  on the same calendar answers the event it already created instead of creating another.
  ``start_time`` / ``end_time`` are ``{"timestamp": "<seconds>", "timezone"}`` (or ``date``
  for all-day), ``reminders`` ``[{"minutes": n}]`` (larksuite/cli shortcuts/calendar
  calendar_create.go builds exactly these).
* 添加日程参与人 calendar-v4/calendar-event-attendee/create: the identity needs writer/owner
  on a primary or shared calendar and must be the organizer; "新添加的日程参与人必须与日程组织者在
  同一个企业内"; "每个日程最多只能有 3000 名参与人".
* Every API: "接口频率限制 1000 次/分钟、50 次/秒" (checked per API by the common wrapper).

Error codes: the calendar error table was not in the searchable docs; the codes used here
(190002 invalid parameters, 191000 calendar not found, 191002 no permission on the calendar,
193001 event not found, 193003 event deleted, 195100 user not in the tenant) are modelled on it
and marked so; every refusal is HTTP 400 like Feishu's other business errors.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
import uuid as uuidlib

from aiohttp import web

from .apibase import ApiBase, ApiError, Call, ok
from .state import now_ms, random_hex

if TYPE_CHECKING:
    from .apibase import Handler

MAX_CAL_TEXT = 255  # 创建共享日历: summary / description 最大长度 255 字符
MAX_EVENT_SUMMARY = 1000  # 创建日程 summary (modelled)
MAX_ATTENDEES = 3000  # 添加日程参与人: 每个日程最多只能有 3000 名参与人
PERMISSIONS = ("private", "show_only_free_busy", "public")
ROLES = ("free_busy_reader", "reader", "writer", "owner")


@dataclass
class CalendarStore:
    """The tenant's calendars and events (the simulator's world for calendar/v4)."""

    calendars: dict[str, dict[str, Any]] = field(default_factory=dict)
    acls: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # calendar_id -> ACLs
    events: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # calendar_id -> event_id -> event
    attendees: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # event_id -> attendees
    keys: dict[tuple[str, str], str] = field(default_factory=dict)  # (calendar_id, idempotency_key) -> event_id
    history: list[dict[str, Any]] = field(default_factory=list)  # hand edits, for /_sim

    def all_events(self) -> list[dict[str, Any]]:
        return [e for cal in self.events.values() for e in cal.values()]


def _bad(msg: str) -> ApiError:
    return ApiError(190002, f"invalid parameters in request: {msg}")  # modelled code


class CalendarApi(ApiBase):
    @property
    def cal(self) -> CalendarStore:
        return self.sim.calendar

    def calendar_routes(self, p: str) -> list[tuple[str, str, "Handler", bool]]:
        c = f"{p}/calendar/v4/calendars"
        e = f"{c}/{{calendar_id}}/events"
        return [
            ("POST", c, self.create_calendar, True),
            ("GET", f"{c}/{{calendar_id}}", self.get_calendar, True),
            ("POST", f"{c}/{{calendar_id}}/acls", self.create_acl, True),
            ("POST", e, self.create_event, True),
            ("GET", e, self.list_events, True),
            ("GET", f"{e}/{{event_id}}", self.get_event, True),
            ("PATCH", f"{e}/{{event_id}}", self.patch_event, True),
            ("DELETE", f"{e}/{{event_id}}", self.delete_event, True),
            ("POST", f"{e}/{{event_id}}/attendees", self.add_attendees, True),
            ("POST", f"{e}/{{event_id}}/attendees/batch_delete", self.delete_attendees, True),
        ]

    # -- calendars ----------------------------------------------------------------------------
    def _calendar(self, call: Call) -> dict[str, Any]:
        cal = self.cal.calendars.get(call.request.match_info["calendar_id"])
        if cal is None:
            raise ApiError(191000, "calendar not found")  # modelled code
        if cal["is_deleted"]:
            raise ApiError(191000, "calendar not found")
        return cal

    async def create_calendar(self, call: Call) -> web.Response:
        body = call.body if isinstance(call.body, dict) else {}
        summary = body.get("summary", "")
        description = body.get("description", "")
        permissions = body.get("permissions", "show_only_free_busy")
        if not isinstance(summary, str) or len(summary) > MAX_CAL_TEXT:
            raise _bad("summary must be a string of at most 255 characters")
        if not isinstance(description, str) or len(description) > MAX_CAL_TEXT:
            raise _bad("description must be a string of at most 255 characters")
        if permissions not in PERMISSIONS:
            raise _bad(f"permissions must be one of {', '.join(PERMISSIONS)}")
        calendar_id = f"feishu.cn_{random_hex(22)}@group.calendar.feishu.cn"
        cal = {"calendar_id": calendar_id, "summary": summary, "description": description,
               "permissions": permissions, "color": int(body.get("color") or -1), "type": "shared",
               "summary_alias": str(body.get("summary_alias") or ""), "is_deleted": False,
               "is_third_party": False, "role": "owner"}
        self.cal.calendars[calendar_id] = cal
        self.cal.events[calendar_id] = {}
        self.cal.acls[calendar_id] = []
        self.sim.stats["calendars_created"] += 1
        self.sim.notify()
        return ok({"calendar": cal})

    async def get_calendar(self, call: Call) -> web.Response:
        return ok(dict(self._calendar(call)))

    async def create_acl(self, call: Call) -> web.Response:
        cal = self._calendar(call)
        role = call.field("role", str)
        scope = call.field("scope", dict)
        if role not in ROLES:
            raise _bad(f"role must be one of {', '.join(ROLES)}")
        if scope.get("type") != "user":  # 访问控制: 目前只支持选择 user
            raise _bad("scope.type must be user")
        id_type = call.query.get("user_id_type", "open_id")
        user = self._user(scope.get("user_id"), id_type)
        if user is None:
            raise ApiError(195100, "user is dismissed or not exist")  # modelled code
        acls = self.cal.acls[cal["calendar_id"]]
        for acl in acls:
            if acl["scope"]["user_id"] == user.open_id:
                acl["role"] = role
                return ok(acl)
        acl = {"acl_id": f"user_{7000000000000000000 + len(acls) + 1}", "role": role,
               "scope": {"type": "user", "user_id": self._id_of(user, id_type)}}
        acls.append(acl)
        self.sim.notify()
        return ok(acl)

    # -- events -------------------------------------------------------------------------------
    def _time(self, value: Any, name: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _bad(f"{name} is required")
        if "timestamp" in value:
            try:
                seconds = int(value["timestamp"])
            except (TypeError, ValueError):
                raise _bad(f"{name}.timestamp must be seconds") from None
            return {"timestamp": str(seconds), "timezone": str(value.get("timezone") or "Asia/Shanghai")}
        if isinstance(value.get("date"), str):
            return {"date": value["date"]}
        raise _bad(f"{name} needs timestamp or date")

    @staticmethod
    def _seconds(t: dict[str, Any]) -> int:
        return int(t.get("timestamp") or 0)

    def _apply(self, event: dict[str, Any], body: dict[str, Any], names: list[str]) -> None:
        for name in names:
            value = body[name]
            if name == "summary":
                if not isinstance(value, str) or len(value) > MAX_EVENT_SUMMARY:
                    raise _bad("summary must be a string of at most 1000 characters")
            elif name == "description" and not isinstance(value, str):
                raise _bad("description must be a string")
            elif name in ("start_time", "end_time"):
                value = self._time(value, name)
            elif name == "reminders":
                if not isinstance(value, list) or not all(
                        isinstance(r, dict) and isinstance(r.get("minutes"), int) and -20160 <= r["minutes"] <= 20160
                        for r in value):
                    raise _bad("reminders are [{minutes}] within ±20160")
                value = [{"minutes": r["minutes"]} for r in value]
            event[name] = value
        if self._seconds(event["end_time"]) < self._seconds(event["start_time"]):
            raise _bad("end_time is before start_time")

    EDITABLE = ("summary", "description", "start_time", "end_time", "reminders", "visibility",
                "attendee_ability", "free_busy_status", "color", "need_notification")

    async def create_event(self, call: Call) -> web.Response:
        cal = self._calendar(call)
        calendar_id = cal["calendar_id"]
        key = call.query.get("idempotency_key")
        if key:
            found = self.cal.keys.get((calendar_id, key))
            if found and found in self.cal.events[calendar_id]:
                self.sim.stats["uuid_dedupe_hits"] += 1
                return ok({"event": self._view(self.cal.events[calendar_id][found])})
        body = call.body if isinstance(call.body, dict) else {}
        if "start_time" not in body or "end_time" not in body:
            raise _bad("start_time and end_time are required")
        event_id = f"{uuidlib.uuid4()}_0"
        event: dict[str, Any] = {
            "event_id": event_id, "organizer_calendar_id": calendar_id, "summary": "", "description": "",
            "visibility": "default", "attendee_ability": "none", "free_busy_status": "busy", "color": -1,
            "reminders": [], "status": "confirmed", "is_exception": False, "recurrence": "",
            "create_time": str(now_ms() // 1000),
            "app_link": f"https://applink.feishu.cn/client/calendar/event/detail?calendarId={calendar_id}"
                        f"&key={event_id[:-2]}&originalTime=0",
        }
        event.update({"start_time": {}, "end_time": {}})
        names = [n for n in self.EDITABLE if n in body and n != "need_notification"]
        self._apply(event, body, names)
        self.cal.events[calendar_id][event_id] = event
        self.cal.attendees[event_id] = []
        if key:
            self.cal.keys[(calendar_id, key)] = event_id
        self.sim.stats["calendar_events_created"] += 1
        self.sim.notify()
        return ok({"event": self._view(event)})

    def _view(self, event: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in event.items() if not k.startswith("_")}

    def _event(self, call: Call) -> tuple[dict[str, Any], dict[str, Any]]:
        cal = self._calendar(call)
        event = self.cal.events[cal["calendar_id"]].get(call.request.match_info["event_id"])
        if event is None:
            raise ApiError(193001, "event not found")  # modelled code
        return cal, event

    async def get_event(self, call: Call) -> web.Response:
        _cal, event = self._event(call)
        return ok({"event": self._view(event)})

    async def list_events(self, call: Call) -> web.Response:
        """Events of the calendar (cancelled ones included, ``status: cancelled``), optionally
        those overlapping [start_time, end_time] (seconds)."""
        cal = self._calendar(call)
        items = list(self.cal.events[cal["calendar_id"]].values())
        try:
            start = int(call.query["start_time"]) if "start_time" in call.query else None
            end = int(call.query["end_time"]) if "end_time" in call.query else None
        except ValueError:
            raise _bad("start_time / end_time are seconds") from None
        if start is not None:
            items = [e for e in items if self._seconds(e["end_time"]) >= start]
        if end is not None:
            items = [e for e in items if self._seconds(e["start_time"]) <= end]
        items.sort(key=lambda e: self._seconds(e["start_time"]))
        page = self._page(call, [self._view(e) for e in items])
        return ok({"has_more": page["has_more"], "page_token": page["page_token"], "items": page["items"],
                   "sync_token": ""})

    async def patch_event(self, call: Call) -> web.Response:
        _cal, event = self._event(call)
        if event["status"] == "cancelled":
            raise ApiError(193003, "event is deleted")  # modelled code
        body = call.body if isinstance(call.body, dict) else {}
        names = [n for n in self.EDITABLE if n in body and n != "need_notification"]
        changed = dict(event)
        self._apply(changed, body, names)
        event.update(changed)
        self.sim.notify()
        return ok({"event": self._view(event)})

    async def delete_event(self, call: Call) -> web.Response:
        """删除日程: the event is cancelled for everyone (it stays readable with status cancelled)."""
        _cal, event = self._event(call)
        if event["status"] == "cancelled":
            raise ApiError(193003, "event is deleted")
        event["status"] = "cancelled"
        self.sim.notify()
        return ok({})

    async def add_attendees(self, call: Call) -> web.Response:
        cal, event = self._event(call)
        if cal["role"] not in ("writer", "owner") or cal["type"] not in ("primary", "shared"):
            raise ApiError(191002, "no permission to access this calendar")  # modelled code
        id_type = call.query.get("user_id_type", "open_id")
        wanted = call.field("attendees", list)
        current = self.cal.attendees.setdefault(event["event_id"], [])
        added = []
        for item in wanted:
            if not isinstance(item, dict) or item.get("type", "user") != "user":
                raise _bad("attendees are {type: user, user_id}")
            user = self._user(item.get("user_id"), id_type)
            if user is None:  # 新添加的日程参与人必须与日程组织者在同一个企业内
                raise ApiError(195100, "user is dismissed or not exist")
            if any(a["user_id"] == user.open_id for a in current):
                continue
            if len(current) >= MAX_ATTENDEES:
                raise _bad("an event has at most 3000 attendees")
            attendee = {"type": "user", "attendee_id": f"user_{random_hex(16)}", "rsvp_status": "needs_action",
                        "is_optional": bool(item.get("is_optional")), "is_organizer": False,
                        "is_external": False, "display_name": user.name, "user_id": user.open_id}
            current.append(attendee)
            added.append(attendee)
        self.sim.notify()
        return ok({"attendees": added})

    async def delete_attendees(self, call: Call) -> web.Response:
        _cal, event = self._event(call)
        body = call.body if isinstance(call.body, dict) else {}
        ids = body.get("attendee_ids") or []
        delete_ids = body.get("delete_ids") or []
        if not isinstance(ids, list) or not isinstance(delete_ids, list):
            raise _bad("attendee_ids / delete_ids must be lists")
        users = {d.get("user_id") for d in delete_ids if isinstance(d, dict) and d.get("type") == "user"}
        current = self.cal.attendees.setdefault(event["event_id"], [])
        current[:] = [a for a in current if a["attendee_id"] not in ids and a["user_id"] not in users]
        self.sim.notify()
        return ok({})


# -- /_sim: what a person sees and does in the Feishu calendar -----------------------------------

def events_view(sim: Any) -> list[dict[str, Any]]:
    out = []
    for calendar_id, events in sim.calendar.events.items():
        cal = sim.calendar.calendars[calendar_id]
        for event in events.values():
            out.append({**event, "calendar_id": calendar_id, "calendar": cal["summary"],
                        "attendees": [a["user_id"] for a in sim.calendar.attendees.get(event["event_id"], [])]})
    return sorted(out, key=lambda e: (int(e["start_time"].get("timestamp") or 0), e["event_id"]))


def hand_edit(sim: Any, event_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Someone with edit rights moves or retitles an event in the calendar app (no API call)."""
    from .state import SimError

    for calendar_id, events in sim.calendar.events.items():
        event = events.get(event_id)
        if event is None:
            continue
        for name in ("summary", "description"):
            if name in changes:
                if not isinstance(changes[name], str):
                    raise SimError(f"{name} must be a string")
                event[name] = changes[name]
        for name in ("start_time", "end_time"):
            if name in changes:
                try:
                    event[name] = {"timestamp": str(int(changes[name])),
                                   "timezone": event[name].get("timezone", "Asia/Shanghai")}
                except (TypeError, ValueError):
                    raise SimError(f"{name} must be seconds since the epoch") from None
        if changes.get("status") == "cancelled":
            event["status"] = "cancelled"
        sim.calendar.history.append({"event_id": event_id, "changes": dict(changes)})
        sim.notify()
        return {**event, "calendar_id": calendar_id}
    raise SimError(f"unknown event {event_id!r}", 404)
