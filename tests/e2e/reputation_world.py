"""Shared pieces of the reputation end-to-end tests: a fresh server per test, and ways to read replies."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from pytunes.reputation.model import DAY, Given, NewRep, RepSettings, Source
from pytunes.reputation.store import RepStore
from simcord import Channel, Guild, Message, SimUser
from tests.e2e.conftest import BotWorld

ZWSP = "\u200b"
rooms = itertools.count(1)  # unique names across test modules


@dataclass
class Room:
    guild: Guild
    channel: Channel
    owner: SimUser
    members: list[SimUser]


async def open_room(w: BotWorld, members: int = 3) -> Room:
    n = next(rooms)
    owner = w.sim.create_user(f"owner{n}")
    guild = w.sim.create_guild(f"Rep room {n}", owner)
    people = [w.sim.create_user(f"member{n}_{i}") for i in range(members)]
    for person in people:
        w.sim.add_member(guild, person)
    channel = w.sim.create_text_channel(guild, "general")
    w.sim.add_bot(guild, w.app)
    await w.sim.wait_for(lambda: w.bot.get_guild(guild.id) is not None)
    return Room(guild, channel, owner, people)


def store(w: BotWorld) -> RepStore:
    # The extension loader executes the cog module afresh, so its classes are not this module's imports.
    cog = w.bot.get_cog("Reputation")
    assert cog is not None
    service = cog.service  # type: ignore[attr-defined]
    assert isinstance(service.store, RepStore)
    return service.store


async def say(w: BotWorld, user: SimUser, channel: Channel, text: str) -> Message:
    """`user` types `text`; returns the bot's reply to it."""
    typed = await user.send(channel, text)
    return await w.sim.wait_for_message(
        channel, lambda m: w.from_bot(m) and m.referenced is typed, after=typed
    )


def title(message: Message) -> str:
    return str(message.embeds[0].get("title", ""))


def field(message: Message, name: str) -> str:
    return next(str(f["value"]) for f in message.embeds[0].get("fields", []) if f["name"] == name)


def rep_number(message: Message) -> int:
    return int(message.embeds[0]["footer"]["text"].removeprefix("Rep #"))


def labels(message: Message) -> list[tuple[str, bool]]:
    return [(b["label"], bool(b.get("disabled", False))) for b in message.buttons()]


def pings_nobody(message: Message) -> bool:
    return message.mentions == [] and message.mention_roles == [] and not message.mention_everyone


def page_label(version: dict[str, object]) -> str:
    """The "p/N" indicator of one version of a message (current or from its edit history)."""
    rows = version.get("components") or []
    assert isinstance(rows, list)
    return next((b["label"] for row in rows for b in row["components"] if "/" in b["label"]), "")


async def seed(w: BotWorld, room: Room, receiver_id: int, count: int, *, ago: float = 3600) -> None:
    """Set-up only: `count` reps for `receiver_id`, `ago` seconds back, written straight to the store."""
    s = store(w)
    await s.save_settings(room.guild.id, RepSettings(cooldown_seconds=0, daily_budget=1000))
    for i in range(count):
        rep = NewRep(
            room.guild.id, room.owner.id, receiver_id, 1, "seeded", Source(room.channel.id, message_id=i + 1)
        )
        assert isinstance(await s.give(rep, w.clock.now() - ago + i), Given)


@pytest.fixture(autouse=True)  # used by the reputation test modules, which import it
async def next_day(bot_world: BotWorld) -> None:
    """A day later than the last test: no cooldown or budget carries over, no navigation still listens."""
    await bot_world.clock.advance(DAY)
    await bot_world.sim.wait_for(lambda: bot_world.bot.interactions.open_streams == 0)
