"""The one table of what the bot needs from a Feishu app: every Open API path it calls, the
scope it asks for (and which other scopes Feishu also accepts), why, and whether the scope is
sensitive (needs the tenant admin's approval) or optional.

docs/feishu-setup.md's scope checklist is generated from this table (``checklist_markdown``;
tests/test_scopes.py checks the document and the table agree, and that the table covers every
``/open-apis/...`` path in the bot's code). ``liveops doctor`` probes each scope with a harmless
call (``Need.probe``) and reads Feishu's 99991672 scope hint.

Sources: each API's doc page, row "权限要求 … 开启其中任意一项权限即可调用"; events: "接收消息"
im.message.receive_v1 (注意事项: @-only with im:message.group_at_msg:readonly, every group
message only with the sensitive im:message.group_msg, direct messages with
im:message.p2p_msg:readonly), "机器人进群" im.chat.member.bot.added_v1.
"""
from __future__ import annotations

from dataclasses import dataclass, field

GROUP_AT_MSG = "im:message.group_at_msg:readonly"
GROUP_MSG = "im:message.group_msg"
P2P_MSG = "im:message.p2p_msg:readonly"
CALENDAR = "calendar:calendar"  # "更新日历及日程信息" (创建共享日历, 添加日程参与人 …)
BITABLE = "bitable:app"  # "查看、评论、编辑和管理多维表格"
TASK_EVENTS = "task:task"  # "查看、创建、编辑和删除任务": subscribing to task.task.updated_v1


@dataclass(frozen=True)
class Probe:
    """A call that changes nothing: any answer but 99991672 means the scope is there."""

    method: str
    path: str
    paths: dict = field(default_factory=dict)
    query: dict = field(default_factory=dict)
    body: dict | None = None


@dataclass(frozen=True)
class Need:
    method: str
    path: str  # as the bot writes it (lark-oapi style ":param")
    scopes: tuple[str, ...]  # the first is the one we ask for; Feishu accepts any of them
    why_zh: str
    why_en: str
    sensitive: bool = False
    optional: bool = False
    note_zh: str = ""
    note_en: str = ""


