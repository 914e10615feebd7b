"""Open API: Feishu tasks (task/v2/tasks): create with client_token dedupe, get, patch."""
from __future__ import annotations

from typing import Any
import uuid as uuidlib

from aiohttp import web

from .apibase import TASK_FIELDS, ApiBase, ApiError, Call, ok
from .state import now_ms


class TasksApi(ApiBase):
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
        members = []
        for mem in body.get("members") or []:
            if not isinstance(mem, dict) or mem.get("role") not in ("assignee", "follower"):
                raise self._task_error("members need id, type and role (assignee or follower)")
            if mem.get("type", "user") == "user" and self._user(mem.get("id"), id_type) is None:
                raise self._task_error(f"unknown member {mem.get('id')}")
            members.append({"id": mem["id"], "type": mem.get("type", "user"), "role": mem["role"]})
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
        task["updated_at"] = str(now_ms())
        self.sim.notify()
        return ok({"task": task})
