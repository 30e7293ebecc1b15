"""Gatherings side by side (two guilds, two channels of one guild), a bot without Move Members, and
check-in by button when auto check-in is off."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pytunes.gather.live import NO_MOVE
from simcord import Permissions
from tests.e2e.test_gather_world import footer, gather_world, labels, service, statuses

pytestmark = pytest.mark.slow


async def test_two_guilds_at_once_and_two_channels_in_one(tmp_path: Path) -> None:
    async with gather_world(tmp_path / "pytunes.db", guilds=2) as w:
        one, two = w.places
        await one.alice.join_voice(one.voice)
        await two.alice.join_voice(two.voice)
        typed_one = await one.alice.send(one.text, "!gather start 1m")
        typed_two = await two.alice.send(two.text, "!gather start 2m")
        first = await w.wait_gathering(one, after=typed_one)
        second = await w.wait_gathering(two, after=typed_two)
        await (await one.bob.click(first, "Join gathering")).wait_settled()
        await (await two.bob.click(second, "Join gathering")).wait_settled()
        await (await two.carol.click(second, "Join gathering")).wait_settled()
        await w.sim.wait_for(lambda: "Attendees (2)" in first.text() and "Attendees (3)" in second.text())

        # A second gathering in another voice channel of the same guild is fine; the same channel is not.
        await one.dave.join_voice(one.other_voice)
        typed = await one.dave.send(one.text, "!gather start 1m")
        third = await w.wait_gathering(one, after=typed)
        await (await one.frank.click(third, "Join gathering")).wait_settled()
        await w.sim.wait_for(lambda: "Attendees (2)" in third.text())
        typed = await one.erin.send(one.text, "!gather start")
        refused = await w.sim.wait_for_message(one.text, w.from_bot, after=typed)
        assert "User not in voice channel" in refused.text()
        await one.erin.join_voice(one.voice)
        typed = await one.erin.send(one.text, "!gather start")
        busy = await w.sim.wait_for_message(one.text, w.from_bot, after=typed)
        assert "already running" in busy.text()
        assert len(service(w.bot).by_id) == 3

        await w.clock.advance(60)
        await w.sim.wait_for(lambda: labels(first)[0] == "I'm here!" and labels(third)[0] == "I'm here!")
        assert labels(second)[0] == "Start now"  # the other guild's countdown runs on
        await one.bob.join_voice(one.voice)
        await two.bob.join_voice(two.voice)  # still counting down there: nothing to check in yet
        await w.sim.wait_for(lambda: footer(first) == "All checked in. Gathering complete.")
        assert statuses(first) == {"alice": "ON TIME", "bob": "ON TIME", "erin": "ON TIME"}
        await w.clock.advance(60)
        await w.sim.wait_for(lambda: statuses(second).get("bob2") == "ON TIME")
        assert statuses(second) == {"alice2": "ON TIME", "bob2": "ON TIME", "carol2": "--:--"}
        assert statuses(third) == {"dave": "ON TIME", "frank": "--:--"}
        await (await two.alice.click(second, "Cancel")).wait_settled()
        await (await one.dave.click(third, "Cancel")).wait_settled()
        await w.sim.wait_for(lambda: not service(w.bot).by_id)


async def test_without_move_members_the_bot_says_so_once_and_goes_on(tmp_path: Path) -> None:
    permissions = Permissions.ALL & ~Permissions.ADMINISTRATOR & ~Permissions.MOVE_MEMBERS
    async with gather_world(tmp_path / "pytunes.db", bot_permissions=permissions) as w:
        p = w.place
        for name in ("alice", "bob", "carol"):
            await p.people[name].join_voice(p.voice)
        typed = await p.alice.send(p.text, "!gather start 1m")
        message = await w.wait_gathering(after=typed)
        await (await p.dave.click(message, "Join gathering")).wait_settled()
        await w.sim.wait_for(lambda: "Attendees (4)" in message.text())
        await w.clock.advance(60)
        await w.sim.wait_for(lambda: labels(message)[0] == "I'm here!")
        await (await p.bob.click(message, "I'm out")).wait_settled()
        await (await p.carol.click(message, "I'm out")).wait_settled()
        await w.sim.wait_for(lambda: statuses(message).get("carol") == "OUT")
        notices = await w.sim.wait_for(lambda: [m for m in w.sim.messages(p.text) if m.content == NO_MOVE])
        await asyncio.sleep(0.2)
        assert len([m for m in w.sim.messages(p.text) if m.content == NO_MOVE]) == len(notices) == 1
        assert p.bob.id in p.guild.voice_states, "still in voice: the bot could not disconnect him"

        # Still out after a mute toggle; pressing "I'm here!" while in the channel counts again.
        await p.bob.set_voice_flags(p.guild, self_mute=True)
        await w.clock.advance(100)
        await asyncio.sleep(0.1)
        assert statuses(message)["bob"] == "OUT"
        await (await p.bob.click(message, "I'm here!")).wait_settled()
        await w.sim.wait_for(lambda: statuses(message).get("bob") == "+01:40")
        assert "OUT" in statuses(message).values()
        await (await p.alice.click(message, "Cancel")).wait_settled()
        await w.sim.wait_for(lambda: footer(message) == "Cancelled by alice.")


async def test_without_auto_checkin_everyone_presses_im_here(tmp_path: Path) -> None:
    async with gather_world(tmp_path / "pytunes.db", gather_auto_checkin=False) as w:
        p = w.place
        await p.alice.join_voice(p.voice)
        await p.bob.join_voice(p.voice)
        last = w.sim.messages(p.text)[-1] if w.sim.messages(p.text) else None
        record = await p.alice.run_slash(p.text, "gather start")
        await record.wait_settled()
        message = await w.wait_gathering(after=last)
        ping = [m for m in w.sim.messages(p.text) if w.from_bot(m) and m.mentions]
        assert [u.id for u in ping[-1].mentions] == [p.bob.id], "a roll call: those in voice are asked"
        assert statuses(message) == {"alice": "--:--", "bob": "--:--"}
        await (await p.bob.click(message, "I'm here!")).wait_settled()
        await w.sim.wait_for(lambda: statuses(message).get("bob") == "ON TIME")
        await w.clock.advance(75)
        await (await p.alice.click(message, "I'm here!")).wait_settled()
        await w.sim.wait_for(lambda: footer(message) == "All checked in. Gathering complete.")
        assert statuses(message) == {"bob": "ON TIME", "alice": "+01:15"}