_MSG = ("im:message", "im:message:send_as_bot")
API_NEEDS: tuple[Need, ...] = (
    Need("POST", "/open-apis/auth/v3/tenant_access_token/internal", (), "获取 tenant_access_token", "get the tenant token"),
    Need("GET", "/open-apis/bot/v3/info", (), "读取机器人自己的 open_id（识别 @）",
         "read the bot's own open_id (to recognise @mentions)"),
    Need("POST", "/open-apis/im/v1/messages", _MSG + ("im:message:send",), "发消息和卡片", "send messages and cards"),
    Need("POST", "/open-apis/im/v1/messages/:message_id/reply", _MSG + ("im:message:send",),
         "回复消息", "reply to messages"),
    Need("PATCH", "/open-apis/im/v1/messages/:message_id", _MSG + ("im:message:update",),
         "更新已发出的卡片（14 天内）", "update cards it sent (within 14 days)"),
    Need("GET", "/open-apis/im/v1/messages/:message_id", ("im:message", "im:message:readonly"),
         "读取被回复的消息（回复文件导入、回复检查）", "read the message a reply points to (import or check by reply)",
         note_zh="读取群里的消息还需要敏感权限 im:message.group_msg；没有它时请把文件直接发给机器人",
         note_en="reading a group message also needs the sensitive im:message.group_msg; without it, "
                 "send files to the bot directly"),
    Need("GET", "/open-apis/im/v1/messages/:message_id/resources/:file_key",
         ("im:message", "im:message:readonly", "im:message.history:readonly"),
         "下载用户发来的文件（导入、检查）", "download files users send (import, check)"),
    Need("PATCH", "/open-apis/im/v1/messages/:message_id/urgent_app", ("im:message.urgent", "im:message.urgent:app_send"),
         "故障加急（应用内）", "buzz people about a fault (in-app)"),
    Need("PATCH", "/open-apis/im/v1/messages/:message_id/urgent_sms", ("im:message.urgent:sms",),
         "故障短信加急（付费，可选）", "SMS buzz for faults (paid, optional)", optional=True),
    Need("PATCH", "/open-apis/im/v1/messages/:message_id/urgent_phone", ("im:message.urgent:phone",),
         "故障电话加急（付费，可选）", "phone buzz for faults (paid, optional)", optional=True),
    Need("POST", "/open-apis/im/v1/chats", ("im:chat", "im:chat:create"), "建故障群", "create fault groups"),
    Need("PUT", "/open-apis/im/v1/chats/:chat_id", ("im:chat",), "故障解决后改群名", "rename a fault group when solved"),
    Need("POST", "/open-apis/im/v1/chats/:chat_id/members", ("im:chat", "im:chat.members:write_only"),
         "把值班人员拉进故障群", "add on-call people to a fault group"),
    Need("GET", "/open-apis/im/v1/chats/:chat_id/members", ("im:chat", "im:chat:readonly", "im:chat.members:read"),
         "列出群成员（任务负责人、加急对象）", "list group members (task owners, buzz targets)"),
    Need("POST", "/open-apis/im/v1/pins", ("im:message", "im:message.pins:write_only", "im:message:send_as_bot"),
         "把故障卡片 Pin 在群里", "pin the fault card in its group"),
    Need("POST", "/open-apis/im/v1/files", ("im:resource", "im:resource:upload"), "上传导出的文件", "upload exported files"),
    Need("GET", "/open-apis/contact/v3/users/:user_id",
         ("contact:contact.base:readonly", "contact:contact:readonly_as_app", "contact:contact:readonly"),
         "读取成员姓名", "read people's names",
         note_zh="还需在“权限管理 → 数据权限 → 通讯录权限范围”里包含团队成员",
         note_en="the app's contact data range (数据权限 → 通讯录权限范围) must include the team"),
    Need("POST", "/open-apis/task/v2/tasks", ("task:task:write", "task:task:writeonly"),
         "同步到飞书任务", "create Feishu tasks"),
    # -- Feishu-native features (issue 17, docs/feishu-native.md) ------------------------------
    Need("PATCH", "/open-apis/task/v2/tasks/:guid", ("task:task:write", "task:task:writeonly"),
         "飞书任务跟着改（完成、重开、截止时间、标题）", "keep Feishu tasks in step (done, reopened, due, title)"),
    Need("GET", "/open-apis/task/v2/tasks/:guid", ("task:task:write", "task:task:read"),
         "读取飞书任务是否已完成", "read whether a Feishu task was completed"),
    Need("POST", "/open-apis/task/v2/tasks/:guid/add_members", ("task:task:write", "task:task:writeonly"),
         "飞书任务换负责人、交接", "reassign and hand over Feishu tasks"),
    Need("POST", "/open-apis/task/v2/tasks/:guid/remove_members", ("task:task:write", "task:task:writeonly"),
         "飞书任务换负责人、交接", "reassign and hand over Feishu tasks"),
    Need("POST", "/open-apis/calendar/v4/calendars", (CALENDAR, "calendar:calendar:create"),
         "直播排期日历（以应用身份创建共享日历、日程和参与人）", "the stream calendar (shared calendar, events and "
         "attendees, created as the app)", optional=True),
    Need("POST", "/open-apis/calendar/v4/calendars/:calendar_id/acls", (CALENDAR, "calendar:calendar.acl:create"),
         "直播排期日历（以应用身份创建共享日历、日程和参与人）", "the stream calendar (shared calendar, events and "
         "attendees, created as the app)", optional=True),
    Need("POST", "/open-apis/calendar/v4/calendars/:calendar_id/events", (CALENDAR, "calendar:calendar.event:create"),
         "直播排期日历（以应用身份创建共享日历、日程和参与人）", "the stream calendar (shared calendar, events and "
         "attendees, created as the app)", optional=True),
    Need("GET", "/open-apis/calendar/v4/calendars/:calendar_id/events", (CALENDAR, "calendar:calendar.event:read"),
         "直播排期日历（以应用身份创建共享日历、日程和参与人）", "the stream calendar (shared calendar, events and "
         "attendees, created as the app)", optional=True),
    Need("PATCH", "/open-apis/calendar/v4/calendars/:calendar_id/events/:event_id",
         (CALENDAR, "calendar:calendar.event:update"), "直播排期日历（以应用身份创建共享日历、日程和参与人）",
         "the stream calendar (shared calendar, events and attendees, created as the app)", optional=True),
    Need("DELETE", "/open-apis/calendar/v4/calendars/:calendar_id/events/:event_id",
         (CALENDAR, "calendar:calendar.event:delete"), "直播排期日历（以应用身份创建共享日历、日程和参与人）",
         "the stream calendar (shared calendar, events and attendees, created as the app)", optional=True),
    Need("POST", "/open-apis/calendar/v4/calendars/:calendar_id/events/:event_id/attendees",
         (CALENDAR, "calendar:calendar.event:update"), "直播排期日历（以应用身份创建共享日历、日程和参与人）",
         "the stream calendar (shared calendar, events and attendees, created as the app)", optional=True),
    Need("POST", "/open-apis/calendar/v4/calendars/:calendar_id/events/:event_id/attendees/batch_delete",
         (CALENDAR, "calendar:calendar.event:update"), "直播排期日历（以应用身份创建共享日历、日程和参与人）",
         "the stream calendar (shared calendar, events and attendees, created as the app)", optional=True),
    Need("GET", "/open-apis/bitable/v1/apps/:app_token/tables/:table_id/fields", (BITABLE, "bitable:app:readonly"),
         "从团队的多维表格读排期（可选写回状态和数据）", "read the schedule from the team's Bitable (optional write-back)",
         optional=True, note_zh="还要把应用添加为该多维表格的协作者（多维表格右上角 … → 添加文档应用）",
         note_en="the app must also be added to the Base as a collaborator (… → Add document app)"),
    Need("GET", "/open-apis/bitable/v1/apps/:app_token/tables/:table_id/records", (BITABLE, "bitable:app:readonly"),
         "从团队的多维表格读排期（可选写回状态和数据）", "read the schedule from the team's Bitable (optional write-back)",
         optional=True),
    Need("PUT", "/open-apis/bitable/v1/apps/:app_token/tables/:table_id/records/:record_id", (BITABLE,),
         "从团队的多维表格读排期（可选写回状态和数据）", "read the schedule from the team's Bitable (optional write-back)",
         optional=True),
)

