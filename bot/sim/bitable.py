"""Open API: 多维表格 (Bitable, bitable/v1) as the bot uses it — list a table's fields, list its
records page by page, and update one record (write-back).

Rules, each from the doc page named:

* 云文档常见问题 (open.feishu.cn/document/ukTMukTMukTM/uczNzUjL3czM14yN3MTN): an app needs both
  the API scope and the document's own permission ("文档权限": 可阅读 / 可编辑) — a Base the
  app was not added to as a collaborator ("如何为应用开通云文档相关资源的权限") is refused.
* 云文档错误码 (open.larksuite.com/document/ukTMukTMukTM/uIzM0UjLyMDN14iMzQTN): 91402 NOTEXIST
  未找到, 91403 FORBIDDEN 没有权限, 91401 PARAMERR 参数出现错误.
* 多维表格记录数据结构 (bitable-v1/app-table-record/bitable-record-data-structure-overview):
  ``fields`` maps each column's NAME to its value; the value's shape depends on the field type:
  text (1) a list of segments ``[{"text", "type": "text"}]``, number (2) a number, single select
  (3) a string, multi select (4) a list of strings, date (5) a millisecond timestamp, person (11)
  ``[{"id", "name", "en_name", "email", "avatar_url"}]``, formula (20) and lookup (19)
  ``{"type": <type of the result>, "value": [...]}``. Empty cells are left out.
* Writing a record takes the plain forms: text a string, single select a string, multi select a
  list of strings, date milliseconds, person ``[{"id": open_id}]``; formula, lookup, created/
  modified time and auto number fields are computed and cannot be written.
* Listing: ``page_size`` at most 500 (the 列出记录 page and every Bitable tool built on it:
  "单次最多 500"), ``page_token`` / ``has_more`` / ``total``.
* Every API: 1000 次/分钟、50 次/秒 per API (the common wrapper).

Codes not in the searchable docs are marked modelled: 1254045 FieldNameNotFound, 1254060..
(a value that does not fit its field) as 1254060, 1254043 RecordIdNotFound.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .apibase import ApiBase, ApiError, Call, ok
from .state import SimError, random_hex

if TYPE_CHECKING:
    from .apibase import Handler

MAX_PAGE = 500
TEXT, NUMBER, SINGLE, MULTI, DATE, CHECKBOX, PERSON, LOOKUP, FORMULA = 1, 2, 3, 4, 5, 7, 11, 19, 20
COMPUTED = {LOOKUP, FORMULA, 1001, 1002, 1003, 1004, 1005}
UI_TYPE = {TEXT: "Text", NUMBER: "Number", SINGLE: "SingleSelect", MULTI: "MultiSelect", DATE: "DateTime",
           CHECKBOX: "Checkbox", PERSON: "User", LOOKUP: "Lookup", FORMULA: "Formula"}


@dataclass
class Table:
    table_id: str
    name: str
    fields: list[dict[str, Any]] = field(default_factory=list)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # record_id -> fields (stored shape)


@dataclass
class Base:
    app_token: str
    name: str
    tables: dict[str, Table] = field(default_factory=dict)
    app_is_collaborator: bool = True  # "添加文档应用": the app may read and edit it


@dataclass
class BitableStore:
    bases: dict[str, Base] = field(default_factory=dict)

    # -- building (tests, the sandbox) --------------------------------------------------------
    def add_base(self, name: str, *, app_token: str | None = None, collaborator: bool = True) -> Base:
        token = app_token or "bascn" + random_hex(22)
        base = Base(token, name, app_is_collaborator=collaborator)
        self.bases[token] = base
        return base

    def add_table(self, app_token: str, name: str, columns: list[tuple[str, int]], *,
                  table_id: str | None = None) -> Table:
        base = self.bases[app_token]
        table = Table(table_id or "tbl" + random_hex(13), name)
        for i, (col, kind) in enumerate(columns):
            table.fields.append({"field_id": "fld" + random_hex(10), "field_name": col, "type": kind,
                                 "property": None, "is_primary": i == 0, "ui_type": UI_TYPE.get(kind, "Text")})
        base.tables[table.table_id] = table
        return table

    def table(self, app_token: str, table_id: str) -> Table:
        base = self.bases.get(app_token)
        if base is None or table_id not in base.tables:
            raise SimError("unknown Bitable table", 404)
        return base.tables[table_id]


def _text(value: str) -> list[dict[str, str]]:
    return [{"text": value, "type": "text"}]


class BitableApi(ApiBase):
    @property
    def bt(self) -> BitableStore:
        return self.sim.bitable

    def bitable_routes(self, p: str) -> list[tuple[str, str, "Handler", bool]]:
        t = f"{p}/bitable/v1/apps/{{app_token}}/tables/{{table_id}}"
        return [
            ("GET", f"{t}/fields", self.list_fields, True),
            ("GET", f"{t}/records", self.list_records, True),
            ("PUT", f"{t}/records/{{record_id}}", self.update_record, True),
        ]

    def _table(self, call: Call) -> Table:
        base = self.bt.bases.get(call.request.match_info["app_token"])
        if base is None:
            raise ApiError(91402, "NOTEXIST")
        if not base.app_is_collaborator:
            raise ApiError(91403, "Forbidden")
        table = base.tables.get(call.request.match_info["table_id"])
        if table is None:
            raise ApiError(91402, "NOTEXIST")
        return table

    def _page_size(self, call: Call, default: int) -> None:
        raw = call.query.get("page_size", str(default))
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
            raise ApiError(91401, "PARAMERR: page_size must be 1..500")

    async def list_fields(self, call: Call) -> web.Response:
        table = self._table(call)
        page = self._page(call, [dict(f) for f in table.fields])  # 列出字段: page_size ≤ 100
        return ok({"items": page["items"], "page_token": page["page_token"], "has_more": page["has_more"],
                   "total": len(table.fields)})

    async def list_records(self, call: Call) -> web.Response:
        table = self._table(call)
        self._page_size(call, 20)
        size = int(call.query.get("page_size", "20"))
        try:
            start = int(call.query.get("page_token") or 0)
        except ValueError:
            raise ApiError(91401, "PARAMERR: page_token") from None
        rows = list(table.records.items())
        items = [{"record_id": rid, "fields": {k: v for k, v in f.items() if v not in (None, "", [])}}
                 for rid, f in rows[start:start + size]]
        more = start + size < len(rows)
        return ok({"items": items, "page_token": str(start + size) if more else "", "has_more": more,
                   "total": len(rows)})

    async def update_record(self, call: Call) -> web.Response:
        table = self._table(call)
        record_id = call.request.match_info["record_id"]
        if record_id not in table.records:
            raise ApiError(1254043, "RecordIdNotFound")  # modelled code
        values = call.field("fields", dict)
        stored = dict(table.records[record_id])
        for name, value in values.items():
            stored[name] = stored_value(table, name, value, self.sim)
        table.records[record_id] = stored
        self.sim.notify()
        return ok({"record": {"record_id": record_id, "fields": stored}})


def _field(table: Table, name: str) -> dict[str, Any]:
    for f in table.fields:
        if f["field_name"] == name:
            return f
    raise ApiError(1254045, f"FieldNameNotFound: {name}")  # modelled code


def stored_value(table: Table, name: str, value: Any, sim: Any) -> Any:
    """A written value (the plain form) in the shape the list API answers with; ApiError when it
    does not fit the field (1254060, modelled)."""
    f = _field(table, name)
    kind = f["type"]

    def wrong() -> ApiError:
        return ApiError(1254060, f"the value of {name} does not fit a field of type {kind}")

    if value is None:
        return None
    if kind in COMPUTED:
        raise ApiError(1254060, f"{name} is computed and cannot be written")
    if kind == TEXT:
        if not isinstance(value, str):
            raise wrong()
        return _text(value)
    if kind == NUMBER:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong()
        return value
    if kind == SINGLE:
        if not isinstance(value, str):
            raise wrong()
        return value
    if kind == MULTI:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise wrong()
        return value
    if kind == DATE:
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong()
        return value
    if kind == CHECKBOX:
        if not isinstance(value, bool):
            raise wrong()
        return value
    if kind == PERSON:
        if not isinstance(value, list) or not all(isinstance(v, dict) and isinstance(v.get("id"), str) for v in value):
            raise wrong()
        out = []
        for v in value:
            user = sim.state.users.get(v["id"])
            if user is None:
                raise wrong()
            out.append({"id": user.open_id, "name": user.name, "en_name": "", "email": user.email or "",
                        "avatar_url": ""})
        return out
    return value


def computed(kind: int, text: str) -> dict[str, Any]:
    """A formula / lookup cell as the list API answers it: {"type", "value"}."""
    return {"type": kind, "value": _text(text)}


def user_edit(sim: Any, app_token: str, table_id: str, record_id: str | None, values: dict[str, Any], *,
              delete: bool = False) -> dict[str, Any]:
    """Someone edits the table in Feishu (no API call): ``values`` in the plain written forms,
    plus {"formula:<name>": text} for a computed cell. ``record_id`` None adds a record."""
    table = sim.bitable.table(app_token, table_id)
    if delete:
        if record_id not in table.records:
            raise SimError(f"unknown record {record_id!r}", 404)
        del table.records[record_id]
        sim.notify()
        return {"record_id": record_id, "deleted": True}
    rid = record_id or "rec" + random_hex(10)
    if record_id is not None and record_id not in table.records:
        raise SimError(f"unknown record {record_id!r}", 404)
    stored = dict(table.records.get(rid, {}))
    for name, value in values.items():
        if name.startswith("formula:"):
            real = name.split(":", 1)[1]
            kind = _field(table, real)["type"]
            stored[real] = computed(TEXT, str(value)) if kind in (FORMULA, LOOKUP) else value
            continue
        try:
            stored[name] = stored_value(table, name, value, sim)
        except ApiError as exc:
            raise SimError(exc.msg) from None
    table.records[rid] = stored
    sim.notify()
    return {"record_id": rid, "fields": stored}
