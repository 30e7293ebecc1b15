"""Keyword reactions: a rules file with broken rules (skipped, the rest work), a hostile regex that would
hang Python's `re`, channel lists, commands and bots ignored, the three-reaction cap, per-server rules
and reloading without a restart."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from simcord import Channel, Message, SimUser
from tests.e2e.community_world import Community, community

HOSTILE = "(a+)+$"  # exponential for a backtracking engine on "aaaa…!"


def rules_file(path: Path, deny: list[int], extra: list[dict[str, str]] | None = None) -> None:
    rules = [
        {"pattern": "(?i)\\bparty\\b", "emoji": "🎉"},
        {"pattern": "(unclosed", "emoji": "😵"},
        {"pattern": "(?i)\\bok\\b", "emoji": ":notanemoji:"},
        {"pattern": "(a)\\1", "emoji": "🔁"},
        {"pattern": HOSTILE, "emoji": "💥"},
        {"pattern": "(?i)\\b(ok|okay)\\b", "emoji": "👌"},
        {"pattern": "(?i)\\bfire\\b", "emoji": "🔥"},
        {"pattern": "(?i)\\bgg\\b", "emoji": "🏆"},
        {"pattern": "(?i)\\b(love|heart)\\b", "emoji": "❤️"},
        {"pattern": "<3", "emoji": "❤️"},
        *(extra or []),
    ]
    path.write_text(json.dumps({"_notes": "test", "channels": {"deny": deny}, "rules": rules}))


@pytest.fixture(scope="module")
async def w(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Community]:
    tmp = tmp_path_factory.mktemp("reactions")
    path = tmp / "emoticons.json"
    path.write_text("{}")
    async with community(tmp, emoticons_config=path) as world:
        rules_file(path, deny=[world.random.id])
        typed = await world.mod.send(world.general, "!reactions reload")
        await world.reply_to(typed)
        yield world


def bot_reactions(w: Community, message: Message) -> list[str]:
    return [emoji for emoji, users in message.reactions.items() if w.app.bot.id in users]


async def reacted(
    w: Community,
    user: SimUser,
    text: str,
    count: int,
    channel: Channel | None = None,
    control: Channel | None = None,
) -> list[str]:
    """Send `text` and return the bot's reactions once it has reacted `count` times. For `count` 0, a
    control message that must get 🎉 (in `control`, default #general) is sent after it, so "no
    reaction" means the bot looked and chose none, not that it had not got to it yet."""
    message = await user.send(channel or w.general, text)
    if count:
        await w.sim.wait_for(lambda: len(bot_reactions(w, message)) >= count)
    else:
        check = await w.bob.send(control or w.general, "party control")
        await w.sim.wait_for(lambda: bot_reactions(w, check) == ["🎉"])
    return bot_reactions(w, message)


async def test_broken_rules_are_skipped_and_the_rest_work(w: Community) -> None:
    typed = await w.mod.send(w.general, "!reactions reload")
    reply = await w.reply_to(typed)
    text = reply.text()
    assert "7 rule(s) from the rules file" in text
    assert "file rule 2: invalid pattern" in text
    assert "file rule 3: ':notanemoji:' is not a custom emoji" in text
    assert "file rule 4: backreferences are not supported" in text
    assert await reacted(w, w.alice, "party! ok?", 2) == ["🎉", "👌"]


async def test_at_most_three_reactions_deduplicated(w: Community) -> None:
    assert await reacted(w, w.alice, "party ok fire gg", 3) == ["🎉", "👌", "🔥"]
    assert await reacted(w, w.alice, "I love you <3", 1) == ["❤️"]


async def test_a_hostile_pattern_cannot_stall_the_bot(w: Community) -> None:
    started = time.monotonic()
    assert await reacted(w, w.alice, "a" * 1999 + "!", 0) == []
    assert await reacted(w, w.alice, "a" * 1999, 1) == ["💥"]
    assert time.monotonic() - started < 2, "Python's re would need 2^1999 steps for the first message"


async def test_commands_bots_and_denied_channels_get_no_reactions(w: Community) -> None:
    assert await reacted(w, w.alice, "!ping party", 0) == []
    other = w.sim.create_user("partybot", bot=True)
    w.sim.add_member(w.guild, other)
    assert await reacted(w, other, "party party", 0) == []
    assert await reacted(w, w.alice, "party in random", 0, channel=w.random) == []


async def test_server_rules_need_manage_server_and_are_checked(w: Community) -> None:
    refused = await w.alice.send(w.general, "!reactions add 🍕 (?i)pizza")
    assert (await w.reply_to(refused)).embeds[0]["title"] == "🚫  Missing permission"
    bad = await w.mod.send(w.general, "!reactions add 🍕 (p)\\1izza")
    assert "backreferences" in (await w.reply_to(bad)).text()
    assert w.rows("SELECT count(*) FROM reaction_rules") == [(0,)]

    added = await w.mod.send(w.general, "!reactions add 🍕 (?i)\\bpizza\\b")
    reply = await w.reply_to(added)
    assert reply.embeds[0]["title"] == "✅  Rule added"
    hostile = await w.mod.send(w.general, "!reactions add 🐌 (x+x+)+y")
    assert (await w.reply_to(hostile)).embeds[0]["title"] == "✅  Rule added"
    started = time.monotonic()
    assert await reacted(w, w.alice, "Pizza " + "x" * 1900, 1) == ["🍕"]
    assert time.monotonic() - started < 2

    listing = await w.mod.send(w.general, "!reactions list")
    text = (await w.reply_to(listing)).text()
    assert "🍕" in text
    assert "file rule 1" in text
    rule_id = w.rows("SELECT id FROM reaction_rules WHERE emoji = '🍕'")[0][0]
    removed = await w.mod.send(w.general, f"!reactions remove {rule_id}")
    await w.reply_to(removed)
    assert await reacted(w, w.alice, "pizza time", 0) == []


async def test_reload_without_restart_and_server_channel_lists(w: Community) -> None:
    rules_file(w.bot.settings.emoticons_config, deny=[], extra=[{"pattern": "(?i)\\btaco\\b", "emoji": "🌮"}])
    assert await reacted(w, w.alice, "taco", 0) == [], "not before the reload"
    reload = await w.mod.send(w.general, "!reactions reload")
    await w.reply_to(reload)
    assert await reacted(w, w.alice, "taco", 1) == ["🌮"]
    assert await reacted(w, w.alice, "party in random", 1, channel=w.random) == ["🎉"], "no longer denied"

    allow = await w.mod.send(w.general, f"!reactions channel {w.random.mention} allow")
    await w.reply_to(allow)
    assert await reacted(w, w.alice, "party in general", 0, control=w.random) == [], (
        "only allowed channels now"
    )
    default = await w.mod.send(w.general, f"!reactions channel {w.random.mention} default")
    await w.reply_to(default)
    assert await reacted(w, w.alice, "party in general", 1) == ["🎉"]
