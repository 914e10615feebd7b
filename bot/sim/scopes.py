"""Scopes (权限) in the simulated tenant: which scope each simulated Open API needs, which the
app was granted, and Feishu's refusal when one is missing.

Each API's scopes are the "权限要求 … 开启其中任意一项权限即可调用" row of its doc page
(open.feishu.cn/document/...); any one of them is enough. The refusal is code 99991672 with the
scope hint, shaped like the example in "如何为应用申请所需权限？"
(open.feishu.cn/document/uAjLw4CM/ugTN1YjL4UTN24CO1UjN/trouble-shooting/how-to-fix-the-99991672-error):
``{"code": 99991672, "msg": "Access denied. One of the following scopes is required: [a, b]",
"error": {"message": ..., "log_id": ..., "permission_violations": [{"type":
"action_scope_required", "subject": "a"}, ...], "helps": [{"url": ..., "description": ...}]}}``.
The HTTP status is not shown in that example; Feishu answers its business errors with 400, and
so does the simulator.

This table is the simulator's model of Feishu, written from the docs; the bot keeps its own
table (bot/feishu/scopes.py) of what it asks for, and a test checks the two agree.
"""
from __future__ import annotations

from typing import Iterable

# Receiving messages ("接收消息" im.message.receive_v1, 注意事项 / 权限要求): with the @-scope only
# group messages that @ the bot arrive; all group messages need the sensitive scope; direct
# messages need the p2p scope.
GROUP_AT_MSG = "im:message.group_at_msg:readonly"
GROUP_MSG = "im:message.group_msg"
P2P_MSG = "im:message.p2p_msg:readonly"

_MSG_SEND = ("im:message", "im:message:send_as_bot", "im:message:send")
_CHAT = ("im:chat",)

# (method, route) -> (any one of these scopes, the doc page that says so)
API_SCOPES: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {
    ("GET", "/open-apis/bot/v3/info"): ((), "获取机器人信息: 权限要求 无"),
    ("POST", "/open-apis/im/v1/messages"): (_MSG_SEND, "发送消息 im-v1/message/create"),
    ("POST", "/open-apis/im/v1/messages/{message_id}/reply"): (_MSG_SEND, "回复消息 im-v1/message/reply"),
    # "获取群聊消息 … 还必须开启 获取群组中所有消息（im:message.group_msg）" — checked in the handler
    ("GET", "/open-apis/im/v1/messages/{message_id}"): (("im:message", "im:message:readonly"),
                                                        "获取指定消息的内容 im-v1/message/get"),
    ("PATCH", "/open-apis/im/v1/messages/{message_id}"): (("im:message", "im:message:send_as_bot",
                                                           "im:message:update"),
                                                          "更新已发送的消息卡片 im-v1/message/patch"),
    ("PATCH", "/open-apis/im/v1/messages/{message_id}/urgent_app"): (
        ("im:message.urgent", "im:message.urgent:app_send"), "发送应用内加急 im-v1/buzz-messages/urgent_app"),
    ("PATCH", "/open-apis/im/v1/messages/{message_id}/urgent_sms"): (
        ("im:message.urgent:sms", "im:message.urgent:sms_send"), "发送短信加急 im-v1/message/urgent_sms"),
    # the phone-buzz page was not in the search corpus; modelled on the SMS page's naming
    ("PATCH", "/open-apis/im/v1/messages/{message_id}/urgent_phone"): (
        ("im:message.urgent:phone", "im:message.urgent:phone_send"), "发送电话加急 (modelled on urgent_sms)"),
    ("GET", "/open-apis/im/v1/messages/{message_id}/resources/{file_key}"): (
        ("im:message", "im:message:readonly", "im:message.history:readonly"),
        "获取消息中的资源文件 im-v1/message-resource/get"),
    ("POST", "/open-apis/im/v1/chats"): (("im:chat", "im:chat:create"), "创建群 im-v1/chat/create"),
    ("GET", "/open-apis/im/v1/chats"): (("im:chat", "im:chat:readonly"), "获取用户或机器人所在的群列表"),
    ("GET", "/open-apis/im/v1/chats/{chat_id}"): (("im:chat", "im:chat:readonly"), "获取群信息"),
    ("PUT", "/open-apis/im/v1/chats/{chat_id}"): (_CHAT, "更新群信息 (群组 方法列表: 获取与更新群组信息)"),
    ("POST", "/open-apis/im/v1/chats/{chat_id}/members"): (("im:chat", "im:chat.members:write_only"),
                                                            "将用户或机器人拉入群聊"),
    ("GET", "/open-apis/im/v1/chats/{chat_id}/members"): (("im:chat", "im:chat:readonly",
                                                           "im:chat.members:read"), "获取群成员列表"),
    ("DELETE", "/open-apis/im/v1/chats/{chat_id}/members"): (("im:chat", "im:chat.members:write_only"),
                                                              "将用户或机器人移出群聊"),
    ("POST", "/open-apis/im/v1/images"): (("im:resource", "im:resource:upload"), "上传图片 im-v1/image/create"),
    ("POST", "/open-apis/im/v1/files"): (("im:resource", "im:resource:upload"), "上传文件 im-v1/file/create"),
    ("POST", "/open-apis/im/v1/pins"): (("im:message", "im:message.pins:write_only", "im:message:send_as_bot"),
                                        "Pin 消息 im-v1/pin/create"),
    ("POST", "/open-apis/interactive/v1/card/update"): ((), "延时更新消息卡片: 无权限要求"),
    ("GET", "/open-apis/contact/v3/users/{user_id}"): (
        ("contact:contact.base:readonly", "contact:contact:access_as_app", "contact:contact:readonly",
         "contact:contact:readonly_as_app"), "获取单个用户信息 contact-v3/user/get"),
    ("POST", "/open-apis/contact/v3/users/batch_get_id"): (("contact:user.id:readonly",),
                                                           "通过手机号或邮箱获取用户 ID contact-v3/user/batch_get_id"),
    # Tasks v2: the create page was not in the corpus; larksuite/cli shortcuts/task declares
    # task:task:write for create and update; task:task:writeonly per issue 13 / platform notes.
    ("POST", "/open-apis/task/v2/tasks"): (("task:task:write", "task:task:writeonly"),
                                          "创建任务 task-v2/task/create (larksuite/cli shortcuts/task)"),
    ("GET", "/open-apis/task/v2/tasks/{guid}"): (("task:task:read", "task:task:write"), "获取任务详情 task-v2"),
    ("PATCH", "/open-apis/task/v2/tasks/{guid}"): (("task:task:write", "task:task:writeonly"),
                                                   "更新任务 task-v2 (larksuite/cli task_update.go)"),
}

