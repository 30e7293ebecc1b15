"""Gather as people play it: a countdown with its list, check-in by voice, late stamps, "I'm out",
ghost pings, the three ways a gathering ends, permissions, and a burst of clicks."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from simcord import Message, Outcome
from tests.e2e.test_gather_world import (
    GatherWorld,
    Place,
    footer,
    gather_world,
    labels,
    service,
    statuses,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[GatherWorld]:
    async with gather_world(tmp_path_factory.mktemp("gather") / "pytunes.db") as w:
        yield w


@pytest.fixture(autouse=True)
async def fresh(world: GatherWorld) -> AsyncIterator[None]:
    """Every test starts with nobody in voice and no gathering running."""
    yield
    p = world.place
    for user in [p.owner, p.mod, *p.people.values()]:
        await user.leave_voice(p.guild)
    assert world.bot is not None
    for live in list(service(world.bot).by_id.values()):
        await p.owner.click(await_message(world, live.place.message_id), "Cancel")
    await world.sim.wait_for(lambda: not service(world.bot).by_id)


def await_message(world: GatherWorld, message_id: int) -> Message:
    return world.sim.world.messages[message_id]


async def in_voice(place: Place, *names: str) -> None:
    for name in names:
        await place.people[name].join_voice(place.voice)


async def private_answer(world: GatherWorld, record: object) -> str:
    """The ephemeral note a click got."""
    await record.wait_settled()  # type: ignore[attr-defined]
    notes = await world.sim.wait_for(lambda: [m for m in record.followups if m.ephemeral])  # type: ignore[attr-defined]
    return str(notes[-1].content)


async def wait_text(world: GatherWorld, message: Message, text: str) -> None:
    await world.sim.wait_for(lambda: text in message.text(), timeout=10)


async def test_countdown_list_join_leave_and_extend(world: GatherWorld) -> None:
    p = world.place
    await in_voice(p, "alice", "bob", "carol")
    record = await p.alice.run_slash(p.text, "gather start", time="10m")
    await record.wait_settled()
    assert record.ephemeral
    message = await world.wait_gathering()
    ping = [m for m in world.sim.messages(p.text) if world.from_bot(m) and m.mentions]
    assert {u.id for u in ping[-1].mentions} == {p.bob.id, p.carol.id}  # the organizer knows already
    assert message.embeds[0]["title"] == "👥  Attendees (3)"
    assert "scheduled a gathering in 10 minutes" in message.text()
    assert labels(message) == ["Start now", "Cancel", "Join gathering", "Leave gathering"]

    await (await p.dave.click(message, "Join gathering")).wait_settled()
    await wait_text(world, message, "Attendees (4)")
    assert (
        await private_answer(world, await p.dave.click(message, "Join gathering"))
        == "You're already on the list."
    )
    await (await p.carol.click(message, "Leave gathering")).wait_settled()
    await world.sim.wait_for(lambda: p.carol.mention not in message.embeds[0]["description"])
    assert message.embeds[0]["title"] == "👥  Attendees (3)"

    typed = await p.bob.send(p.text, "!gather extend 5m")
    refusal = await world.sim.wait_for_message(p.text, world.from_bot, after=typed)
    assert "Only the organizer" in refusal.text()
    record = await p.alice.run_slash(p.text, "gather extend", time="5m")
    await record.wait_settled()
    extended = await world.sim.wait_for_message(p.text, lambda m: "Gathering extended" in m.text())
    assert "New total: **15 minutes**" in extended.text()
    await wait_text(world, message, "Extended by: **5 minutes** (total **15 minutes**)")
    record = await p.alice.run_slash(p.text, "gather extend", time="2h")
    await record.wait_settled()
    answer = await world.sim.wait_for(lambda: record.response and record.response.text())
    assert "the most is 2:00:00" in answer

    await p.frank.join_voice(p.other_voice)
    typed = await p.frank.send(p.text, "!gather start 3h")
    too_long = await world.sim.wait_for_message(p.text, world.from_bot, after=typed)
    assert "at most 2:00:00" in too_long.text()
    typed = await p.bob.send(p.text, "!gather start")
    busy = await world.sim.wait_for_message(p.text, world.from_bot, after=typed)
    assert "already running" in busy.text()

    await world.clock.advance(600)
    await asyncio.sleep(0.05)
    assert labels(message)[0] == "Start now", "the extension moved the start"
    await world.clock.advance(300)
    await world.sim.wait_for(lambda: labels(message) == ["I'm here!", "I'm out", "🔕 Mute pings", "Cancel"])
    await world.sim.wait_for(
        lambda: statuses(message) == {"alice": "ON TIME", "bob": "ON TIME", "dave": "--:--"}
    )
    assert "Attendance: **2/3**" in message.text()


async def test_check_in_on_time_late_out_and_back_and_a_no_show(world: GatherWorld) -> None:
    p = world.place
    await in_voice(p, "alice", "bob", "carol", "erin")
    typed = await p.alice.send(p.text, "!gather start 5m")
    message = await world.wait_gathering(after=typed)
    for name in ("dave", "frank"):
        await (await p.people[name].click(message, "Join gathering")).wait_settled()
    await wait_text(world, message, "Attendees (6)")

    await world.clock.advance(300)  # the countdown ends: check-in starts, voice decides
    await world.sim.wait_for(lambda: labels(message)[:2] == ["I'm here!", "I'm out"])
    await world.sim.wait_for(lambda: statuses(message).get("erin") == "ON TIME")
    assert statuses(message) == {
        "alice": "ON TIME",
        "bob": "ON TIME",
        "carol": "ON TIME",
        "erin": "ON TIME",
        "dave": "--:--",
        "frank": "--:--",
    }
    assert "Grace period: **01:00** remaining" in message.text()

    # Erin is out after all: she is disconnected, and the next click's ack does not wait for that.
    out = await p.erin.click(message, "I'm out")
    here = await p.bob.click(message, "I'm here!")
    await asyncio.gather(out.wait_settled(), here.wait_settled())
    assert out.outcome is Outcome.ACKNOWLEDGED
    assert here.outcome is Outcome.ACKNOWLEDGED
    await world.sim.wait_for(lambda: p.erin.id not in p.guild.voice_states)
    await world.sim.wait_for(lambda: statuses(message).get("erin") == "OUT")
    assert await private_answer(world, here) == "You're already checked in."

    # Grace is over: the missing get a ghost ping that disappears again.
    before = len(world.sim.messages(p.text, include_deleted=True))
    await world.clock.advance(60)
    pings = await world.sim.wait_for(
        lambda: [
            m
            for m in world.sim.messages(p.text, include_deleted=True)[before:]
            if world.from_bot(m) and m.mentions
        ]
    )
    assert {u.id for u in pings[0].mentions} == {p.dave.id, p.frank.id}
    await world.sim.wait_for(lambda: any(abs(t - 0.7) < 0.01 for t in world.clock.pending()))
    await world.clock.advance(0.7)
    await world.sim.wait_for(lambda: pings[0].deleted)

    await world.clock.advance(70)
    await p.dave.join_voice(p.voice)  # 2:10 after check-in started
    await world.sim.wait_for(lambda: statuses(message).get("dave") == "+02:10")
    await world.clock.advance(70)
    await p.erin.join_voice(p.voice)  # changed her mind: late, no longer out
    await world.sim.wait_for(lambda: statuses(message).get("erin") == "+03:20")
    assert "Attendance: **5/6**" in message.text()
    rows = list(statuses(message))
    assert rows == ["alice", "bob", "carol", "dave", "erin", "frank"], (
        "on time, then by lateness, then missing"
    )

    # Frank never comes: pinged every 30 s until the deadline, every ping deleted.
    await world.clock.advance(1800 - 200)
    await world.sim.wait_for(lambda: footer(message) == "Gathering timed out.")
    assert message.components == []
    assert statuses(message)["frank"] == "--:--"
    await world.clock.advance(1)
    pinged = [
        m
        for m in world.sim.messages(p.text, include_deleted=True)[before:]
        if world.from_bot(m) and m.mentions
    ]
    assert len(pinged) >= 2
    assert all(m.deleted for m in pinged)
    assert all({u.id for u in m.mentions} <= {p.dave.id, p.frank.id} for m in pinged)


async def test_strangers_are_refused_privately_and_managers_may_act(world: GatherWorld) -> None:
    p = world.place
    await in_voice(p, "alice", "bob")
    typed = await p.alice.send(p.text, "!gather start 10m")
    message = await world.wait_gathering(after=typed)
    for label in ("Cancel", "Start now"):
        note = await private_answer(world, await p.gina.click(message, label))
        assert note.startswith("Only the organizer or someone with Manage Events")
    assert labels(message)[0] == "Start now"

    typed = await p.gina.send(p.text, f"!gather expect {p.frank.mention}")
    refusal = await world.sim.wait_for_message(p.text, world.from_bot, after=typed)
    assert "Only the organizer" in refusal.text()
    record = await p.mod.run_slash(p.text, "gather expect", user1=p.frank, user2=p.gina)
    await record.wait_settled()
    await wait_text(world, message, "Attendees (4)")
    record = await p.alice.run_slash(p.text, "gather forget", user1=p.gina)
    await record.wait_settled()
    await wait_text(world, message, "Attendees (3)")

    # Someone with Manage Events may start it for the organizer.
    await (await p.mod.click(message, "Start now")).wait_settled()
    await world.sim.wait_for(lambda: labels(message)[0] == "I'm here!")
    note = await private_answer(world, await p.gina.click(message, "🔕 Mute pings"))
    assert "mute pings" in note
    await (await p.mod.click(message, "🔕 Mute pings")).wait_settled()
    await world.sim.wait_for(lambda: "🔔 Unmute pings" in labels(message))
    assert "Ghost pings: 🔕 off" in message.text()
    assert await private_answer(world, await p.gina.click(message, "I'm here!")) == (
        "You need to be in the voice channel to check in."
    )
    await (await p.mod.click(message, "Cancel")).wait_settled()
    await world.sim.wait_for(lambda: footer(message) == f"Cancelled by {p.mod.name}.")
    assert message.components == []


async def test_everyone_arriving_ends_grace_early(world: GatherWorld) -> None:
    p = world.place
    await in_voice(p, "alice", "bob")
    last = world.sim.messages(p.text)[-1]
    record = await p.alice.run_slash(p.text, "gather start", time="1m")
    await record.wait_settled()
    message = await world.wait_gathering(after=last)
    await (await p.carol.click(message, "Join gathering")).wait_settled()
    await wait_text(world, message, "Attendees (3)")
    await world.clock.advance(60)
    await world.sim.wait_for(lambda: statuses(message).get("carol") == "--:--")
    await world.clock.advance(20)
    await p.carol.join_voice(p.voice)
    await world.sim.wait_for(lambda: footer(message) == "All checked in. Gathering complete.")
    assert statuses(message) == {"alice": "ON TIME", "bob": "ON TIME", "carol": "ON TIME"}
    assert message.components == []
    assert message.embeds[-1]["color"] == 0x1F8B4C  # green once finished


async def test_a_burst_of_clicks_is_acked_and_applied_in_order(world: GatherWorld) -> None:
    p = world.place
    await in_voice(p, "alice")
    typed = await p.alice.send(p.text, "!gather start")
    message = await world.wait_gathering(after=typed)
    # Started at once with everyone already there: complete on the spot.
    await world.sim.wait_for(lambda: footer(message) == "All checked in. Gathering complete.")
    gather = service(world.bot)
    await world.sim.wait_for(lambda: not gather.by_id and not gather._starting)

    typed = await p.alice.send(p.text, "!gather start 1m")
    message = await world.wait_gathering(after=typed)
    await (await p.bob.click(message, "Join gathering")).wait_settled()
    await wait_text(world, message, "Attendees (2)")
    await world.clock.advance(60)
    await world.sim.wait_for(lambda: labels(message)[0] == "I'm here!")
    live = next(iter(service(world.bot).by_id.values()))
    world.sim.faults.latency = 0.05
    rng = random.Random(20)
    clickers = [rng.choice([p.alice, p.mod]) for _ in range(20)]
    records = []
    for user in clickers:
        # Whatever the button says right now ("Mute" or "Unmute"), it is the same control.
        records.append(await user.click(message, f"gather:{live.id}:mute"))
        await asyncio.sleep(0.04)
    await asyncio.gather(*(r.wait_settled() for r in records))
    world.sim.faults.latency = 0.0
    assert all(r.outcome is Outcome.ACKNOWLEDGED for r in records)
    assert max(r.ack_latency or 0 for r in records) < 1.0
    await world.sim.wait_for(lambda: live.next_seq >= 2 + 20)
    assert "🔕 Mute pings" in labels(message)  # twenty toggles: back where it started

    from pytunes.storage.schema import gather_events

    async with world.bot.database.engine.connect() as conn:  # type: ignore[union-attr]
        rows = (
            await conn.execute(
                select(gather_events.c.user_id)
                .where(gather_events.c.gathering_id == live.id, gather_events.c.kind == "press")
                .order_by(gather_events.c.seq)
            )
        ).all()
    pressed = [row.user_id for row in rows][-20:]
    assert pressed == [u.id for u in clickers], "applied in the order they were clicked"


async def test_mute_toggles_are_not_joins_and_voice_changes_elsewhere_do_not_count(
    world: GatherWorld,
) -> None:
    p = world.place
    await in_voice(p, "alice", "bob")
    typed = await p.alice.send(p.text, "!gather start 1m")
    message = await world.wait_gathering(after=typed)
    await (await p.carol.click(message, "Join gathering")).wait_settled()
    await wait_text(world, message, "Attendees (3)")
    await p.dave.join_voice(p.voice)
    await wait_text(world, message, "Attendees (4)")
    await (await p.dave.click(message, "Leave gathering")).wait_settled()
    await wait_text(world, message, "Attendees (3)")
    await world.clock.advance(60)
    await world.sim.wait_for(lambda: "carol" in statuses(message))
    await p.dave.set_voice_flags(p.guild, self_mute=True)  # forgotten, still in voice: not a join
    await p.carol.join_voice(p.other_voice)  # the wrong channel
    await world.clock.advance(10)
    await asyncio.sleep(0.1)
    assert "dave" not in statuses(message)
    assert statuses(message)["carol"] == "--:--"
    await p.carol.join_voice(p.voice)
    await world.sim.wait_for(lambda: footer(message) == "All checked in. Gathering complete.")


async def test_gather_alone_explains_the_subcommands(world: GatherWorld) -> None:
    p = world.place
    typed = await p.bob.send(p.text, "!gather")
    reply = await world.sim.wait_for_message(p.text, world.from_bot, after=typed)
    assert "`gather start [time]`" in reply.text()
    typed = await p.bob.send(p.text, "!gather extend 5m")
    nothing = await world.sim.wait_for_message(p.text, world.from_bot, after=typed)
    assert "No active gathering" in nothing.text()
