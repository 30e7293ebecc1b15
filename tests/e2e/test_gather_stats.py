"""`gather stats`: punctuality per member, the guild's top list and a chart, from real attendance.

Six weeks of gatherings are played through the state machine and stored as the bot stores them; the
chart this test receives is the one in docs/gather-stats.png (PYTUNES_UPDATE_DOCS=1 rewrites it).
"""

from __future__ import annotations

import io
import os
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from pytunes.gather.events import Action, Press, Rules, Tick, VoiceJoined
from pytunes.gather.state import Gathering
from pytunes.gather.store import GatherStore
from simcord import Message
from tests.e2e.test_gather_world import GatherWorld, Place, gather_world, labels, statuses

pytestmark = pytest.mark.slow

DOCS_CHART = Path(__file__).resolve().parents[2] / "docs" / "gather-stats.png"
# How each member tends to arrive: (chance of being on time, of being late, of saying they're out).
HABITS = {
    "alice": (0.95, 0.05, 0.0),
    "bob": (0.35, 0.5, 0.05),
    "carol": (0.6, 0.2, 0.1),
    "dave": (0.75, 0.2, 0.0),
    "erin": (0.5, 0.3, 0.15),
}


async def play_history(world: GatherWorld, place: Place, weeks: int = 6) -> None:
    """Two gatherings a week, each played through the model and stored like the bot stores them."""
    assert world.bot is not None
    store = GatherStore(world.bot.database.engine)
    rng = random.Random(51)
    rules = Rules()
    for index in range(weeks * 2):
        start = world.clock.now() - (weeks * 7 - index * 3.5) * 86400
        listed = [place.people[name].id for name in HABITS]
        g = Gathering.create(organizer=listed[0], at=start, rules=rules, countdown=600, present=[])
        events: list[object] = [Press(start + 5, u, Action.JOIN) for u in listed[1:]]
        checkin = start + 600
        for user, (on_time, late, out) in zip(listed, HABITS.values(), strict=True):
            roll = rng.random()
            if roll < on_time:
                events.append(VoiceJoined(checkin + rng.uniform(-300, 50), user))
            elif roll < on_time + late:
                events.append(VoiceJoined(checkin + rng.uniform(90, 900), user))
            elif roll < on_time + late + out:
                events.append(VoiceJoined(checkin + 1, user))
                events.append(Press(checkin + 2, user, Action.OUT))
        events.sort(key=lambda e: e.at)  # type: ignore[attr-defined]
        events.append(Tick(checkin + rules.deadline))
        gathering_id = await store.create(
            guild_id=place.guild.id,
            voice_channel_id=place.voice.id,
            text_channel_id=place.text.id,
            gathering=g,
            label="in 10 minutes",
            present=[],
        )
        stored = [e for e in events if g.handle(e).changed]  # type: ignore[arg-type]
        await store.record(gathering_id, place.guild.id, 0, stored, g)  # type: ignore[arg-type]
        assert g.ended


@pytest.fixture(scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[GatherWorld]:
    async with gather_world(tmp_path_factory.mktemp("stats") / "pytunes.db") as w:
        await play_history(w, w.place)
        yield w


def chart_of(world: GatherWorld, message: Message) -> bytes:
    attachment = message.attachments[0]
    assert attachment["filename"] == "gather-stats.png"
    assert message.embeds[0]["image"]["url"] == "attachment://gather-stats.png"
    return bytes(world.sim.rest.files[int(attachment["id"])])


async def test_stats_for_a_member_with_a_top_list_and_a_chart(world: GatherWorld) -> None:
    p = world.place
    record = await p.carol.run_slash(p.text, "gather stats", user=p.bob)
    await record.wait_settled()
    reply = await world.sim.wait_for(
        lambda: record.response if record.response and record.response.attachments else None
    )
    text = reply.text()
    assert "Gather stats · all time" in text
    assert "Gatherings: **12**" in text
    assert "Median lateness: **+" in text
    top = next(f["value"] for f in reply.embeds[0]["fields"] if f["name"] == "Most punctual")
    assert top.splitlines()[0].startswith("1. **alice** — ")
    assert "bob" in top.splitlines()[-1], "the least punctual comes last"

    png = chart_of(world, reply)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (800, 360)
    if os.environ.get("PYTUNES_UPDATE_DOCS"):
        DOCS_CHART.parent.mkdir(exist_ok=True)
        DOCS_CHART.write_bytes(png)
    assert DOCS_CHART.exists(), "docs/gather-stats.png is missing: run this test with PYTUNES_UPDATE_DOCS=1"


async def test_stats_period_and_a_member_without_history(world: GatherWorld) -> None:
    p = world.place
    typed = await p.gina.send(p.text, "!gather stats 14d")
    reply = await world.sim.wait_for_message(
        p.text, lambda m: world.from_bot(m) and bool(m.attachments), after=typed
    )
    assert "last 14 days" in reply.text()
    assert "No finished gatherings yet" in reply.text()  # gina never took part
    typed = await p.gina.send(p.text, "!gather stats soon")
    refusal = await world.sim.wait_for_message(p.text, world.from_bot, after=typed)
    assert "Invalid period" in refusal.text()


async def test_a_finished_gathering_counts(world: GatherWorld) -> None:
    p = world.place
    await p.frank.join_voice(p.voice)
    typed = await p.frank.send(p.text, "!gather start 1m")
    message = await world.wait_gathering(after=typed)
    await (await p.gina.click(message, "Join gathering")).wait_settled()
    await world.sim.wait_for(lambda: "Attendees (2)" in message.text())
    await world.clock.advance(60)
    await world.sim.wait_for(lambda: labels(message)[:1] == ["I'm here!"])
    await world.clock.advance(95)
    await p.gina.join_voice(p.voice)
    await world.sim.wait_for(lambda: statuses(message).get("gina") == "+01:35")
    typed = await p.gina.send(p.text, "!gather stats")
    reply = await world.sim.wait_for_message(
        p.text, lambda m: world.from_bot(m) and bool(m.attachments), after=typed
    )
    assert "Gatherings: **1**" in reply.text()
    assert "Median lateness: **+01:35**" in reply.text()
