"""Cards the bot builds stay within Feishu's limits whatever the input size: each card kind is
built with a large input and checked by the simulator's validator (the documented JSON 2.0
schema, 200 elements counting plain_text, 30 KB of request body), and nothing is cut without a
closing line that says so."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cards import _TAG, BUDGET_BYTES, BUDGET_ELEMENTS, Button, Card, count_elements, fits, wire_size
from bot.compliance import cards as compliance_cards
from bot.compliance.matcher import check
from bot.compliance.models import ComplianceRecord
from bot.faults import cards as fault_cards
from bot.faults.models import Fault
from bot.i18n import t as translate
from bot.schedule import cards as schedule_cards
from bot.schedule.models import Room, Stream
from bot.sim import cards as sim_cards
from bot.sim.cardschema import count_elements as sim_count
from bot.tasks import cards as task_cards
from bot.tasks.models import Task

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 6, 0, tzinfo=timezone.utc)
LONG = "直播间话术检查结果很长很长的一段说明文字，" * 3


def as_feishu_gets_it(card: Card | dict) -> dict:
    """The card as the bot sends it, checked by the simulator (the HTTP body is measured the
    way the simulator measures it: {"receive_id": ..., "content": <the card as a string>})."""
    data = card.to_dict() if isinstance(card, Card) else card
    body = json.dumps({"receive_id": "oc_" + "x" * 32, "msg_type": "interactive",
                       "content": json.dumps(data, ensure_ascii=False), "uuid": "u" * 50},
                      ensure_ascii=False, separators=(",", ":"))
    assert len(body.encode("utf-8")) <= 30 * 1024, len(body.encode("utf-8"))
    sim_cards.check_card(data)  # schema, element count (raises CardError)
    assert sim_count(data) == count_elements(data) <= BUDGET_ELEMENTS
    return data


def says_more(data: dict) -> bool:
    return any("还有" in str(el.get("content", "")) or "more" in str(el.get("content", ""))
               for el in data["body"]["elements"])


def t(key: str, **values: object) -> str:
    return translate("zh_CN", key, **values)


def test_generic_long_list_is_cut_with_a_note_and_keeps_its_buttons() -> None:
    card = Card("很多", more="用 `/任务 全部` 查看")
    card.markdown("\n".join(f"- 第 {i} 项 {LONG}" for i in range(2000)))
    card.buttons(Button("好", {"a": "x.ok"}))
    data = as_feishu_gets_it(card)
    assert data["body"]["elements"][-1]["columns"][0]["elements"][0]["tag"] == "button"
    note = data["body"]["elements"][-2]["content"]
    assert "还有" in note and "/任务 全部" in note
    shown = data["body"]["elements"][0]["content"].count("\n") + 1
    assert str(2000 - shown) in note  # the count of what was left out is exact


def test_many_small_elements_are_cut_under_the_element_budget() -> None:
    card = Card("分栏")
    card.fields([(f"字段{i}", str(i)) for i in range(400)])
    data = as_feishu_gets_it(card)
    assert says_more(data)


def test_task_list() -> None:
    tasks = [Task(id=i, chat_id="oc_a", title=f"任务 {i} {LONG}", due_at=NOW + timedelta(hours=i),
                  created_at=NOW, updated_at=NOW) for i in range(1, 600)]
    owners = {task.id: [f"ou_{task.id % 7}"] for task in tasks}
    card = task_cards.list_card(t, "任务", tasks, owners, {}, TZ, "zh_CN", NOW, "空")
    as_feishu_gets_it(card)


def test_fault_listing() -> None:
    faults = [Fault(id=i, category="network", severity="P1", chat_id="oc_a", reporter_id="ou_r",
                    room_name=f"直播间{i}", oncall_ids=["ou_x", "ou_y"], created_at=NOW, text=LONG)
              for i in range(1, 800)]
    data = as_feishu_gets_it(fault_cards.listing(faults, {}, "zh_CN", TZ))
    assert says_more(data)


def test_schedule_list() -> None:
    rooms = {1: Room(id=1, name="一号直播间")}
    streams = [Stream(id=i, room_id=1, starts_at=NOW + timedelta(hours=i), ends_at=NOW + timedelta(hours=i, minutes=50),
                      brand="某品牌" * 5, theme=LONG, streamer_id="ou_s") for i in range(1, 700)]
    card = schedule_cards.list_card("排期", streams, rooms, {}, "zh_CN", TZ, first=NOW.date(), days=31)
    as_feishu_gets_it(card)


def test_compliance_records() -> None:
    records = [ComplianceRecord(id=i, chat_id="oc_a", user_id="ou_u", source="file", file_name=f"脚本{i}{LONG}.docx",
                                text="x", verdict="warn", warn_count=3, created_at=NOW, retention_until=NOW)
               for i in range(1, 900)]
    card = compliance_cards.records_card(t, "zh_CN", records, TZ, {})
    data = as_feishu_gets_it(card)
    assert says_more(data)


def test_compliance_check_with_thousands_of_hits() -> None:
    result = check("\n".join(f"第{i}句：全网最低价，国家级产品，100%有效，加微信领取 {LONG}" for i in range(800)))
    assert len(result.hits) > 1000
    record = ComplianceRecord(id=7, chat_id="oc_a", user_id="ou_u", source="text", text=result.text,
                              verdict=result.verdict.value, created_at=NOW, retention_until=NOW)
    data = as_feishu_gets_it(compliance_cards.check_card(t, "zh_CN", record, result, TZ))
    shown = json.dumps(data, ensure_ascii=False)
    assert "未显示" in shown  # "还有 N 处未显示": fewer hits shown, and the card says how many were left


def test_budget_counts_every_element_like_feishu() -> None:
    card = Card("x", subtitle="y").buttons(Button("a", {"a": "b"})).to_dict()
    # header title + subtitle, column_set, column, button, its plain_text
    assert count_elements(card) == 6 and wire_size(card) > len(json.dumps(card, ensure_ascii=False))


_TEXT = st.text(alphabet=st.sampled_from(['"', "\\", ":", " ", "t", "a", "g", "x", "\n", "图"]), max_size=12)
_NODES = st.recursive(
    st.one_of(_TEXT, st.integers(), st.booleans(), st.none()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["tag", "content", "elements", "text", "xtag", '"tag": "', "tag ", 'x"tag', "x\\", ", "]),
                        inner, max_size=4),
        st.builds(lambda tag, rest: {"tag": tag, **rest}, _TEXT,
                  st.dictionaries(st.sampled_from(["content", "elements", "text"]), inner, max_size=3))),
    max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(_NODES)
def test_fits_counts_in_the_json_text_exactly_as_the_walk(node) -> None:
    """``fits`` counts elements in the card's JSON text (bot.cards): the same number as the walk,
    whatever quotes, keys or "tag" strings the content holds."""
    card = {"body": {"elements": [node]}}
    assert len(_TAG.findall(json.dumps(card, ensure_ascii=False))) == count_elements(card)
    small = wire_size(card) <= BUDGET_BYTES
    assert fits(card) == (small and count_elements(card) <= BUDGET_ELEMENTS)


def test_keys_that_end_in_a_quoted_tag_are_not_elements() -> None:
    value = {f'x{i}"tag': "v" for i in range(BUDGET_ELEMENTS + 20)}  # (found by review)
    card = Card("键").buttons(Button("按钮", value)).to_dict()
    assert fits(card) and count_elements(card) < 10


def test_fits_walks_a_card_with_a_chart_whose_spec_has_tags() -> None:
    spec = {"data": [{"values": [{"tag": f"系列{i}"} for i in range(BUDGET_ELEMENTS + 20)]}]}
    card = Card("图表").chart(spec).to_dict()
    assert count_elements(card) < 10 and fits(card)  # the spec's "tag" values are data, not elements
    many = {"body": {"elements": [{"tag": "markdown", "content": str(i)} for i in range(BUDGET_ELEMENTS + 1)]}}
    assert not fits(many) and count_elements(many) == BUDGET_ELEMENTS + 1
