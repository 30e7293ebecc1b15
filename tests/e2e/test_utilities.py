"""wakeup (permissions, voice, cooldown, away channel, context menu), rename (role rule, limits, Discord
refusals, modal), uwu and help, driven through simcord."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from pytunes.utility.uwu import uwuify
from simcord import Channel, Message, SimUser
from tests.e2e.community_world import Community, community


@pytest.fixture(scope="module")
async def w(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Community]:
    async with community(tmp_path_factory.mktemp("utilities"), wakeup_cooldown_seconds=300) as world:
        yield world


async def slash(w: Community, who: SimUser, command: str, /, **options: object) -> Message:
    record = await who.run_slash(w.general, command, **options)
    await record.wait_settled()
    response: Message = await w.sim.wait_for(lambda: record.response)
    return response


def moves_of(w: Community, user: SimUser) -> list[int | None]:
    """Where the bot moved `user`, in order (None = disconnect)."""
    return [
        int(e.request_body["channel_id"]) if e.request_body["channel_id"] else None
        for e in w.sim.rest_log
        if e.method == "PATCH"
        and e.path.endswith(f"/members/{user.id}")
        and isinstance(e.request_body, dict)
        and "channel_id" in e.request_body
        and e.status < 300
    ]


def voice_of(w: Community, user: SimUser) -> int | None:
    return w.guild.voice_channel_of(user.id)


async def seen_in(w: Community, user: SimUser, channel: Channel) -> None:
    """Wait until the bot's cache has `user` in `channel` (it decides who may wake whom from it)."""

    def seen() -> bool:
        guild = w.bot.get_guild(w.guild.id)
        member = guild.get_member(user.id) if guild else None
        return bool(
            member and member.voice and member.voice.channel and member.voice.channel.id == channel.id
        )

    await w.sim.wait_for(seen)


async def join(w: Community, user: SimUser, channel: Channel) -> None:
    await user.join_voice(channel)
    await seen_in(w, user, channel)


async def bounce_done(w: Community, user: SimUser, moves: int) -> None:
    """Advance the bot clock through the pauses until `moves` moves of `user` happened and the bot has
    seen where they ended up."""
    await w.advance_until(lambda: len(moves_of(w, user)) >= moves, step=0.1, limit=5)
    await w.until(lambda: voice_of(w, user) is not None)
    await seen_in(w, user, w.sim.world.channels[voice_of(w, user) or 0])


# ------------------------------------------------------------------------------------------ wakeup


async def test_wakeup_in_the_same_channel_bounces_through_afk(w: Community) -> None:
    await join(w, w.alice, w.lounge)
    await join(w, w.bob, w.lounge)
    before = len(moves_of(w, w.bob))
    typed = await w.alice.send(w.general, f"!wakeup {w.bob.mention}")
    announce = await w.reply_to(typed)
    assert announce.content == f"{w.alice.mention}: Hey {w.bob.mention}, wake up!"
    assert [u.id for u in announce.mentions] == [w.bob.id], "pings the sleeper only"
    assert announce.referenced is None, "a channel message, not a reply"
    await bounce_done(w, w.bob, before + 4)
    assert moves_of(w, w.bob)[before:] == [w.afk.id, w.lounge.id] * 2
    assert voice_of(w, w.bob) == w.lounge.id


async def test_wakeup_cooldown_per_target(w: Community) -> None:
    typed = await w.alice.send(w.general, f"!wakeup {w.bob.mention} 1")
    refusal = await w.reply_to(typed)
    assert refusal.embeds[0]["title"] == "🚫  Slow down", refusal.text()
    before = len(moves_of(w, w.bob))
    await w.clock.advance(300)
    typed = await w.alice.send(w.general, f"!wakeup {w.bob.mention} 1")
    await w.reply_to(typed)
    await bounce_done(w, w.bob, before + 2)


async def test_wakeup_needs_move_members_or_the_same_channel(w: Community) -> None:
    await join(w, w.alice, w.den)
    await w.clock.advance(300)
    typed = await w.alice.send(w.general, f"!wakeup {w.bob.mention}")
    refusal = await w.reply_to(typed)
    assert refusal.embeds[0]["title"] == "🚫  Not allowed"
    # A moderator may, from anywhere (even outside voice).
    before = len(moves_of(w, w.bob))
    response = await slash(w, w.mod, "wakeup", member=w.bob, count=1)
    assert "wake up!" in response.content
    await bounce_done(w, w.bob, before + 2)


async def test_wakeup_refusals_change_nothing(w: Community) -> None:
    await w.clock.advance(300)
    before = len(moves_of(w, w.bob))
    await w.mod.leave_voice(w.guild)
    not_in_voice = await slash(w, w.mod, "wakeup", member=w.mod)
    assert not_in_voice.embeds[0]["title"] == "🚫  Not in voice"
    typed = await w.mod.send(w.general, f"!wakeup {w.bob.mention} 6")
    too_many = await w.reply_to(typed)
    assert "Usage" in too_many.text()
    helper = w.sim.create_user("musicbot", bot=True)
    w.sim.add_member(w.guild, helper)
    bot_target = await slash(w, w.mod, "wakeup", member=helper)
    assert bot_target.embeds[0]["title"] == "🚫  Not a sleeper"
    assert len(moves_of(w, w.bob)) == before


