"""The bot answers, cleans up after itself, and explains its commands."""

from __future__ import annotations

from simcord import Message, Outcome
from tests.e2e.conftest import BotWorld


async def test_prefix_ping_replies_and_cleans_up(bot_world: BotWorld) -> None:
    w = bot_world
    typed = await w.alice.send(w.general, "!ping")
    reply = await w.sim.wait_for_message(w.general, w.from_bot, after=typed)
    assert reply.embeds[0]["title"] == "🏓  Pong!"
    assert reply.referenced is typed
    assert reply.mentions == [], "a reply must not ping the user"
    await w.sim.wait_for(lambda: w.clock.sleepers >= 2)
    await w.clock.advance(29)
    assert not typed.deleted
    assert not reply.deleted
    await w.clock.advance(2)
    await w.sim.wait_for(lambda: typed.deleted and reply.deleted)


async def test_slash_ping_is_answered_in_time(bot_world: BotWorld) -> None:
    w = bot_world
    record = await w.alice.run_slash(w.general, "ping")
    await record.wait_settled()
    assert record.outcome is Outcome.ACKNOWLEDGED
    await w.sim.wait_for(lambda: record.response is not None and record.response.embeds)
    assert record.response is not None
    assert record.response.embeds[0]["title"] == "🏓  Pong!"


async def test_help_lists_every_command_with_a_description(bot_world: BotWorld) -> None:
    w = bot_world
    record = await w.bob.run_slash(w.general, "help")
    await record.wait_settled()
    await w.sim.wait_for(lambda: record.response is not None and record.response.embeds)
    assert record.response is not None
    assert record.response.ephemeral
    text = await read_every_page(w, record.response)
    for command in w.bot.walk_commands():
        assert f"!{command.qualified_name}" in text
        assert command.description, f"{command.qualified_name} has no description"
    slash = {c["name"]: c for c in w.app.global_commands}
    assert {"ping", "help"} <= set(slash)
    # Context menus (type 2 and 3) have no description on Discord; help names them instead.
    assert all(c["description"] for c in slash.values() if c.get("type", 1) == 1)
    for menu in (c["name"] for c in slash.values() if c.get("type", 1) != 1):
        assert menu in text


async def read_every_page(w: BotWorld, message: Message) -> str:
    """The text of every help page: ▶ is clicked until it is disabled (a single page has no buttons)."""
    texts = [message.text()]
    while (
        nxt := next((b for b in message.buttons() if b["custom_id"] == "page:next"), None)
    ) and not nxt.get("disabled"):
        before = len(message.history)
        await w.bob.click(message, "page:next")
        await w.sim.wait_for(lambda b=before: len(message.history) > b)
        texts.append(message.text())
    return "\n".join(texts)


async def test_help_for_one_command_and_for_an_unknown_one(bot_world: BotWorld) -> None:
    w = bot_world
    typed = await w.alice.send(w.general, "!help ping")
    reply = await w.sim.wait_for_message(w.general, w.from_bot, after=typed)
    assert reply.embeds[0]["title"] == "Help: ping"
    typed = await w.alice.send(w.general, "!help nosuch")
    reply = await w.sim.wait_for_message(w.general, w.from_bot, after=typed)
    assert "no command called `nosuch`" in reply.text()


async def test_unknown_commands_and_other_bots_are_ignored(bot_world: BotWorld) -> None:
    w = bot_world
    other_bot = w.sim.create_user("otherbot", bot=True)
    w.sim.add_member(w.guild, other_bot)
    first = await w.alice.send(w.general, "!nosuch")
    await other_bot.send(w.general, "!ping")
    marker = await w.bob.send(w.general, "!ping")
    reply = await w.sim.wait_for_message(w.general, w.from_bot, after=first)
    assert reply.referenced is marker, "only bob's !ping deserved an answer"
