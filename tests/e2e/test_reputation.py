"""Reputation driven through simcord: giving, every refusal, settings, revocation and racing commands.
One bot for the module; each test gets its own server (members, ranks and settings of its own)."""

from __future__ import annotations

import logging
import math

import pytest

from pytunes.reputation.model import DAY
from simcord import Permissions
from tests.e2e.conftest import BotWorld
from tests.e2e.reputation_world import (
    ZWSP,
    field,
    next_day,
    open_room,
    pings_nobody,
    rep_number,
    rooms,
    say,
    store,
    title,
)

__all__ = ["next_day"]  # the autouse fixture, used by name


# ------------------------------------------------------------------------------------------ giving


async def test_prefix_aliases_and_slash_give_and_announce(bot_world: BotWorld) -> None:
    w = bot_world
    room = await open_room(w, members=3)
    bob, carol, dave = room.members
    typed = await bob.send(room.channel, f"!+rep {carol.mention} great help with the setup")
    up = await w.sim.wait_for_message(room.channel, lambda m: w.from_bot(m) and m.referenced is typed)
    assert title(up) == "✅  Reputation Increased"
    assert field(up, "Given by") == bob.mention
    assert field(up, "Target") == carol.mention
    assert field(up, "Amount") == "+1 💚"
    assert field(up, "Current rep") == "`+1`"
    assert field(up, "Reason") == "> great help with the setup"
    assert pings_nobody(up)
    # The announcement stays; the user's command is cleaned up as usual.
    await w.sim.wait_for(lambda: 30 in w.clock.pending())
    await w.clock.advance(31)
    await w.sim.wait_for(lambda: typed.deleted)
    assert not up.deleted

    for alias, receiver, expected in [("plusrep", dave, "`+1`"), ("-rep", room.owner, "`-1`")]:
        reply = await say(w, bob, room.channel, f"!{alias} {receiver.mention} reason for {alias}")
        assert field(reply, "Current rep") == expected
    down = await say(w, carol, room.channel, f"!minusrep {dave.mention} no thanks")
    assert title(down) == "❌  Reputation Decreased"
    assert field(down, "Amount") == "-1 💔"
    assert field(down, "Current rep") == "`0`"

    record = await dave.run_slash(room.channel, "add_rep", user=carol, reason="slash works too")
    await w.sim.wait_for(lambda: record.response is not None and record.response.embeds)
    assert record.response is not None
    assert not record.response.ephemeral
    assert field(record.response, "Current rep") == "`+2`"
    record = await dave.run_slash(room.channel, "remove_rep", user=bob, reason="and down")
    await w.sim.wait_for(lambda: record.response is not None and record.response.embeds)
    assert record.response is not None
    assert title(record.response) == "❌  Reputation Decreased"
    assert await store(w).history_size(room.guild.id, carol.id) == (2, 2)


async def test_invalid_targets_are_refused_and_nothing_recorded(bot_world: BotWorld) -> None:
    w = bot_world
    room = await open_room(w, members=1)
    (bob,) = room.members
    robot = w.sim.create_user(f"robot{next(rooms)}", bot=True)
    w.sim.add_member(room.guild, robot)
    refusal = await say(w, bob, room.channel, f"!+rep {bob.mention} I am great")
    assert title(refusal) == "🚫  Invalid target"
    assert "yourself" in refusal.text()
    for bot_user in (robot.mention, f"<@{w.app.bot.id}>"):
        refusal = await say(w, bob, room.channel, f"!+rep {bot_user} beep")
        assert title(refusal) == "🚫  Invalid target"
        assert "Bots" in refusal.text()
    record = await bob.run_slash(room.channel, "remove_rep", user=bob, reason="sneaky")
    await w.sim.wait_for(lambda: record.response is not None)
    assert record.response is not None
    assert record.response.ephemeral
    assert "yourself" in record.response.text()
    for user_id in (bob.id, robot.id, w.app.bot.id):
        assert await store(w).history_size(room.guild.id, user_id) == (0, 0)


