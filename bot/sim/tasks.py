"""Open API: Feishu tasks (task/v2/tasks): create with client_token dedupe, get, patch,
add_members / remove_members; and the task event the app can subscribe to.

"任务信息变更" task.task.updated_v1 (open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/
task-v1/task/events/updated): an app that subscribes receives changes to the tasks IT created
(title, description, due, collaborators, followers, reminders, completed or not); the event body
is only ``{"task_id", "obj_type"}`` with obj_type 1 详情, 2 协作者, 3 关注者, 4 提醒时间, 5 任务完成,
6 任务取消完成, 7 任务删除; subscribing needs the scope task:task ("查看、创建、编辑和删除任务").
Tasks a person created in the client are not pushed. The simulator pushes the event for every
change to an app-created task, the app's own changes included (the app reads the task to see
what changed).
"""
from __future__ import annotations

import asyncio
from typing import Any
import uuid as uuidlib

from aiohttp import web

from .apibase import TASK_FIELDS, ApiBase, ApiError, Call, ok
from .state import now_ms


TASK_EVENT = "task.task.updated_v1"
DETAIL, COLLABORATORS, DONE, UNDONE = 1, 2, 5, 6
_pushes: set[asyncio.Task] = set()


class TasksApi(ApiBase):
    def _push_task_event(self, guid: str, obj_type: int) -> None:
        """Tell the app about a change, after answering (Feishu pushes events asynchronously)."""
        task = asyncio.get_running_loop().create_task(
            self.sim.deliver(TASK_EVENT, {"task_id": guid, "obj_type": obj_type}))
        _pushes.add(task)
        task.add_done_callback(_pushes.discard)

    def _members(self, raw: Any, id_type: str) -> list[dict[str, Any]]:
        members = []
        for mem in raw or []:
            if not isinstance(mem, dict) or mem.get("role") not in ("assignee", "follower"):
                raise self._task_error("members need id, type and role (assignee or follower)")
            if mem.get("type", "user") == "user" and self._user(mem.get("id"), id_type) is None:
                raise self._task_error(f"unknown member {mem.get('id')}")
            members.append({"id": mem["id"], "type": mem.get("type", "user"), "role": mem["role"]})
        return members

    async def add_task_members(self, call: Call) -> web.Response:
        """添加任务成员 POST /task/v2/tasks/:task_guid/add_members {members, client_token}
        (lark-oapi AddMembersTaskRequestBody; larksuite/cli task_assign.go)."""
        task = self._task(call)
        body = call.body if isinstance(call.body, dict) else {}
        token = body.get("client_token")
        key = f"add_members:{task['guid']}:{token}" if isinstance(token, str) and token else None
        if key and key in self.state.task_tokens:
            self.sim.stats["uuid_dedupe_hits"] += 1
            return ok({"task": task})
        new = self._members(call.field("members", list), call.query.get("user_id_type", "open_id"))
        if not new:
            raise self._task_error("members must not be empty")
        for mem in new:
            if not any(m["id"] == mem["id"] and m["role"] == mem["role"] for m in task["members"]):
                task["members"].append(mem)
        if key:
            self.state.task_tokens[key] = task["guid"]
        self._changed(task, COLLABORATORS)
        return ok({"task": task})

    async def remove_task_members(self, call: Call) -> web.Response:
        """移除任务成员 POST /task/v2/tasks/:task_guid/remove_members {members}."""
        task = self._task(call)
        gone = self._members(call.field("members", list), call.query.get("user_id_type", "open_id"))
        if not gone:
            raise self._task_error("members must not be empty")
        task["members"] = [m for m in task["members"]
                           if not any(m["id"] == g["id"] and m["role"] == g["role"] for g in gone)]
        self._changed(task, COLLABORATORS)
        return ok({"task": task})

    def _changed(self, task: dict[str, Any], obj_type: int) -> None:
        task["updated_at"] = str(now_ms())
        self.sim.notify()
        self._push_task_event(task["guid"], obj_type)

    def _task_error(self, msg: str) -> ApiError:
        return ApiError(1470400, f"bad request: {msg}")

    def _due(self, due: Any) -> dict[str, Any]:
        if not isinstance(due, dict):
            raise self._task_error("due must be an object")
        ts = due.get("timestamp")
        try:
            ms = int(ts)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise self._task_error("due.timestamp must be milliseconds") from None
        if ms <= 0:
            raise self._task_error("due.timestamp must be positive")
        return {"timestamp": str(ms), "is_all_day": bool(due.get("is_all_day", False))}

    async def create_task(self, call: Call) -> web.Response:
        id_type = call.query.get("user_id_type", "open_id")
        body = call.body if isinstance(call.body, dict) else {}
        token = body.get("client_token")
        if isinstance(token, str) and token in self.state.task_tokens:
            self.sim.stats["uuid_dedupe_hits"] += 1
            return ok({"task": self.state.tasks[self.state.task_tokens[token]]})
        summary = body.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            raise self._task_error("summary is required")
        if len(summary) > 3000:
            raise self._task_error("summary is longer than 3000 characters")
        members = self._members(body.get("members"), id_type)
        guid = str(uuidlib.uuid4())
        now = str(now_ms())
        task: dict[str, Any] = {
            "guid": guid, "task_id": f"t{100000 + len(self.state.tasks) + 1}",
            "summary": summary, "description": str(body.get("description") or ""),
            "creator": {"id": self.sim.app_id, "type": "app"}, "members": members,
            "completed_at": "0", "created_at": now, "updated_at": now, "status": "todo",
            "url": f"https://applink.feishu.cn/client/todo/detail?guid={guid}",
            "mode": int(body.get("mode") or 2), "source": 6, "is_milestone": bool(body.get("is_milestone")),
            "subtask_count": 0, "reminders": [], "attachments": [], "tasklists": [],
            "extra": str(body.get("extra") or ""),
        }
        if body.get("due") is not None:
            task["due"] = self._due(body["due"])
        if isinstance(body.get("origin"), dict):
            task["origin"] = body["origin"]
        self.state.tasks[guid] = task
        if isinstance(token, str) and token:
            self.state.task_tokens[token] = guid
        self.sim.stats["tasks_created"] += 1
        self.sim.notify()
        return ok({"task": task})

    def _task(self, call: Call) -> dict[str, Any]:
        task = self.state.tasks.get(call.request.match_info["guid"])
        if task is None:
            raise ApiError(1470404, "task not found", status=404)
        return task

    async def get_task(self, call: Call) -> web.Response:
        return ok({"task": self._task(call)})

    async def patch_task(self, call: Call) -> web.Response:
        task = self._task(call)
        change = call.field("task", dict)
        fields = call.field("update_fields", list)
        if not fields or any(f not in TASK_FIELDS for f in fields):
            raise self._task_error(f"update_fields must be some of {sorted(TASK_FIELDS)}")
        was_done = task["completed_at"] != "0"
        for name in fields:
            value = change.get(name)
            if name == "due":
                if value is None:
                    task.pop("due", None)
                else:
                    task["due"] = self._due(value)
            elif name == "completed_at":
                try:
                    ms = int(value or 0)
                except (TypeError, ValueError):
                    raise self._task_error("completed_at must be milliseconds") from None
                task["completed_at"] = str(ms)
                task["status"] = "done" if ms else "todo"
            elif name == "summary" and (not isinstance(value, str) or not value.strip()):
                raise self._task_error("summary must not be empty")
            else:
                task[name] = value
        done = task["completed_at"] != "0"
        self._changed(task, (DONE if done else UNDONE) if done != was_done else DETAIL)
        return ok({"task": task})


async def user_completes(sim: Any, guid: str, user: Any, *, done: bool = True) -> dict[str, Any]:
    """Someone ticks (or unticks) the task in Feishu Tasks: the task changes and, for an
    app-created task, task.task.updated_v1 is pushed (obj_type 5 or 6). Returns the delivery."""
    from .state import SimError

    task = sim.state.tasks.get(guid)
    if task is None:
        raise SimError(f"unknown task {guid!r}", 404)
    sim._user(user)
    task["completed_at"] = str(sim.clock_ms()) if done else "0"
    task["status"] = "done" if done else "todo"
    task["updated_at"] = str(now_ms())
    sim.notify()
    return await sim.deliver(TASK_EVENT, {"task_id": guid, "obj_type": DONE if done else UNDONE})