async def test_wakeup_context_menu_and_configured_away_channel(w: Community) -> None:
    await w.clock.advance(300)
    w.bot.settings.away_channel_id = w.den.id
    try:
        before = len(moves_of(w, w.bob))
        record = await w.mod.run_user_command(w.general, "WakeUp!", w.bob)
        await record.wait_settled()
        assert record.response is not None
        assert "wake up!" in record.response.content
        await bounce_done(w, w.bob, before + 4)
        assert moves_of(w, w.bob)[before:] == [w.den.id, w.lounge.id] * 2
    finally:
        w.bot.settings.away_channel_id = None


async def test_wakeup_without_an_afk_channel_says_so(w: Community) -> None:
    await w.clock.advance(300)
    w.guild.afk_channel_id = None
    w.sim.world.dispatch("GUILD_UPDATE", w.guild.to_json(), guild_id=w.guild.id)
    try:
        await w.sim.wait_for(lambda: w.bot.get_guild(w.guild.id).afk_channel is None)  # type: ignore[union-attr]
        refusal = await slash(w, w.mod, "wakeup", member=w.bob)
        assert refusal.embeds[0]["title"] == "🚫  No AFK channel"
        assert refusal.ephemeral
    finally:
        w.guild.afk_channel_id = w.afk.id
        w.sim.world.dispatch("GUILD_UPDATE", w.guild.to_json(), guild_id=w.guild.id)


# ------------------------------------------------------------------------------------------ rename


def nick(w: Community, user: SimUser) -> str | None:
    return w.guild.members[user.id].nick


async def test_rename_equal_role_self_and_reset(w: Community) -> None:
    typed = await w.alice.send(w.general, f"!rename {w.bob.mention} Sleepy Bob")
    reply = await w.reply_to(typed)
    assert reply.embeds[0]["title"] == "✏️  Renamed"
    assert "`bob` → `Sleepy Bob`" in reply.text()
    assert nick(w, w.bob) == "Sleepy Bob"
    reset = await slash(w, w.bob, "rename", user=w.bob)
    assert "`Sleepy Bob` → `bob`" in reset.text()
    assert nick(w, w.bob) is None


async def test_rename_refusals(w: Community) -> None:
    higher = await slash(w, w.bob, "rename", user=w.mod, name="demoted")
    assert higher.embeds[0]["title"] == "🚫  Insufficient role"
    too_long = await slash(w, w.alice, "rename", user=w.bob, name="x" * 33)
    assert too_long.embeds[0]["title"] == "🚫  Nickname too long"
    owner = await slash(w, w.mod, "rename", user=w.owner, name="boss")
    assert owner.embeds[0]["title"] == "🚫  Rename failed"
    assert "Missing Permissions" in owner.text()
    assert nick(w, w.mod) is None
    assert nick(w, w.bob) is None
    assert nick(w, w.owner) is None


async def test_rename_context_menu_opens_a_modal(w: Community) -> None:
    record = await w.alice.run_user_command(w.general, "Rename", w.bob)
    await record.wait_settled()
    assert record.modal is not None
    assert record.modal["title"] == "Rename"
    submitted = await w.alice.submit_modal(record, {"rename:nick": "Bobby"})
    await submitted.wait_settled()
    await w.sim.wait_for(lambda: submitted.response)
    assert submitted.response is not None
    assert "→ `Bobby`" in submitted.response.text()
    assert nick(w, w.bob) == "Bobby"


# ------------------------------------------------------------------------------------------ uwu, help


async def test_uwu_and_uwu_me(w: Community) -> None:
    text = "Hello there, I really love this small cute kitten!"
    typed = await w.alice.send(w.general, f"!uwu {text}")
    reply = await w.reply_to(typed)
    assert reply.referenced is None
    assert reply.embeds[0]["title"] == "Converted message to UwU format:"
    assert reply.embeds[0]["description"] == f"```\n{uwuify(text, seed=typed.id)}\n```"
    typed = await w.alice.send(w.general, f"!uwu_me {text}")
    said = await w.reply_to(typed)
    assert said.content == f"{w.alice.mention}: {uwuify(text, seed=typed.id)}"
    assert said.mentions == []
    await w.sim.wait_for(lambda: typed.deleted)


def test_uwu_is_deterministic_for_a_seed_and_keeps_links() -> None:
    text = "Really? Look at https://example.com/Really and <@123>, then call me <:smile:123456789012345678>."
    assert uwuify(text, seed=7) == uwuify(text, seed=7)
    out = uwuify(text, seed=7)
    assert "https://example.com/Really" in out
    assert "<@123>" in out
    assert "<:smile:123456789012345678>" in out
    assert "weawwy" in out


async def test_help_names_every_command_and_the_context_menus(w: Community) -> None:
    reply = await slash(w, w.bob, "help")
    text = reply.text()
    for name in ("!notify me", "!wakeup", "!rename", "!uwu_me", "!reactions add", "WakeUp!", "Rename"):
        assert name in text
    one = await slash(w, w.bob, "help", command="notify")
    assert "Subcommands" in one.text()
    assert "!notify remove" in one.text()