# Events and callbacks the app subscribes to (事件与回调), and the scopes they need.
EVENTS: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    ("im.message.receive_v1", (GROUP_AT_MSG, P2P_MSG), "接收消息（群里 @机器人 的消息、私聊消息）",
     "receive messages (@mentions in groups, direct messages)"),
    ("im.chat.member.bot.added_v1", ("im:chat",), "机器人进群（发欢迎卡片）", "bot added to a group (welcome card)"),
    ("card.action.trigger", (), "卡片回传交互（回调，不是事件）", "card button presses (a callback, not an event)"),
)
OPTIONAL_EVENT_SCOPES: tuple[tuple[str, str, str], ...] = (
    (GROUP_MSG, "接收群里所有消息（不 @ 也能用 /命令、故障群聊天记录、群里直接丢文件导入）",
     "receive every group message (un-@ /commands, fault-group chatter, files dropped in groups)"),
)
# Events that make an optional feature faster, not possible: without them a periodic check does
# the same ("任务信息变更" task.task.updated_v1, task-v1/task/events/updated: 权限要求 task:task).
OPTIONAL_EVENTS: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    ("task.task.updated_v1", (TASK_EVENTS,), "飞书任务里勾选完成时立即同步（不开通则每 10 分钟检查一次）",
     "a task ticked in Feishu Tasks is noticed at once (without it: checked every 10 minutes)"),
)


def needed_scopes(*, optional: bool = False) -> list[str]:
    """The scopes the checklist asks for, in table order (first of each need)."""
    out: list[str] = []
    for need in API_NEEDS:
        if need.scopes and (optional or not need.optional) and need.scopes[0] not in out:
            out.append(need.scopes[0])
    for _event, scopes, _zh, _en in EVENTS + (OPTIONAL_EVENTS if optional else ()):
        for scope in scopes:
            if scope not in out:
                out.append(scope)
    return out