async def test_reason_rules_and_no_pings(bot_world: BotWorld) -> None:
    w = bot_world
    room = await open_room(w, members=3)
    bob, carol, dave = room.members
    missing = await say(w, bob, room.channel, f"!+rep {carol.mention}")
    assert "Missing `reason`" in missing.text()
    blank = await bob.run_slash(room.channel, "add_rep", user=carol, reason="   ")
    await w.sim.wait_for(lambda: blank.response is not None)
    assert blank.response is not None
    assert title(blank.response) == "🚫  Reason required"
    too_long = await say(w, bob, room.channel, f"!+rep {carol.mention} {'x' * 301}")
    assert title(too_long) == "🚫  Reason too long"
    assert "301 characters" in too_long.text()
    assert await store(w).history_size(room.guild.id, carol.id) == (0, 0)

    longest = await say(w, bob, room.channel, f"!+rep {carol.mention} {'y' * 300}")
    assert title(longest) == "✅  Reputation Increased"
    sneaky = f"thanks {dave.mention} @everyone @here <@&{room.guild.id}>"
    prefix = await say(w, bob, room.channel, f"!+rep {dave.mention} {sneaky}")
    slash = await carol.run_slash(room.channel, "add_rep", user=dave, reason=sneaky)
    await w.sim.wait_for(lambda: slash.response is not None and slash.response.embeds)
    assert slash.response is not None
    for shown in (prefix, slash.response):
        assert pings_nobody(shown)
        reason = field(shown, "Reason")
        assert f"@{ZWSP}everyone" in reason
        assert f"@{ZWSP}here" in reason
        assert f"<@{ZWSP}{dave.id}>" in reason
    history = await say(w, dave, room.channel, "!reps")
    assert pings_nobody(history)
    assert f"@{ZWSP}everyone" in history.text()


# ------------------------------------------------------------------------------------------ limits


async def test_cooldown_per_pair_any_sign_says_when(bot_world: BotWorld) -> None:
    w = bot_world
    room = await open_room(w, members=2)
    bob, carol = room.members
    given_at = w.clock.now()
    await say(w, bob, room.channel, f"!+rep {carol.mention} first")
    retry = f"<t:{math.ceil(given_at + 600)}:R>"
    refusal = await say(w, bob, room.channel, f"!-rep {carol.mention} changed my mind")
    assert title(refusal) == "🚫  Too fast"
    assert retry in refusal.text()
    assert "10 minutes" in refusal.text()
    # Someone else may rep carol, and bob may rep someone else.
    assert title(await say(w, room.owner, room.channel, f"!+rep {carol.mention} me too")).startswith("✅")
    assert title(await say(w, bob, room.channel, f"!+rep {room.owner.mention} you too")).startswith("✅")
    await w.clock.advance(599)
    record = await bob.run_slash(room.channel, "remove_rep", user=carol, reason="still too soon")
    await w.sim.wait_for(lambda: record.response is not None)
    assert record.response is not None
    assert record.response.ephemeral
    assert retry in record.response.text()
    await w.clock.advance(1)
    assert title(await say(w, bob, room.channel, f"!-rep {carol.mention} now")).startswith("❌")
    assert await store(w).history_size(room.guild.id, carol.id) == (1, 3)


async def test_daily_budget_says_when(bot_world: BotWorld) -> None:
    w = bot_world
    room = await open_room(w, members=12)
    giver, *others = room.members
    first_at = w.clock.now()
    for receiver in others[:10]:
        assert title(await say(w, giver, room.channel, f"!+rep {receiver.mention} thanks")).startswith("✅")
        await w.clock.advance(60)
    refusal = await say(w, giver, room.channel, f"!+rep {others[10].mention} one more")
    assert title(refusal) == "🚫  Daily limit reached"
    assert f"<t:{math.ceil(first_at + DAY)}:R>" in refusal.text()
    assert "10 reps in the last 24 hours" in refusal.text()
    await w.clock.advance(first_at + DAY - w.clock.now())
    assert title(await say(w, giver, room.channel, f"!+rep {others[10].mention} one more")).startswith("✅")


async def test_settings_are_per_guild_and_admin_only(bot_world: BotWorld) -> None:
    w = bot_world
    room, elsewhere = await open_room(w, members=3), await open_room(w, members=1)
    bob, carol, dave = room.members
    moderators = w.sim.create_role(room.guild, "mods", Permissions.MANAGE_GUILD)
    mod = w.sim.create_user(f"mod{next(rooms)}")
    w.sim.add_member(room.guild, mod, [moderators])

    denied = await say(w, bob, room.channel, "!rep config cooldown 1m")
    assert title(denied) == "🚫  Missing permission"
    record = await bob.run_slash(room.channel, "rep config", setting="budget", value="99")
    await w.sim.wait_for(lambda: record.response is not None)
    assert record.response is not None
    assert record.response.ephemeral
    assert "Manage Server" in record.response.text()

    shown = await say(w, room.owner, room.channel, "!rep config")
    assert "10 minutes" in shown.text()
    assert "10 reps" in shown.text()
    assert "1 minute" in (await say(w, mod, room.channel, "!rep config cooldown 1m")).text()
    record = await room.owner.run_slash(room.channel, "rep config", setting="budget", value="2")
    await w.sim.wait_for(lambda: record.response is not None and record.response.embeds)
    assert record.response is not None
    assert "2 reps" in record.response.text()
    for bad, expected in [
        ("cooldown soon", "🚫  Invalid cooldown"),
        ("cooldown 25h", "🚫  Invalid cooldown"),
        ("budget 0", "🚫  Invalid budget"),
        ("budget", "🚫  Missing value"),
    ]:
        assert title(await say(w, room.owner, room.channel, f"!rep config {bad}")) == expected
    assert "1 minute" in (await say(w, room.owner, room.channel, "!rep config")).text()

    # The new limits apply here: a 1-minute cooldown and two reps a day.
    await say(w, bob, room.channel, f"!+rep {carol.mention} one")
    await w.clock.advance(60)
    assert title(await say(w, bob, room.channel, f"!+rep {carol.mention} two")).startswith("✅")
    refusal = await say(w, bob, room.channel, f"!+rep {dave.mention} three")
    assert title(refusal) == "🚫  Daily limit reached"
    # …and only here.
    assert "10 minutes" in (await say(w, elsewhere.owner, elsewhere.channel, "!rep config")).text()


