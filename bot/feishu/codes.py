"""What an Open API answer means for the sender: one table, code → what to do.

Kinds:
* ``ok``
* ``token``: the tenant token is invalid or expired → refresh it and retry once (Platform.call);
  if it is refused again, retried like a temporary error.
* ``rate``: over an API's frequency limit → that API pauses until ``x-ogw-ratelimit-reset``.
* ``chat_rate``: over a chat's (or one message's) limit → that lane pauses, then retries.
* ``temporary``: Feishu is busy or the thing is still being made → retried with backoff,
  never treated as permanent.
* ``permanent``: retrying cannot help until a person changes something → the row fails
  and goes into the admins' failure digest (bot.outbox_digest).

Sources (open.feishu.cn / open.larkoffice.com). Read in the docs for this table: 频控策略, 更新应用
发送的消息卡片, 发送应用内加急 / 发送短信加急. The per-API error tables were not in the search index;
those codes come from /work/shared/notes/feishu-platform.md and issue 13, which cite them:
* 频控策略 (server-docs/api-call-guide/frequency-control): over a limit Feishu answers
  HTTP 429 (some older APIs: HTTP 400) with code 99991400 and ``x-ogw-ratelimit-reset``
  (seconds to wait): "使用该响应头延迟请求是解除限频的最好方法".
* 发送消息 / 回复消息 (im-v1/message/create, reply), 错误码: 230020 触发频控 (chat or
  message limit), 230049 消息正在发送中 (retry), 230001 参数错误, 230002 机器人不在群组中,
  230006 机器人能力未启用, 230013 用户不在应用可用范围, 230017/230018 群设置不允许,
  230025 消息过长, 230027 权限不足, 230035 无发送权限, 230053 用户已停止接收机器人消息,
  230099 卡片内容错误.
* 更新应用发送的消息卡片 (im-v1/message/patch): "仅支持更新 14 天内发送的消息" → 230031.
* 发送应用内加急 (im-v1/buzz-messages/urgent_app): the bot must be in the chat and the
  targets members of it (230001); a group that lets only owners/admins buzz → 230052.
* 创建群 / 群成员 (im-v1/chat, chat-members): 232068 群正在创建中 (retry), 232019 请求
  频率超限, 232006 无效 chat_id, 232009 群已解散, 232011 操作者不在群中, 232043 无效用户.
* 创建任务 (task-v2/task/create): 1470422 并发请求同一 client_token (retry).
* 通用错误码 (server-docs/getting-started/server-error-codes): 99991661 缺少 token,
  99991663/99991664/99991665/99991668 token 无效或过期 (refresh), 99991672/99991679 权限不足,
  99992402 参数校验失败, 10003/10014 应用凭证错误.
An HTTP 5xx, a timeout, a network error and a body that is not JSON are temporary. An unknown
code on an HTTP 4xx is permanent (logged with its code, so it can be added here).
"""
from __future__ import annotations

OK, TOKEN, RATE, CHAT_RATE, TEMPORARY, PERMANENT = "ok", "token", "rate", "chat_rate", "temporary", "permanent"

CODES: dict[int, str] = {
    # tenant token (通用错误码): refresh and retry once
    99991661: TOKEN, 99991663: TOKEN, 99991664: TOKEN, 99991665: TOKEN, 99991668: TOKEN,
    # frequency control
    99991400: RATE,
    230020: CHAT_RATE, 232019: CHAT_RATE,
    # temporary: the same request succeeds a little later
    230049: TEMPORARY,   # message being sent (same uuid still in flight)
    232068: TEMPORARY,   # group being created (same uuid still in flight)
    1470422: TEMPORARY,  # Tasks v2: concurrent requests with one client_token
    # permanent: someone has to change something first
    230001: PERMANENT, 230002: PERMANENT, 230006: PERMANENT, 230013: PERMANENT, 230017: PERMANENT,
    230018: PERMANENT, 230025: PERMANENT, 230027: PERMANENT, 230031: PERMANENT, 230035: PERMANENT,
    230052: PERMANENT, 230053: PERMANENT, 230099: PERMANENT,
    232006: PERMANENT, 232009: PERMANENT, 232010: PERMANENT, 232011: PERMANENT, 232014: PERMANENT,
    232024: PERMANENT, 232025: PERMANENT, 232033: PERMANENT, 232043: PERMANENT,
    1470400: PERMANENT, 1470404: PERMANENT,
    99991672: PERMANENT, 99991679: PERMANENT, 99992402: PERMANENT, 10003: PERMANENT, 10014: PERMANENT,
}
CARD_TOO_OLD = 230031  # PATCH of a card sent more than 14 days ago
BUZZ_REFUSED = (230001, 230052)  # urgent_app: no target in the chat / only owners and admins may buzz


def classify(status: int, code: int | None, headers: dict[str, str]) -> tuple[str, float]:
    """(kind, seconds to wait) of one answer; ``headers`` with lower-case names."""
    if code == 0 and status < 400:
        return OK, 0.0
    kind = CODES.get(code) if code is not None else None
    if kind == RATE or status == 429:
        try:
            reset = float(headers.get("x-ogw-ratelimit-reset", "1"))
        except ValueError:
            reset = 1.0
        return RATE, max(0.2, min(reset, 60.0))
    if kind == CHAT_RATE:
        return CHAT_RATE, 1.0
    if kind is not None:
        return kind, 0.0
    if status >= 500 or code is None or status == 0:
        return TEMPORARY, 0.0
    return PERMANENT, 0.0


def known(code: int | None) -> bool:
    return code in CODES
