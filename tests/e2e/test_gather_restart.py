"""Restarts lose nothing: a running gathering is restored in whatever phase the stored times say, catches
up with voice, keeps its buttons working, and a gathering that ended while the bot was away is closed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from pytunes.storage.schema import gather_attendance
from simcord import Outcome
from simcord.state import VoiceState
from tests.e2e.test_gather_world import GatherWorld, footer, gather_world, labels, service, statuses

pytestmark = pytest.mark.slow


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[GatherWorld]:
    async with gather_world(tmp_path / "pytunes.db") as w:
        yield w


async def test_restart_during_the_countdown(world: GatherWorld) -> None:
    p = world.place
    await p.alice.join_voice(p.voice)
    await p.bob.join_voice(p.voice)
    typed = await p.alice.send(p.text, "!gather start 10m")
    message = await world.wait_gathering(after=typed)
    await (await p.carol.click(message, "Join gathering")).wait_settled()
    await world.sim.wait_for(lambda: "Attendees (3)" in message.text())

    await world.stop_bot()
    await world.clock.advance(120)
    await p.dave.join_voice(p.voice)  # while nobody was watching
    await world.start_bot()
    click = await p.erin.click(message, "Join gathering")  # right away, while the bot catches up
    await click.wait_settled()
    assert click.outcome is Outcome.ACKNOWLEDGED
    await world.sim.wait_for(lambda: "Attendees (5)" in message.text(), timeout=10)
    assert "Time remaining: **8 minutes**" in message.text()

    await world.clock.advance(480)
    await world.sim.wait_for(lambda: labels(message)[0] == "I'm here!")
    assert statuses(message) == {
        "alice": "ON TIME",
        "bob": "ON TIME",
        "dave": "ON TIME",
        "carol": "--:--",
        "erin": "--:--",
    }
    await (await p.alice.click(message, "Cancel")).wait_settled()
    await world.sim.wait_for(lambda: footer(message) == "Cancelled by alice.")


async def test_restart_across_the_start_of_check_in(world: GatherWorld) -> None:
    p = world.place
    await p.alice.join_voice(p.voice)
    await p.bob.join_voice(p.voice)
    typed = await p.alice.send(p.text, "!gather start 1m")
    message = await world.wait_gathering(after=typed)
    for name in ("carol", "dave"):
        await (await p.people[name].click(message, "Join gathering")).wait_settled()
    await world.sim.wait_for(lambda: "Attendees (4)" in message.text())
    await world.clock.advance(30)

    await world.stop_bot()
    await p.bob.leave_voice(p.guild)  # gone before check-in began: not on time
    await world.clock.advance(120)  # check-in began 30 s ago, grace is over
    await p.carol.join_voice(p.voice)
    await world.start_bot()
    await world.sim.wait_for(lambda: labels(message)[:1] == ["I'm here!"], timeout=10)
    await world.sim.wait_for(lambda: statuses(message).get("carol") == "+01:30")
    assert statuses(message) == {"alice": "ON TIME", "carol": "+01:30", "bob": "--:--", "dave": "--:--"}
    assert "elapsed **01:30**" in message.text()

    here = await p.dave.click(message, "I'm here!")
    await here.wait_settled()
    notes = await world.sim.wait_for(lambda: [m for m in here.followups if m.ephemeral])
    assert notes[0].content == "You need to be in the voice channel to check in."
    await world.clock.advance(10)
    await p.bob.join_voice(p.voice)
    await world.sim.wait_for(lambda: statuses(message).get("bob") == "+01:40")
    await (await p.alice.click(message, "Cancel")).wait_settled()
    await world.sim.wait_for(lambda: footer(message) == "Cancelled by alice.")


async def test_restart_during_check_in_and_after_the_deadline(world: GatherWorld) -> None:
    p = world.place
    await p.alice.join_voice(p.voice)
    typed = await p.alice.send(p.text, "!gather start 1m")
    message = await world.wait_gathering(after=typed)
    await (await p.carol.click(message, "Join gathering")).wait_settled()
    await (await p.dave.click(message, "Join gathering")).wait_settled()
    await world.sim.wait_for(lambda: "Attendees (3)" in message.text())
    await world.clock.advance(60)
    await world.sim.wait_for(lambda: labels(message)[:1] == ["I'm here!"])

    # Restart in check-in: it goes on where it was.
    await world.stop_bot()
    await world.clock.advance(20)
    await world.start_bot()
    await world.sim.wait_for(lambda: "Grace period: **00:40** remaining" in message.text(), timeout=10)
    await p.carol.join_voice(p.voice)
    await world.sim.wait_for(lambda: statuses(message).get("carol") == "ON TIME")

    # Down through the deadline: closed on restore, and its attendance recorded.
    await world.stop_bot()
    await world.clock.advance(3600)
    await world.start_bot()
    await world.sim.wait_for(lambda: footer(message) == "Gathering timed out.", timeout=10)
    assert message.components == []
    assert statuses(message) == {"alice": "ON TIME", "carol": "ON TIME", "dave": "--:--"}
    assert world.bot is not None
    await world.sim.wait_for(lambda: not service(world.bot).by_id)
    async with world.bot.database.engine.connect() as conn:
        rows = (await conn.execute(select(gather_attendance.c.user_id, gather_attendance.c.status))).all()
    assert sorted((row.user_id, row.status) for row in rows) == sorted(
        [(p.alice.id, "on_time"), (p.carol.id, "on_time"), (p.dave.id, "missed")]
    )

    # An old client still showing the buttons gets a note, not "This interaction failed".
    message.components = message.history[-1]["components"]
    late = await p.dave.click(message, "I'm here!")
    await late.wait_settled()
    assert late.outcome is Outcome.ACKNOWLEDGED
    assert late.response is not None
    assert late.response.ephemeral
    assert late.response.content == "This gathering has ended: it timed out."


async def test_a_new_gateway_session_catches_up_with_voice(world: GatherWorld) -> None:
    p = world.place
    await p.alice.join_voice(p.voice)
    typed = await p.alice.send(p.text, "!gather start 1m")
    message = await world.wait_gathering(after=typed)
    await (await p.dave.click(message, "Join gathering")).wait_settled()
    await (await p.erin.click(message, "Join gathering")).wait_settled()
    await world.sim.wait_for(lambda: "Attendees (3)" in message.text())
    await world.clock.advance(60)
    await world.sim.wait_for(lambda: labels(message)[:1] == ["I'm here!"])
    await world.clock.advance(20)

    # Dave joins, but the event never reaches the bot (as when a session dies); a new session's
    # READY carries the voice states, and the gathering catches up from them.
    p.guild.voice_states[p.dave.id] = VoiceState(user_id=p.dave.id, channel_id=p.voice.id, session_id="lost")
    world.sim.invalidate_session(resumable=False)
    await world.sim.wait_for(lambda: statuses(message).get("dave") == "ON TIME", timeout=10)
    assert statuses(message)["erin"] == "--:--"
    await (await p.alice.click(message, "Cancel")).wait_settled()
    await world.sim.wait_for(lambda: footer(message) == "Cancelled by alice.")