# ------------------------------------------------------------------------------------------ revoking


async def test_revoke_is_admin_only_logged_and_updates_total(
    bot_world: BotWorld, caplog: pytest.LogCaptureFixture
) -> None:
    w = bot_world
    room, elsewhere = await open_room(w, members=3), await open_room(w, members=1)
    bob, carol, dave = room.members
    gone = rep_number(await say(w, bob, room.channel, f"!+rep {carol.mention} for revoking"))
    kept = rep_number(await say(w, dave, room.channel, f"!+rep {carol.mention} for keeping"))

    assert title(await say(w, bob, room.channel, f"!rep revoke {gone}")) == "🚫  Missing permission"
    with caplog.at_level(logging.INFO, logger="pytunes.reputation"):
        done = await say(w, room.owner, room.channel, f"!rep revoke #{gone}")
    assert title(done) == "🗑️  Rep revoked"
    assert "`+1`" in done.text()
    assert any(f"rep #{gone}" in r.getMessage() and "revoked by" in r.getMessage() for r in caplog.records)
    history = await say(w, carol, room.channel, "!reps")
    assert f"#{kept}" in history.text()
    assert f"#{gone}" not in history.text()
    assert "Overall rep: +1 | 📑 Reps: 1" in history.text()

    again = await say(w, room.owner, room.channel, f"!rep revoke {gone}")
    assert title(again) == "🚫  Already revoked"
    assert room.owner.mention in again.text()
    assert title(await say(w, room.owner, room.channel, "!rep revoke 99999999")) == "🚫  No such rep"
    assert title(await say(w, room.owner, room.channel, "!rep revoke soon")) == "🚫  Invalid rep number"
    # Another server's admin cannot touch this server's reps.
    record = await elsewhere.owner.run_slash(elsewhere.channel, "rep revoke", number=str(kept))
    await w.sim.wait_for(lambda: record.response is not None)
    assert record.response is not None
    assert title(record.response) == "🚫  No such rep"
    assert await store(w).history_size(room.guild.id, carol.id) == (1, 1)


# ------------------------------------------------------------------------------------------ races


async def test_racing_commands_for_one_pair_record_exactly_one(bot_world: BotWorld) -> None:
    w = bot_world
    room = await open_room(w, members=2)
    bob, carol = room.members
    typed = [
        await bob.send(room.channel, f"!{cmd} {carol.mention} race {i}")
        for i, cmd in enumerate(["+rep", "-rep", "plusrep"])
    ]
    slash = await bob.run_slash(room.channel, "add_rep", user=carol, reason="race slash")
    replies = [
        await w.sim.wait_for_message(room.channel, lambda m, t=t: w.from_bot(m) and m.referenced is t)
        for t in typed
    ]
    await w.sim.wait_for(lambda: slash.response is not None and slash.response.embeds)
    assert slash.response is not None
    titles = sorted(title(m) for m in [*replies, slash.response])
    assert titles.count("🚫  Too fast") == 3
    assert len([t for t in titles if t.endswith(("Increased", "Decreased"))]) == 1
    _, count = await store(w).history_size(room.guild.id, carol.id)
    assert count == 1


async def test_bare_group_explains_and_direct_messages_are_refused(bot_world: BotWorld) -> None:
    w = bot_world
    room = await open_room(w, members=1)
    (bob,) = room.members
    usage = await say(w, bob, room.channel, "!rep")
    assert "!+rep @user <reason>" in usage.text()
    assert "!rep revoke <number>" in usage.text()
    # Reputation is per server: in a direct message there is no server to count it in.
    direct = w.sim.world.dm_channel(w.app.bot, bob.user)
    for command in ("!reps", f"!+rep {room.owner.mention} hi", "!leaderboard"):
        assert "only works in a server" in (await say(w, bob, direct, command)).text()
