"""The Feishu-native samples (tests/feishu_samples/native/, each naming its doc source) against
the bot's Bitable reader and the simulator's calendar, Bitable and task routes; and the strict
simulator refusing what Feishu refuses (scopes with the hint, a Base the app was not added to,
values that do not fit a field, the 3,000-attendee cap, the idempotency key)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.bitable import read
from bot.schedule.importer import PersonCell
from bot.sim.bitable import DATE, FORMULA, MULTI, PERSON, SINGLE, TEXT, user_edit
from bot.sim.server import FeishuSimulator
from tests.sim_helpers import fetch_token, get_json, send_json
from tests.test_feishu_samples import bare, load, within

SH = ZoneInfo("Asia/Shanghai")


def shape(ours: dict, sample: str) -> None:
    assert within(ours, bare(load(sample))) == []


def test_every_native_sample_names_its_source():
    for name in ("bitable_records_list", "bitable_fields_list", "calendar_create_ok", "calendar_event_ok",
                 "calendar_acl_ok"):
        assert len(load(f"native/{name}.json")["_source"]) > 40


def test_the_reader_reads_the_documented_value_shapes():
    fields = load("native/bitable_records_list.json")["data"]["items"][0]["fields"]
    types = {"任务情况总结": TEXT, "任务执行人": PERSON, "任务描述": TEXT, "开始日期": DATE, "是否延期": FORMULA,
             "状态": SINGLE, "标签": MULTI}
    got = {name: read.cell(fields[name], kind, SH) for name, kind in types.items()}
    assert got["任务情况总结"] == "网站更新任务由黄泡泡负责,正在进行中"
    assert got["任务执行人"] == PersonCell("ou_8240099442cf5da49f04f4bf8f8abcef", "黄泡泡")
    assert got["开始日期"] == datetime(2023, 2, 4, 0, 0, tzinfo=SH)  # 1675440000000 ms is local midnight
    assert got["是否延期"] == "✅ 正常"  # a formula read as text
    assert got["状态"] == "进行中" and got["标签"] == "网站、运营"
    assert read.cell(None, TEXT, SH) == "" and read.cell(True, 7, SH) == "是"
    assert read.cell({"type": 2, "value": [3, 4]}, 19, SH) == "3、4"  # a lookup of numbers


@pytest.mark.parametrize("link,expect", [
    ("https://team.feishu.cn/base/bascnAbc123456?table=tblXyz987&view=vew1", ("bascnAbc123456", "tblXyz987")),
    ("<https://x.larksuite.com/base/AbCdEf123456?from=share&table=tblQ1w2e3>", ("AbCdEf123456", "tblQ1w2e3")),
])
def test_links(link, expect):
    assert read.parse_link(link) == expect


@pytest.fixture
async def sim():
    s = FeishuSimulator(scopes={"calendar:calendar", "bitable:app", "task:task:write"})
    url = await s.start()
    s.token = await fetch_token(url)
    s.base_url = url
    yield s
    await s.stop()


def auth(sim) -> dict:
    return {"headers": {"Authorization": f"Bearer {sim.token}"}}


async def test_calendar_routes_have_the_samples_shape_and_dedupe_by_idempotency_key(sim):
    base = f"{sim.base_url}/open-apis/calendar/v4/calendars"
    status, body = await send_json("POST", base, {"summary": "直播排期", "permissions": "private"}, **auth(sim))
    assert status == 200 and body["code"] == 0
    shape(body, "native/calendar_create_ok.json")
    cal = body["data"]["calendar"]["calendar_id"]
    user = sim.add_user("李主播")["open_id"]
    status, acl = await send_json("POST", f"{base}/{cal}/acls?user_id_type=open_id",
                                  {"role": "reader", "scope": {"type": "user", "user_id": user}}, **auth(sim))
    shape(acl, "native/calendar_acl_ok.json")
    event = {"summary": "1号直播间 · 李主播", "start_time": {"timestamp": "1764241200", "timezone": "Asia/Shanghai"},
             "end_time": {"timestamp": "1764255600", "timezone": "Asia/Shanghai"}, "reminders": [{"minutes": 30}]}
    url = f"{base}/{cal}/events?idempotency_key=25fdf41b-8c80-2ce1-e94c-de8b5e7aa7e6"
    _, first = await send_json("POST", url, event, **auth(sim))
    _, again = await send_json("POST", url, event, **auth(sim))
    shape(first, "native/calendar_event_ok.json")
    assert first["data"]["event"]["event_id"] == again["data"]["event"]["event_id"]
    assert len(sim.calendar.all_events()) == 1
    # the end before the start is refused; a user outside the tenant cannot attend
    _, bad = await send_json("POST", f"{base}/{cal}/events", {**event, "end_time": {"timestamp": "1"}}, **auth(sim))
    assert bad["code"] == 190002
    event_id = first["data"]["event"]["event_id"]
    _, outsider = await send_json("POST", f"{base}/{cal}/events/{event_id}/attendees?user_id_type=open_id",
                                  {"attendees": [{"type": "user", "user_id": "ou_nobody"}]}, **auth(sim))
    assert outsider["code"] == 195100


async def test_bitable_routes_have_the_samples_shape_and_refuse_what_feishu_refuses(sim):
    base = sim.bitable.add_base("排期表", app_token="bascnSample000001")
    table = sim.bitable.add_table(base.app_token, "排期", [("任务描述", TEXT), ("开始日期", DATE)],
                                  table_id="tblSample0001")
    rec = user_edit(sim, base.app_token, table.table_id, None, {"任务描述": "更新公司网站", "开始日期": 1675440000000})
    t = f"{sim.base_url}/open-apis/bitable/v1/apps/{base.app_token}/tables/{table.table_id}"
    status, fields = await get_json(f"{t}/fields?page_size=100", **auth(sim))
    shape(fields, "native/bitable_fields_list.json")
    status, records = await get_json(f"{t}/records?page_size=500", **auth(sim))
    shape(records, "native/bitable_records_list.json")
    assert records["data"]["items"][0]["fields"]["任务描述"] == [{"text": "更新公司网站", "type": "text"}]
    _, too_big = await get_json(f"{t}/records?page_size=501", **auth(sim))
    assert too_big["code"] == 91401
    _, wrong = await send_json("PUT", f"{t}/records/{rec['record_id']}", {"fields": {"开始日期": "明天"}}, **auth(sim))
    assert wrong["code"] == 1254060
    _, unknown = await send_json("PUT", f"{t}/records/{rec['record_id']}", {"fields": {"没有这列": "x"}}, **auth(sim))
    assert unknown["code"] == 1254045
    base.app_is_collaborator = False  # 云文档: the app also needs the document's own permission
    _, forbidden = await get_json(f"{t}/records", **auth(sim))
    assert forbidden["code"] == 91403
    _, missing = await get_json(f"{sim.base_url}/open-apis/bitable/v1/apps/bascnNope/tables/tblNope/records",
                                **auth(sim))
    assert missing["code"] == 91402


async def test_every_native_route_checks_its_scope_with_the_hint(sim):
    sim.scopes.clear()
    for method, path in [("POST", "/open-apis/calendar/v4/calendars"),
                         ("GET", "/open-apis/calendar/v4/calendars/c1/events"),
                         ("GET", "/open-apis/bitable/v1/apps/bascnX/tables/tblX/records"),
                         ("PUT", "/open-apis/bitable/v1/apps/bascnX/tables/tblX/records/recX"),
                         ("POST", "/open-apis/task/v2/tasks/g1/add_members")]:
        status, body = await send_json(method, f"{sim.base_url}{path}", {}, **auth(sim))
        assert status == 400 and body["code"] == 99991672, path
        assert body["error"]["permission_violations"], path
    assert "calendar:calendar" in body["msg"] or "task:task:write" in body["msg"]


async def test_the_task_event_needs_its_scope_and_subscription(sim):
    from bot.sim.tasks import user_completes

    sim.add_user("李主播")
    sim.state.tasks["g1"] = {"guid": "g1", "completed_at": "0", "status": "todo", "members": []}
    delivery = await user_completes(sim, "g1", "李主播")
    assert delivery["not_delivered"]  # task:task not granted: Feishu does not push it
    assert sim.state.tasks["g1"]["completed_at"] != "0"


async def test_liveops_doctor_probes_the_native_scopes(sim):
    """The optional scopes are checked by ``liveops doctor`` like every other: told when missing
    (not a failure: the features are off without them), confirmed when granted."""
    from bot import doctor
    from bot.config import Settings

    settings = Settings(app_id=sim.app_id, app_secret=sim.app_secret, domain=sim.base_url)
    lines: list[str] = []
    await doctor.run(settings, out=lines.append)
    text = "\n".join(lines)
    assert "[OK] 已开通 calendar:calendar" in text and "[OK] 已开通 bitable:app" in text
    assert "task.task.updated_v1" in text  # the optional event, to subscribe by hand
    sim.scopes -= {"calendar:calendar", "bitable:app"}
    lines.clear()
    await doctor.run(settings, out=lines.append)
    text = "\n".join(lines)
    assert "[..] 未开通可选权限 calendar:calendar" in text and "[..] 未开通可选权限 bitable:app" in text
