"""simcord's REST rules as an unmodified discord.py client meets them: limits, permissions, faults, voice."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
from discord.http import Route

from simcord import Permissions, Role
from simcord.client import running
from tests.simcord.conftest import RawRest, RecordingClient, World


class RestClient(RecordingClient):
    """Records the reaction, voice and member events the REST calls below should cause."""

    def __init__(self) -> None:
        super().__init__()
        self.reactions: list[tuple[str, discord.RawReactionActionEvent]] = []
        self.voice: list[tuple[int, int | None]] = []  # (member id, channel id after)
        self.nicks: list[tuple[int, str | None]] = []

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        self.reactions.append(("add", payload))

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        self.reactions.append(("remove", payload))

    async def on_voice_state_update(
        self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        self.voice.append((member.id, after.channel.id if after.channel else None))

    async def on_member_update(self, before: discord.Member, after: discord.Member) -> None:
        self.nicks.append((after.id, after.nick))

    def text_channel(self, channel_id: int) -> discord.TextChannel:
        channel = self.get_channel(channel_id)
        assert isinstance(channel, discord.TextChannel)
        return channel

    async def post(self, channel_id: int, payload: dict[str, Any]) -> Any:
        """POST a message body as given, through discord.py's HTTP client (its View refuses bad layouts)."""
        route = Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id)
        return await self.http.request(route, json=payload)


@pytest.fixture
async def bot(world: World) -> AsyncIterator[RestClient]:
    world.sim.faults.clear()
    client = RestClient()
    async with running(client, world.sim.connection(world.app)):
        yield client


def bot_role(world: World) -> Role:
    return next(r for r in world.guild.roles.values() if r.name == world.app.name)


async def rejected(call: Any) -> discord.HTTPException:
    with pytest.raises(discord.HTTPException) as info:
        await call
    return info.value


def button(custom_id: str) -> dict[str, Any]:
    return {"type": 2, "style": 1, "label": custom_id[:80], "custom_id": custom_id}


# ------------------------------------------------------------------------------------------ limits


async def test_content_limit_is_2000_characters(world: World, bot: RestClient) -> None:
    channel = bot.text_channel(world.general.id)
    assert len((await channel.send("x" * 2000)).content) == 2000
    error = await rejected(channel.send("x" * 2001))
    assert (error.status, error.code) == (400, 50035)
    assert "In content: Must be 2000 or fewer in length." in error.text


@pytest.mark.parametrize(
    ("embed", "field"),
    [
        (discord.Embed(title="t" * 257), "embeds.0.title"),
        (discord.Embed(description="d" * 4097), "embeds.0.description"),
        (discord.Embed(title="many fields"), "embeds.0.fields"),
        (discord.Embed(description="d" * 4000), "In embeds:"),
    ],
    ids=["title-257", "description-4097", "26-fields", "total-over-6000"],
)
async def test_embed_limits(world: World, bot: RestClient, embed: discord.Embed, field: str) -> None:
    if embed.title == "many fields":
        for i in range(26):
            embed.add_field(name=f"f{i}", value="v")
    if embed.description and len(embed.description) == 4000:
        for i in range(3):
            embed.add_field(name=f"f{i}", value="v" * 1000)  # 7000 characters in all
    error = await rejected(bot.text_channel(world.general.id).send(embed=embed))
    assert (error.status, error.code) == (400, 50035)
    assert field in error.text


@pytest.mark.parametrize(
    ("components", "field"),
    [
        ([{"type": 1, "components": [button(f"r{i}")]} for i in range(6)], "In components:"),
        ([{"type": 1, "components": [button(f"b{i}") for i in range(6)]}], "In components.0.components:"),
        ([{"type": 1, "components": [button("c" * 101)]}], "In components.0.components.0.custom_id:"),
        (
            [{"type": 1, "components": [button("same"), button("same")]}],
            "components.0.components.1.custom_id",
        ),
    ],
    ids=["6-rows", "6-buttons-in-a-row", "custom-id-101", "duplicate-custom-id"],
)
async def test_component_limits(world: World, bot: RestClient, components: Any, field: str) -> None:
    error = await rejected(bot.post(world.general.id, {"content": "c", "components": components}))
    assert (error.status, error.code) == (400, 50035)
    assert field in error.text