def why(scope: str, locale: str = "zh_CN") -> list[str]:
    zh = locale == "zh_CN"
    reasons = [n.why_zh if zh else n.why_en for n in API_NEEDS if n.scopes and n.scopes[0] == scope]
    reasons += [e[2] if zh else e[3] for e in EVENTS + OPTIONAL_EVENTS if scope in e[1]]
    reasons += [o[1] if zh else o[2] for o in OPTIONAL_EVENT_SCOPES if o[0] == scope]
    return list(dict.fromkeys(reasons))


def checklist_markdown() -> str:
    """The scope table of docs/feishu-setup.md (between its BEGIN/END SCOPES markers)."""
    rows = ["| 权限 scope | 用途 | purpose | 敏感 sensitive | 必需 required |", "|---|---|---|---|---|"]
    for scope in needed_scopes(optional=True):
        optional = all(n.optional for n in API_NEEDS if n.scopes and n.scopes[0] == scope) and not any(
            scope in e[1] for e in EVENTS)
        rows.append(f"| `{scope}` | {'；'.join(why(scope))} | {'; '.join(why(scope, 'en_US'))} | 否 no | "
                    f"{'可选 optional' if optional else '是 yes'} |")
    for scope, zh, en in OPTIONAL_EVENT_SCOPES:
        rows.append(f"| `{scope}` | {zh} | {en} | **是 yes**（需管理员审批 admin approval） | 可选 optional |")
    return "\n".join(rows)


def needs_for(method: str, path: str) -> Need | None:
    for need in API_NEEDS:
        if need.method == method and need.path == path:
            return need
    return None


# One harmless call per scope we ask for (liveops doctor): ids that do not exist, so nothing
# changes; Feishu checks the scope before looking the id up.
PROBE_ID = "doctor_probe_0000"
PROBES: dict[str, Probe] = {
    "im:message": Probe("GET", "/open-apis/im/v1/messages/:message_id", {"message_id": "om_" + PROBE_ID}),
    "im:message.urgent": Probe("PATCH", "/open-apis/im/v1/messages/:message_id/urgent_app",
                               {"message_id": "om_" + PROBE_ID}, {"user_id_type": "open_id"},
                               {"user_id_list": ["ou_" + PROBE_ID]}),
    "im:message.urgent:sms": Probe("PATCH", "/open-apis/im/v1/messages/:message_id/urgent_sms",
                                   {"message_id": "om_" + PROBE_ID}, {"user_id_type": "open_id"},
                                   {"user_id_list": ["ou_" + PROBE_ID]}),
    "im:message.urgent:phone": Probe("PATCH", "/open-apis/im/v1/messages/:message_id/urgent_phone",
                                     {"message_id": "om_" + PROBE_ID}, {"user_id_type": "open_id"},
                                     {"user_id_list": ["ou_" + PROBE_ID]}),
    "im:chat": Probe("PUT", "/open-apis/im/v1/chats/:chat_id", {"chat_id": "oc_" + PROBE_ID}, {}, {}),
    "im:resource": Probe("POST", "/open-apis/im/v1/files", {}, {}, {"file_type": "stream"}),
    "contact:contact.base:readonly": Probe("GET", "/open-apis/contact/v3/users/:user_id",
                                           {"user_id": "ou_" + PROBE_ID}, {"user_id_type": "open_id"}),
    "task:task:write": Probe("PATCH", "/open-apis/task/v2/tasks/:guid", {"guid": PROBE_ID}, {},
                             {"task": {}, "update_fields": ["summary"]}),
    CALENDAR: Probe("GET", "/open-apis/calendar/v4/calendars/:calendar_id/events",
                    {"calendar_id": PROBE_ID + "@group.calendar.feishu.cn"}, {"page_size": "50"}),
    BITABLE: Probe("GET", "/open-apis/bitable/v1/apps/:app_token/tables/:table_id/fields",
                   {"app_token": "bascn" + PROBE_ID, "table_id": "tbl" + PROBE_ID}),
}
