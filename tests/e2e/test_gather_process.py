"""A gathering survives `kill -9` of the bot process, in the countdown and in check-in."""

from __future__ import annotations

from pathlib import Path

import pytest

from simcord import Message, Outcome, Simcord
from tests.e2e.process_bot import bot_process
from tests.e2e.test_gather_world import build_place, footer, labels, statuses

pytestmark = pytest.mark.slow


async def press(sim: Simcord, user: object, message: Message, label: str) -> None:
    record = await user.click(message, label)  # type: ignore[attr-defined]
    await record.wait_settled()
    assert record.outcome is Outcome.ACKNOWLEDGED, f"{label!r} was not answered"


async def test_kill_9_in_each_phase(tmp_path: Path) -> None:
    database, log = tmp_path / "pytunes.db", tmp_path / "bot.log"
    async with Simcord() as sim:
        app = sim.create_application("PyTunes")
        p = build_place(sim, app, "Guild 1")
        await p.alice.join_voice(p.voice)

        async with bot_process(sim, app, database, log=log) as bot:
            last = await p.owner.send(p.text, "hello")
            record = await p.alice.run_slash(p.text, "gather start", time="10m")
            await record.wait_settled()
            message = await sim.wait_for_message(
                p.text, lambda m: bool(m.components) and "Attendees" in m.text(), after=last, timeout=15
            )
            await press(sim, p.bob, message, "Join gathering")
            await sim.wait_for(lambda: "Attendees (2)" in message.text(), timeout=10)
            bot.kill()
            await bot.wait()

        async with bot_process(sim, app, database, log=log) as bot:
            await press(sim, p.carol, message, "Join gathering")
            await sim.wait_for(lambda: "Attendees (3)" in message.text(), timeout=15)
            await press(sim, p.alice, message, "Start now")
            await sim.wait_for(lambda: labels(message)[:1] == ["I'm here!"], timeout=10)
            assert statuses(message) == {"alice": "ON TIME", "bob": "--:--", "carol": "--:--"}
            bot.kill()
            await bot.wait()

        async with bot_process(sim, app, database, log=log):
            await p.bob.join_voice(p.voice)
            await sim.wait_for(lambda: statuses(message).get("bob") == "ON TIME", timeout=15)
            await press(sim, p.alice, message, "Cancel")
            await sim.wait_for(lambda: footer(message) == "Cancelled by alice.", timeout=10)
            assert message.components == []