async def test_empty_message_is_50006(world: World, bot: RestClient) -> None:
    error = await rejected(bot.text_channel(world.general.id).send())
    assert (error.status, error.code) == (400, 50006)


# ------------------------------------------------------------------------------------------ replies, mentions


async def test_reply_to_a_deleted_message(world: World, bot: RestClient) -> None:
    channel = bot.text_channel(world.general.id)
    gone = await channel.send("soon gone")
    await gone.delete()
    error = await rejected(channel.send("reply", reference=gone))
    assert (error.status, error.code) == (400, 50035)
    assert "message_reference" in error.text
    sent = await channel.send("reply anyway", reference=gone.to_reference(fail_if_not_exists=False))
    assert sent.reference is None
    assert world.sim.world.messages[sent.id].reference is None


async def test_allowed_mentions_are_honoured(world: World, bot: RestClient) -> None:
    channel = bot.text_channel(world.general.id)
    pinged = await channel.send(f"hi {world.alice.mention}")
    assert [u.id for u in pinged.mentions] == [world.alice.id]
    quiet = await channel.send(
        f"hi {world.alice.mention}", allowed_mentions=discord.AllowedMentions(users=[])
    )
    assert quiet.mentions == []
    assert world.sim.world.messages[quiet.id].mentions == []


async def test_reactions_dispatch_add_and_remove_events(world: World, bot: RestClient) -> None:
    message = await bot.text_channel(world.general.id).send("react to me")
    await message.add_reaction("🎵")
    await world.alice.react(world.sim.world.messages[message.id], "🎵")
    await message.remove_reaction("🎵", discord.Object(world.app.bot.id))
    await world.sim.wait_for(lambda: len(bot.reactions) >= 3)
    seen = [(kind, p.user_id, str(p.emoji)) for kind, p in bot.reactions if p.message_id == message.id]
    assert seen == [
        ("add", world.app.bot.id, "🎵"),
        ("add", world.alice.id, "🎵"),
        ("remove", world.app.bot.id, "🎵"),
    ]
    assert world.sim.world.messages[message.id].reactions["🎵"] == {world.alice.id}


# ------------------------------------------------------------------------------------------ permissions


async def test_editing_someone_elses_message_is_403(world: World, bot: RestClient) -> None:
    theirs = await world.alice.send(world.general, "mine")
    error = await rejected(
        bot.text_channel(world.general.id).get_partial_message(theirs.id).edit(content="x")
    )
    assert isinstance(error, discord.Forbidden)
    assert error.code == 50005
    assert theirs.content == "mine"


async def test_deleting_someone_elses_message_needs_manage_messages(world: World, bot: RestClient) -> None:
    channel = bot.text_channel(world.general.id)
    role = bot_role(world)
    theirs = await world.alice.send(world.general, "delete me")
    role.permissions &= ~Permissions.MANAGE_MESSAGES
    try:
        error = await rejected(channel.get_partial_message(theirs.id).delete())
        assert isinstance(error, discord.Forbidden)
        assert error.code == 50013
        assert not theirs.deleted
    finally:
        role.permissions |= Permissions.MANAGE_MESSAGES
    await channel.get_partial_message(theirs.id).delete()
    assert theirs.deleted


# ------------------------------------------------------------------------------------------ faults and headers


async def test_injected_429_is_retried_transparently(world: World, bot: RestClient) -> None:
    world.sim.faults.inject("POST /channels/*/messages", 429, retry_after=0.2)
    started = time.monotonic()
    sent = await bot.text_channel(world.general.id).send("after the rate limit")
    assert time.monotonic() - started >= 0.2
    statuses = [e.status for e in world.sim.rest_log if e.method == "POST" and e.path.endswith("/messages")]
    assert statuses[-2:] == [429, 200]
    assert world.sim.world.messages[sent.id].content == "after the rate limit"