# -- Feishu-native features (issue 17): calendar, Bitable, more of Tasks v2 ---------------------
_CAL = "calendar:calendar"  # "更新日历及日程信息"
API_SCOPES.update({
    # 创建共享日历 calendar-v4/calendar/create: 权限要求 calendar:calendar | calendar:calendar:create
    ("POST", "/open-apis/calendar/v4/calendars"): ((_CAL, "calendar:calendar:create"),
                                                   "创建共享日历 calendar-v4/calendar/create"),
    ("GET", "/open-apis/calendar/v4/calendars/{calendar_id}"): (
        (_CAL, "calendar:calendar:readonly", "calendar:calendar:read"), "查询日历信息 calendar-v4/calendar/get"),
    # 创建访问控制 calendar-v4/calendar-acl/create (modelled on the calendar pages' calendar:calendar)
    ("POST", "/open-apis/calendar/v4/calendars/{calendar_id}/acls"): (
        (_CAL, "calendar:calendar.acl:create"), "创建访问控制 calendar-v4/calendar-acl/create"),
    # 创建日程: larksuite/cli shortcuts/calendar/calendar_create.go declares calendar:calendar.event:create
    ("POST", "/open-apis/calendar/v4/calendars/{calendar_id}/events"): (
        (_CAL, "calendar:calendar.event:create"), "创建日程 calendar-v4/calendar-event/create"),
    # 获取日程 / 获取日程列表: larksuite/cli calendar_agenda.go declares calendar:calendar.event:read
    ("GET", "/open-apis/calendar/v4/calendars/{calendar_id}/events"): (
        (_CAL, "calendar:calendar:readonly", "calendar:calendar.event:read"), "获取日程列表 calendar-event/list"),
    ("GET", "/open-apis/calendar/v4/calendars/{calendar_id}/events/{event_id}"): (
        (_CAL, "calendar:calendar:readonly", "calendar:calendar.event:read"), "获取日程 calendar-event/get"),
    ("PATCH", "/open-apis/calendar/v4/calendars/{calendar_id}/events/{event_id}"): (
        (_CAL, "calendar:calendar.event:update"), "更新日程 calendar-event/patch"),
    ("DELETE", "/open-apis/calendar/v4/calendars/{calendar_id}/events/{event_id}"): (
        (_CAL, "calendar:calendar.event:delete"), "删除日程 calendar-event/delete (modelled)"),
    # 添加日程参与人 calendar-event-attendee/create: 权限要求 calendar:calendar | calendar:calendar.event:update
    ("POST", "/open-apis/calendar/v4/calendars/{calendar_id}/events/{event_id}/attendees"): (
        (_CAL, "calendar:calendar.event:update"), "添加日程参与人 calendar-event-attendee/create"),
    ("POST", "/open-apis/calendar/v4/calendars/{calendar_id}/events/{event_id}/attendees/batch_delete"): (
        (_CAL, "calendar:calendar.event:update"), "删除日程参与人 calendar-event-attendee/batch_delete"),
    # 多维表格: bitable:app (查看、评论、编辑和管理多维表格) or, to read, bitable:app:readonly
    # (查看、评论和导出多维表格) — the pair every Base page lists (e.g. base.isEditable)
    ("GET", "/open-apis/bitable/v1/apps/{app_token}/tables/{table_id}/fields"): (
        ("bitable:app", "bitable:app:readonly"), "列出字段 bitable-v1/app-table-field/list"),
    ("GET", "/open-apis/bitable/v1/apps/{app_token}/tables/{table_id}/records"): (
        ("bitable:app", "bitable:app:readonly"), "列出记录 bitable-v1/app-table-record/list"),
    ("PUT", "/open-apis/bitable/v1/apps/{app_token}/tables/{table_id}/records/{record_id}"): (
        ("bitable:app",), "更新记录 bitable-v1/app-table-record/update"),
    # Tasks v2 members: larksuite/cli shortcuts/task/task_assign.go declares task:task:write
    ("POST", "/open-apis/task/v2/tasks/{guid}/add_members"): (("task:task:write", "task:task:writeonly"),
                                                             "添加任务成员 task-v2/task/add_members"),
    ("POST", "/open-apis/task/v2/tasks/{guid}/remove_members"): (("task:task:write", "task:task:writeonly"),
                                                                "移除任务成员 task-v2/task/remove_members"),
})

