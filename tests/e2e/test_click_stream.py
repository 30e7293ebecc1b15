"""Clicks are acknowledged on arrival, concurrently, and handled one at a time in click order."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest

from pytunes.core.interactions import EXPIRED_TEXT
from pytunes.core.views import PickOutcome
from simcord import Message, Outcome
from simcord.world import WorldError
from tests.e2e.conftest import BotWorld
from tests.e2e.flows import Flows


@pytest.fixture(scope="module")
async def flows(bot_world: BotWorld) -> AsyncIterator[Flows]:
    cog = Flows(bot_world.bot)
    await bot_world.bot.add_cog(cog)
    await bot_world.bot.sync_commands_if_changed()
    yield cog
    await bot_world.bot.remove_cog("Flows")


@pytest.fixture(autouse=True)
async def reset(bot_world: BotWorld) -> None:
    """Each test starts with no flow from an earlier test still listening."""
    bot_world.sim.faults.clear()
    await bot_world.clock.advance(600)
    await bot_world.sim.wait_for(lambda: bot_world.bot.interactions.open_streams == 0)


async def start_pages(w: BotWorld, flows: Flows, count: int = 30) -> Message:
    typed = await w.alice.send(w.general, f"!pages {count}")
    await w.sim.wait_for(lambda: flows.sources and (flows.sources[-1].sleeping or flows.sources[-1].rendered))
    await w.clock.advance(flows.render_seconds)
    return await w.sim.wait_for_message(
        w.general, lambda m: w.from_bot(m) and bool(m.components), after=typed
    )


async def test_burst_of_25_clicks_all_acked_in_time_and_handled_in_order(
    bot_world: BotWorld, flows: Flows
) -> None:
    w = bot_world
    flows.render_seconds = 2.0  # every click's handler takes 2 s (on the bot's clock)
    message = await start_pages(w, flows)
    source = flows.sources[-1]
    w.sim.faults.latency = 0.15
    rng = random.Random(7)
    sequence = [rng.choice(["▶", "▶", "◀"]) for _ in range(25)]
    records = []
    for label in sequence:
        # Press what the user sees; a disabled ◀ on the first page can't be pressed, so press ▶ instead.
        try:
            records.append(await w.alice.click(message, label))
        except WorldError:  # a disabled button can't be pressed; the user presses the other arrow
            records.append(await w.alice.click(message, "▶" if label == "◀" else "◀"))
        await asyncio.sleep(0.01)
    await asyncio.gather(*(r.wait_settled() for r in records))
    assert all(r.outcome is Outcome.ACKNOWLEDGED for r in records)
    latencies = sorted(r.ack_latency or 0 for r in records)
    assert latencies[-1] < 3.0
    # Acks ran concurrently: none waited for the handlers (2 s each) nor for each other (25 × 150 ms).
    assert latencies[-1] < 1.0

    # The acknowledgements are what the 150 ms latency was for; the handlers may now run at full speed.
    w.sim.faults.latency = 0.0
    pressed = [r.custom_id for r in records]
    expected: list[int] = []
    page = 0
    for custom_id in pressed:
        page = min(max(page + (1 if custom_id == "page:next" else -1), 0), 29)
        expected.append(page)
    for handled in range(1, len(records) + 1):
        await w.sim.wait_for(lambda: source.sleeping)
        await w.clock.advance(2.0)
        await w.sim.wait_for(lambda n=handled: len(source.rendered) == n + 1)
    assert source.rendered[1:] == expected
    await w.sim.wait_for(lambda: message.embeds[0]["title"] == f"Page {expected[-1] + 1}")
    assert not [r for r in records if r.failed]


async def test_strangers_are_told_privately_and_do_not_turn_pages(bot_world: BotWorld, flows: Flows) -> None:
    w = bot_world
    flows.render_seconds = 0.0
    message = await start_pages(w, flows, count=3)
    stranger = await w.bob.click(message, "▶")
    await stranger.wait_settled()
    notice = await w.sim.wait_for(lambda: [m for m in stranger.followups if m.ephemeral])
    assert "Only the person who ran this command" in notice[0].content
    assert notice[0].ephemeral_for == w.bob.id
    mine = await w.alice.click(message, "▶")
    await mine.wait_settled()
    await w.sim.wait_for(lambda: message.embeds[0]["title"] == "Page 2")
    assert [b["label"] for b in message.buttons()] == ["◀", "2/3", "▶"]
    assert [b.get("disabled", False) for b in message.buttons()] == [False, True, False]


async def test_single_page_has_no_buttons(bot_world: BotWorld, flows: Flows) -> None:
    w = bot_world
    flows.render_seconds = 0.0
    typed = await w.alice.send(w.general, "!pages 1")
    reply = await w.sim.wait_for_message(w.general, w.from_bot, after=typed)
    assert reply.components == []


async def test_click_after_timeout_is_answered_as_expired(bot_world: BotWorld, flows: Flows) -> None:
    w = bot_world
    flows.render_seconds = 0.0
    message = await start_pages(w, flows, count=3)
    await w.sim.wait_for(lambda: 60 in w.clock.pending())
    await w.clock.advance(61)
    await w.sim.wait_for(lambda: message.components == [])
    # The buttons are gone, but an old client may still show them: that click must not fail silently.
    message.components = [
        {"type": 1, "components": [{"type": 2, "style": 2, "label": "▶", "custom_id": "page:next"}]}
    ]
    late = await w.alice.click(message, "▶")
    await late.wait_settled()
    assert late.outcome is Outcome.ACKNOWLEDGED
    assert late.response is not None
    assert late.response.content == EXPIRED_TEXT
    assert late.response.ephemeral


async def test_picker_pick_cancel_expire(bot_world: BotWorld, flows: Flows) -> None:
    w = bot_world
    typed = await w.alice.send(w.general, "!choose 5")
    picker = await w.sim.wait_for_message(
        w.general, lambda m: w.from_bot(m) and bool(m.components), after=typed
    )
    assert [b["label"] for b in picker.buttons()] == ["1", "2", "3", "4", "5", "❌ Cancel"]
    await (await w.bob.click(picker, "2")).wait_settled()
    await (await w.alice.click(picker, "3")).wait_settled()
    await w.sim.wait_for(lambda: picker.deleted)
    assert flows.picks[-1] == (PickOutcome.PICKED, 2)

    typed = await w.alice.send(w.general, "!choose 2")
    picker = await w.sim.wait_for_message(
        w.general, lambda m: w.from_bot(m) and bool(m.components), after=typed
    )
    await (await w.alice.click(picker, "❌ Cancel")).wait_settled()
    await w.sim.wait_for(lambda: picker.deleted)
    assert flows.picks[-1] == (PickOutcome.CANCELLED, None)

    typed = await w.alice.send(w.general, "!choose 2")
    picker = await w.sim.wait_for_message(
        w.general, lambda m: w.from_bot(m) and bool(m.components), after=typed
    )
    await w.sim.wait_for(lambda: 120 in w.clock.pending())
    await w.clock.advance(121)
    await w.sim.wait_for(lambda: picker.deleted)
    assert flows.picks[-1] == (PickOutcome.EXPIRED, None)


async def test_picker_with_many_choices_pages_within_discord_limits(
    bot_world: BotWorld, flows: Flows
) -> None:
    w = bot_world
    typed = await w.alice.send(w.general, "!choose 45")
    picker = await w.sim.wait_for_message(
        w.general, lambda m: w.from_bot(m) and bool(m.components), after=typed
    )
    assert len(picker.buttons()) <= 25
    assert "1/3" in [b["label"] for b in picker.buttons()]
    await (await w.alice.click(picker, "▶")).wait_settled()
    await w.sim.wait_for(lambda: "21" in [b["label"] for b in picker.buttons()])
    await (await w.alice.click(picker, "23")).wait_settled()
    await w.sim.wait_for(lambda: picker.deleted)
    assert flows.picks[-1] == (PickOutcome.PICKED, 22)


async def test_slow_slash_command_defers_at_once(bot_world: BotWorld, flows: Flows) -> None:
    w = bot_world
    record = await w.alice.run_slash(w.general, "slowcmd")
    await record.wait_settled()
    assert record.ack_type == 5
    assert record.response is not None
    assert record.response.loading
    await w.sim.wait_for(lambda: 5 in w.clock.pending())
    await w.clock.advance(5)
    await w.sim.wait_for(lambda: record.response is not None and record.response.content == "done at last")


async def test_slow_prefix_command_shows_typing(bot_world: BotWorld, flows: Flows) -> None:
    w = bot_world
    typed_before = len(w.sim.world.typing)
    typed = await w.alice.send(w.general, "!slowcmd")
    await w.sim.wait_for(lambda: len(w.sim.world.typing) > typed_before)
    await w.sim.wait_for(lambda: 5 in w.clock.pending())
    await w.clock.advance(5)
    reply = await w.sim.wait_for_message(w.general, w.from_bot, after=typed)
    assert reply.content == "done at last"
