"""``/_sim`` endpoints for the Feishu-native parts of the simulated tenant (issue 17): look at
the calendar the bot keeps, edit it by hand, edit the Bitable a team keeps its schedule in, and
tick a task in Feishu Tasks. Guarded like every other /_sim route (bot/sim/inspect.py).

- ``GET /_sim/calendar/calendars`` → ``[{calendar_id, summary, description, permissions,
  acls: [{acl_id, role, scope}]}]``
- ``GET /_sim/calendar/events`` → every event: the calendar/v4 event shape plus
  ``calendar_id``, ``calendar`` (its summary) and ``attendees`` (open_ids); ``status`` is
  ``cancelled`` for a cancelled one
- ``POST /_sim/calendar/events/{event_id} {summary?, description?, start_time?, end_time?
  (seconds), status?: "cancelled"}`` → the event after someone edited it in the calendar app
- ``GET /_sim/bitable`` → ``[{app_token, name, app_is_collaborator, tables: [{table_id, name,
  fields: [{field_name, type}], records: [{record_id, fields}]}]}]``
- ``POST /_sim/bitable/{app_token}/tables/{table_id}/records {fields}`` adds a record;
  ``POST .../records/{record_id} {fields}`` edits one (values in the written forms: text a
  string, date milliseconds, person ``[{"id": open_id}]``, single select a string, and
  ``"formula:<name>"`` for a computed cell); ``DELETE .../records/{record_id}`` deletes it
- ``POST /_sim/bitable/{app_token}/collaborator {"app": true|false}`` adds or removes the app
  as a collaborator of the Base ("添加文档应用")
- ``POST /_sim/tasks/{guid}/complete {user, done?: true}`` → someone ticks (or unticks) the task
  in Feishu Tasks; the task.task.updated_v1 delivery is in ``delivery``
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import bitable, calendar, tasks
from .inspect import _body, _guard, _str
from .state import SimError

if TYPE_CHECKING:
    from .server import FeishuSimulator


def bases_view(sim: "FeishuSimulator") -> list[dict[str, Any]]:
    return [{"app_token": b.app_token, "name": b.name, "app_is_collaborator": b.app_is_collaborator,
             "tables": [{"table_id": t.table_id, "name": t.name,
                         "fields": [{"field_name": f["field_name"], "type": f["type"]} for f in t.fields],
                         "records": [{"record_id": rid, "fields": f} for rid, f in t.records.items()]}
                        for t in b.tables.values()]}
            for b in sim.bitable.bases.values()]


def add_routes(app: web.Application, sim: "FeishuSimulator") -> None:
    async def calendars(request: web.Request) -> web.Response:
        return web.json_response([{**c, "acls": sim.calendar.acls.get(cid, [])}
                                  for cid, c in sim.calendar.calendars.items()])

    async def events(request: web.Request) -> web.Response:
        return web.json_response(calendar.events_view(sim))

    async def edit_event(request: web.Request) -> web.Response:
        data = await _body(request)
        return web.json_response(calendar.hand_edit(sim, request.match_info["event_id"], data))

    async def bases(request: web.Request) -> web.Response:
        return web.json_response(bases_view(sim))

    async def record(request: web.Request) -> web.Response:
        info = request.match_info
        if request.method == "DELETE":
            return web.json_response(bitable.user_edit(sim, info["app_token"], info["table_id"],
                                                       info.get("record_id"), {}, delete=True))
        data = await _body(request)
        values = data.get("fields")
        if not isinstance(values, dict):
            raise SimError("fields must be an object")
        out = bitable.user_edit(sim, info["app_token"], info["table_id"], info.get("record_id"), values)
        return web.json_response(out, status=200 if info.get("record_id") else 201)

    async def collaborator(request: web.Request) -> web.Response:
        data = await _body(request)
        base = sim.bitable.bases.get(request.match_info["app_token"])
        if base is None:
            raise SimError("unknown Base", 404)
        if not isinstance(data.get("app"), bool):
            raise SimError("app must be true or false")
        base.app_is_collaborator = data["app"]
        return web.json_response({"app_token": base.app_token, "app_is_collaborator": base.app_is_collaborator})

    async def complete(request: web.Request) -> web.Response:
        data = await _body(request)
        done = data.get("done", True)
        if not isinstance(done, bool):
            raise SimError("done must be true or false")
        guid = request.match_info["guid"]
        delivery = await tasks.user_completes(sim, guid, _str(data, "user"), done=done)
        return web.json_response({"task": sim.state.tasks[guid], "delivery": {
            k: delivery.get(k) for k in ("event_id", "status", "not_delivered")}})

    r = app.router
    t = "/_sim/bitable/{app_token}/tables/{table_id}/records"
    for method, path, handler in [
        ("GET", "/_sim/calendar/calendars", calendars),
        ("GET", "/_sim/calendar/events", events),
        ("POST", "/_sim/calendar/events/{event_id}", edit_event),
        ("GET", "/_sim/bitable", bases),
        ("POST", t, record),
        ("POST", t + "/{record_id}", record),
        ("DELETE", t + "/{record_id}", record),
        ("POST", "/_sim/bitable/{app_token}/collaborator", collaborator),
        ("POST", "/_sim/tasks/{guid}/complete", complete),
    ]:
        r.add_route(method, path, _guard(handler))
