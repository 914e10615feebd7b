"""The one door to Feishu's Open API, through the lark-oapi client.

The SDK's own token fetch is synchronous (``requests`` on the event loop), so it is switched
off (``enable_set_token``) and every call carries a tenant token from our async, cached
provider. Calls never raise for Feishu errors: they return an ApiResult whose ``kind`` says
what the sender should do (ok, retry later, slow down, refresh the token, give up).
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import httpx
import lark_oapi as lark
from lark_oapi.core.enum import AccessTokenType, HttpMethod
from lark_oapi.core.http.transport import _build_header, _build_url
from lark_oapi.core.json import JSON, Encoder
from lark_oapi.core.model import BaseRequest, RequestOption
from lark_oapi.core.token import verify
from lark_oapi.core.utils.files import Files

from bot.feishu.codes import CODES, TOKEN, classify

log = logging.getLogger("bot.platform")

# What each answer means (code → token / rate / chat_rate / temporary / permanent) is one table
# with its sources: bot.feishu.codes.


@dataclass
class ApiResult:
    status: int
    code: int | None
    msg: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    kind: str = "ok"  # ok | token | rate | chat_rate | temporary | permanent (bot.feishu.codes)
    retry_after: float = 0.0

    @property
    def ok(self) -> bool:
        return self.kind == "ok"


class TokenProvider:
    """Tenant access token, fetched with aiohttp and cached until 30 minutes before expiry."""

    def __init__(self, domain: str, app_id: str, app_secret: str) -> None:
        self.url = f"{domain}/open-apis/auth/v3/tenant_access_token/internal"
        self.app_id, self.app_secret = app_id, app_secret
        self._token = ""
        self._expires = 0.0
        self._lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    async def get(self) -> str:
        if self._token and time.monotonic() < self._expires:
            return self._token
        async with self._lock:
            if self._token and time.monotonic() < self._expires:
                return self._token
            if self._session is None or self._session.closed:
                self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
            async with self._session.post(self.url, json={"app_id": self.app_id,
                                                          "app_secret": self.app_secret}) as resp:
                body = await resp.json(content_type=None)
            if not isinstance(body, dict) or body.get("code") != 0:
                raise TokenError(f"tenant token refused: code {body.get('code') if isinstance(body, dict) else '?'}")
            self._token = str(body["tenant_access_token"])
            self._expires = time.monotonic() + max(60, int(body.get("expire", 7200)) - 1800)
            return self._token

    def invalidate(self, token: str | None = None) -> None:
        if token is None or token == self._token:
            self._token, self._expires = "", 0.0

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class TokenError(RuntimeError):
    pass


class Platform:
    def __init__(self, domain: str, app_id: str, app_secret: str, timeout: float = 10.0) -> None:
        self.domain = domain
        self.tokens = TokenProvider(domain, app_id, app_secret)
        self.client = (lark.Client.builder().app_id(app_id).app_secret(app_secret).domain(domain)
                       .enable_set_token(True).timeout(timeout).log_level(lark.LogLevel.WARNING).build())
        self.timeout = timeout
        self._http: httpx.AsyncClient | None = None  # multipart uploads and streamed downloads
        self._session: aiohttp.ClientSession | None = None  # every other call

    def _httpx(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(limits=httpx.Limits(max_connections=100, max_keepalive_connections=50))
        return self._http

    async def _request(self, req: BaseRequest, option: RequestOption) -> tuple[int, dict[str, str], bytes]:
        """lark-oapi's ``Client.arequest`` path (token check, User-Agent and Authorization
        headers, path encoding, body marshalling) over pooled clients: the SDK opens a new
        AsyncClient for every call, and with it a new TLS context (~25 ms of CPU that blocks the
        event loop), which caps sending far below Feishu's 50 messages/s. JSON calls (every
        send) go through one aiohttp session: httpx cost ~2.5 ms of CPU per call here, mostly
        in its anyio layer (issue 20). The body bytes are the ones httpx sent (compact UTF-8
        JSON). Returns (status, lower-cased headers, body)."""
        conf = self.client._config
        verify(conf, req, option)
        req.files = Files.extract_files(req.body)
        url = _build_url(conf.domain, req.uri, req.paths)
        headers = _build_header(req, option, conf)
        if req.files:
            data = json.loads(JSON.marshal(req.body)) if req.body is not None else None
            resp = await self._httpx().request(req.http_method.name, url, headers=headers, params=req.queries,
                                               data=data, files=req.files, timeout=self.timeout)
            return resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, resp.content
        body = None
        if req.body is not None:
            # One pass with the SDK's encoder (JSON.marshal's), written compactly as httpx did.
            body = json.dumps(req.body, cls=Encoder, ensure_ascii=False, separators=(",", ":"),
                              allow_nan=False).encode()
            headers = {**headers, "Content-Type": "application/json"}
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))
        async with self._session.request(req.http_method.name, url, headers=headers, params=_query(req.queries),
                                         data=body, timeout=aiohttp.ClientTimeout(total=self.timeout),
                                         allow_redirects=False) as resp:  # as httpx: a 30x is an answer
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, await resp.read()

    async def call(self, method: str, path: str, *, query: dict[str, str] | None = None,
                   body: Any = None, paths: dict[str, str] | None = None) -> ApiResult:
        """One Open API call; a token error is refreshed and retried once."""
        for attempt in (1, 2):
            result = await self._call_once(method, path, query, body, paths)
            if result.kind != "token" or attempt == 2:
                return result
            self.tokens.invalidate()
        return result

    async def _call_once(self, method, path, query, body, paths) -> ApiResult:
        try:
            token = await self.tokens.get()
        except (TokenError, aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            return ApiResult(0, None, f"token: {exc.__class__.__name__}", kind="temporary")
        builder = (BaseRequest.builder().http_method(HttpMethod[method]).uri(path)
                   .token_types({AccessTokenType.TENANT}).paths(paths or {})
                   .queries(list((query or {}).items())))
        if body is not None:
            builder = builder.body(body)
        option = RequestOption.builder().tenant_access_token(token).build()
        try:
            status, headers, content = await self._request(builder.build(), option)
        except (httpx.TimeoutException, httpx.TransportError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
            return ApiResult(0, None, f"network: {exc.__class__.__name__}", kind="temporary")
        code, msg, data = _parse(content)
        kind, retry_after = classify(status, code, headers)
        if kind == "token":
            self.tokens.invalidate(token)
        return ApiResult(status, code, msg, data, content, headers, kind, retry_after)

    # -- reads (not outbox sends: safe to repeat) ------------------------------------------
    async def bot_info(self) -> dict:
        result = await self.call("GET", "/open-apis/bot/v3/info")
        try:
            full = json.loads(result.body)
        except ValueError:
            full = {}
        return full.get("bot") or result.data.get("bot") or {}

    async def user_name(self, open_id: str) -> str:
        result = await self.call("GET", "/open-apis/contact/v3/users/:user_id",
                                 paths={"user_id": open_id}, query={"user_id_type": "open_id"})
        return str((result.data.get("user") or {}).get("name", "")) if result.ok else ""

    async def download(self, message_id: str, file_key: str, kind: str = "file", *,
                       max_bytes: int | None = None) -> bytes | None:
        """A file or image of a message, or None when Feishu answers with an error (JSON).
        "获取消息中的资源文件" (server-docs im-v1/message-resource/get): files up to 100 MB, the
        type in the Content-Type header. The body is streamed and the download stops at
        ``max_bytes`` (default ``uploads.MAX_DOWNLOAD``, 20 MB): a larger file raises
        ``uploads.DownloadTooLarge`` before it is held in memory."""
        from bot import uploads

        limit = uploads.MAX_DOWNLOAD if max_bytes is None else max_bytes
        path = "/open-apis/im/v1/messages/:message_id/resources/:file_key"
        paths = {"message_id": message_id, "file_key": file_key}
        for attempt in (1, 2):
            try:
                token = await self.tokens.get()
            except (TokenError, aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                return None
            req = (BaseRequest.builder().http_method(HttpMethod.GET).uri(path)
                   .token_types({AccessTokenType.TENANT}).paths(paths).queries([("type", kind)]).build())
            option = RequestOption.builder().tenant_access_token(token).build()
            url = _build_url(self.client._config.domain, req.uri, req.paths)
            headers = _build_header(req, option, self.client._config)
            try:
                async with self._httpx().stream("GET", url, headers=headers, params=req.queries,
                                             timeout=self.timeout) as resp:
                    ctype = resp.headers.get("content-type", "")
                    declared = resp.headers.get("content-length", "")
                    if resp.status_code == 200 and not ctype.startswith("application/json"):
                        if declared.isdigit() and int(declared) > limit:
                            raise uploads.DownloadTooLarge(limit)
                        chunks, size = [], 0
                        async for chunk in resp.aiter_bytes():
                            size += len(chunk)
                            if size > limit:
                                raise uploads.DownloadTooLarge(limit)
                            chunks.append(chunk)
                        return b"".join(chunks) or None
                    body = b""
                    async for chunk in resp.aiter_bytes():  # an error answer is small JSON
                        body += chunk
                        if len(body) > 65536:
                            break
            except (httpx.TimeoutException, httpx.TransportError):
                return None
            code, _msg, _data = _parse(body)
            if CODES.get(code) == TOKEN and attempt == 1:
                self.tokens.invalidate(token)
                continue
            return None
        return None

    async def chat_members(self, chat_id: str) -> list[dict]:
        members: list[dict] = []
        token = ""
        for _ in range(50):
            query = {"member_id_type": "open_id", "page_size": "100"}
            if token:
                query["page_token"] = token
            result = await self.call("GET", "/open-apis/im/v1/chats/:chat_id/members",
                                     paths={"chat_id": chat_id}, query=query)
            if not result.ok:
                break
            members += result.data.get("items") or []
            token = result.data.get("page_token") or ""
            if not result.data.get("has_more") or not token:
                break
        return members

    async def close(self) -> None:
        await self.tokens.close()
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        if self._session is not None:
            await self._session.close()
            self._session = None


def _query(pairs: list[tuple[str, Any]] | None) -> list[tuple[str, str]]:
    """Query values as httpx wrote them (True -> "true", None -> "")."""
    out = []
    for key, value in pairs or []:
        if isinstance(value, bool):
            value = "true" if value else "false"
        out.append((key, "" if value is None else str(value)))
    return out


def _parse(content: bytes) -> tuple[int | None, str, dict]:
    try:
        body = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None, "", {}
    if not isinstance(body, dict):
        return None, "", {}
    code = body.get("code")
    data = body.get("data")
    return (code if isinstance(code, int) else None, str(body.get("msg", "")),
            data if isinstance(data, dict) else {})