# Events: subscribing needs one of these ("机器人进群" im.chat.member.bot.added_v1 权限要求).
EVENT_SCOPES: dict[str, tuple[str, ...]] = {
    "im.chat.member.bot.added_v1": ("im:chat", "im:chat.members:bot_access", "im:chat:readonly"),
    "im.chat.member.bot.deleted_v1": ("im:chat", "im:chat.members:bot_access", "im:chat:readonly"),
    # 任务信息变更 task-v1/task/events/updated: 权限要求 查看、创建、编辑和删除任务 (task:task)
    "task.task.updated_v1": ("task:task",),
}

# What a tenant that followed docs/feishu-setup.md granted (the bot's own table lists the same;
# tests/test_scopes.py checks that). The sensitive GROUP_MSG is not in it: it needs the tenant
# admin's approval and is a per-simulator switch.
DEFAULT_GRANTED: frozenset[str] = frozenset({
    "im:message", "im:message.urgent", "im:chat", "im:resource",
    "contact:contact.base:readonly", "task:task:write",
    GROUP_AT_MSG, P2P_MSG,
})

DOC_99991672 = ("https://open.feishu.cn/document/uAjLw4CM/ugTN1YjL4UTN24CO1UjN/trouble-shooting/"
                "how-to-fix-the-99991672-error")


def missing(required: Iterable[str], granted: Iterable[str]) -> bool:
    need = tuple(required)
    return bool(need) and not set(need) & set(granted)


def refusal(app_id: str, required: Iterable[str], log_id: str) -> tuple[str, dict]:
    """(msg, error object) of a 99991672 refusal, as in the docs' example."""
    need = list(required)
    listed = ", ".join(need)
    msg = f"Access denied. One of the following scopes is required: [{listed}]"
    error = {
        "message": f"Refer to the documentation to fix the error: {DOC_99991672}",
        "log_id": log_id,
        "permission_violations": [{"type": "action_scope_required", "subject": s} for s in need],
        "helps": [{"url": f"https://open.feishu.cn/app/{app_id}/auth?q={','.join(need)}&op_from=openapi",
                   "description": f"Learn more about scopes and how to add them: [{listed}]"}],
    }
    return msg, error