async def test_injected_500_is_retried(world: World, bot: RestClient) -> None:
    # discord.py waits 1 s before its first retry of a 5xx; that is its behaviour, not a test sleep.
    world.sim.faults.inject("GET /channels/*", 500)
    channel = await bot.fetch_channel(world.general.id)
    assert channel.id == world.general.id
    statuses = [e.status for e in world.sim.rest_log if e.path == f"/channels/{world.general.id}"]
    assert statuses[-2:] == [500, 200]


async def test_latency_is_observable_in_the_rest_log(world: World, bot: RestClient) -> None:
    world.sim.faults.latency = 0.15
    await bot.fetch_channel(world.general.id)
    world.sim.faults.latency = 0.0
    assert world.sim.rest_log[-1].latency >= 0.15


async def test_rate_limit_headers_are_present(world: World) -> None:
    async with RawRest(world.sim.api_base, world.app.token) as raw:
        _, _, first = await raw.request("GET", f"/channels/{world.general.id}")
        _, _, second = await raw.request("GET", f"/channels/{world.general.id}")
    assert int(first["X-RateLimit-Remaining"]) > int(second["X-RateLimit-Remaining"])
    assert float(second["X-RateLimit-Reset-After"]) >= 0
    assert first["X-RateLimit-Bucket"] == second["X-RateLimit-Bucket"]
    assert first["Content-Type"] == "application/json"


async def test_unknown_routes_get_discords_json_errors(world: World) -> None:
    async with RawRest(world.sim.api_base, world.app.token) as raw:
        assert await raw.expect(404, "GET", "/no/such/route") == {"message": "404: Not Found", "code": 0}
        method = await raw.expect(405, "DELETE", "/users/@me")
        assert method == {"message": "405: Method Not Allowed", "code": 0}
        status, body, _ = await raw.request(
            "POST", f"/channels/{world.general.id}/messages", raw_body="{not json"
        )
    assert (status, body) == (400, {"message": "The request body contains invalid JSON.", "code": 50109})


# ------------------------------------------------------------------------------------------ members and voice


async def test_moving_and_disconnecting_a_member_in_voice(world: World, bot: RestClient) -> None:
    lounge = world.sim.create_voice_channel(world.guild, "Lounge")
    await world.bob.join_voice(world.music)
    guild = bot.get_guild(world.guild.id)
    assert guild is not None
    bob = await guild.fetch_member(world.bob.id)
    target = await world.sim.wait_for(lambda: guild.get_channel(lounge.id))  # after CHANNEL_CREATE
    assert isinstance(target, discord.VoiceChannel)
    await bob.move_to(target)
    assert world.guild.voice_channel_of(world.bob.id) == lounge.id
    await bob.move_to(None)
    assert world.guild.voice_channel_of(world.bob.id) is None
    await world.sim.wait_for(lambda: (world.bob.id, None) in bot.voice)
    assert bot.voice[-2:] == [(world.bob.id, lounge.id), (world.bob.id, None)]
    error = await rejected(bob.move_to(target))  # not in voice any more
    assert (error.status, error.code) == (400, 40032)


async def test_nick_change_and_role_hierarchy(world: World, bot: RestClient) -> None:
    guild = bot.get_guild(world.guild.id)
    assert guild is not None
    bob = await guild.fetch_member(world.bob.id)
    await bob.edit(nick="Bobby")
    assert world.guild.members[world.bob.id].nick == "Bobby"
    await world.sim.wait_for(lambda: (world.bob.id, "Bobby") in bot.nicks)
    carol = world.sim.create_user("carol")
    boss = world.sim.create_role(world.guild, "Boss", position=bot_role(world).position + 1)
    world.sim.add_member(world.guild, carol, [boss])
    for target in (carol, world.alice):  # a higher role, and the owner
        member = await guild.fetch_member(target.id)
        error = await rejected(member.edit(nick="renamed"))
        assert isinstance(error, discord.Forbidden)
        assert error.code == 50013
        assert world.guild.members[target.id].nick is None
