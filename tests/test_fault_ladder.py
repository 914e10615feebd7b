"""The escalation ladder is one table (bot.faults.ladder); statuses and steps are StrEnums whose
stored strings did not change (no migration)."""
from __future__ import annotations

import json

from bot.faults.ladder import LADDER, PEOPLE, people
from bot.faults.models import ACKED, OPEN, RESOLVED, Fault, FaultStatus, Mode, Step
from bot.faults.policy import Policy
from bot.i18n import LOCALES
from bot.norms.models import CheckpointStatus
from bot.reviews.models import ReviewStatus
from bot.tasks.models import TaskStatus


def test_stored_strings_are_unchanged():
    assert [s.value for s in FaultStatus] == ["open", "acked", "resolved"]
    assert [m.value for m in Mode] == ["group", "thread", "fallback"]
    assert [s.value for s in Step] == ["ack2", "lead", "breach", "nudge", "resolve", "escalate"]
    assert [s.value for s in TaskStatus] == ["todo", "doing", "done", "cancelled"]
    assert [s.value for s in ReviewStatus] == ["open", "done"]
    assert [s.value for s in CheckpointStatus] == ["open", "done", "cancelled", "skipped"]
    assert OPEN == "open" and f"{Step.ACK2}" == "ack2" and json.dumps({"step": Step.NUDGE}) == '{"step": "nudge"}'


def test_every_step_has_one_rung_with_its_text_and_people():
    assert set(LADDER) == set(Step)
    for step, rung in LADDER.items():
        assert rung.step == step and rung.status and RESOLVED not in rung.status
        for locale in LOCALES.values():
            assert rung.text in locale and all(key in locale for key in rung.blank.values())
            assert not rung.report or rung.report in locale
        named = {*rung.pull_in, *rung.buzz, *rung.buzz_if_nobody, *(g for gs in rung.mentions.values() for g in gs)}
        assert named <= {*PEOPLE, "actor"}, step
        assert rung.breach in ("", "ack", "resolve") and rung.minutes in ("elapsed", "ack", "resolve")


def test_the_timed_steps_are_rungs_for_an_open_ticket():
    pol = Policy()
    for off_hours in (False, True):
        steps = [step for step, _ in pol.ladder("P0", off_hours)]
        assert all(OPEN in LADDER[s].status for s in steps)
    assert LADDER[Step.NUDGE].status == (ACKED,) and LADDER[Step.NUDGE].repeat == 12


def test_people_are_deduplicated_in_order():
    f = Fault(oncall_ids=["a", "b"], backup_ids=["b", "c"], lead_ids=["d"], tech_lead_ids=["d", ""], acked_by="",
              category="network", severity="P1", chat_id="oc", reporter_id="r")
    assert people(f, ("oncall", "backup")) == ["a", "b", "c"]
    assert people(f, ("leads", "tech_leads")) == ["d"]
    assert people(f, ("acker",)) == [] and people(f, ("actor",), "x") == ["x"]
