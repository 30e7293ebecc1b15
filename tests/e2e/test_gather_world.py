"""Helpers for the gather tests (this module holds none): a simcord world whose guilds have a text
channel, two voice channels, an organizer, a moderator with Manage Events and a handful of members, and
PyTunes on a manual clock that a test can stop and start again on the same database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytunes.bot import PyTunes
from pytunes.config import Settings
from pytunes.core.clock import ManualClock
from pytunes.runner import running_bot
from pytunes.sandbox import simcord_settings
from simcord import Channel, Guild, Message, Permissions, Simcord, SimUser
from simcord.world import Application

MEMBERS = ("alice", "bob", "carol", "dave", "erin", "frank", "gina")


@dataclass
class Place:
    guild: Guild
    text: Channel
    voice: Channel
    other_voice: Channel
    owner: SimUser
    mod: SimUser
    people: dict[str, SimUser]

    def __getattr__(self, name: str) -> SimUser:
        people = self.__dict__.get("people", {})
        if name in people:
            return people[name]
        raise AttributeError(name)


def build_place(sim: Simcord, app: Application, name: str, *, bot_permissions: int | None = None) -> Place:
    owner = sim.create_user(f"{name}-owner")
    guild = sim.create_guild(name, owner)
    mods = sim.create_role(guild, "Moderators", Permissions.MANAGE_EVENTS, position=5)
    mod = sim.create_user(f"{name}-mod")
    sim.add_member(guild, mod, [mods])
    people = {}
    for member in MEMBERS:
        user = sim.create_user(member if name == "Guild 1" else f"{member}{name[-1]}")
        sim.add_member(guild, user)
        people[member] = user
    text = sim.create_text_channel(guild, "general")
    voice = sim.create_voice_channel(guild, "Lounge")
    other = sim.create_voice_channel(guild, "Gaming")
    if bot_permissions is None:
        sim.add_bot(guild, app)
    else:
        sim.add_bot(guild, app, bot_permissions)
    return Place(guild, text, voice, other, owner, mod, people)


@dataclass
class GatherWorld:
    sim: Simcord
    app: Application
    clock: ManualClock
    places: list[Place]
    settings: Settings
    bot: PyTunes | None = None

    _running: AsyncExitStack | None = None

    async def start_bot(self) -> PyTunes:
        """Start PyTunes (again) on the same database, simcord and clock."""
        stack = AsyncExitStack()
        self.bot = await stack.enter_async_context(
            running_bot(self.settings, clock=self.clock, guild_ready_timeout=0.05)
        )
        self._running = stack
        return self.bot

    async def stop_bot(self) -> None:
        """Stop PyTunes. It writes nothing on the way out, so this restarts it as a crash would."""
        if self._running is not None:
            await self._running.aclose()
            self._running = None

    @property
    def place(self) -> Place:
        return self.places[0]

    def from_bot(self, message: Message) -> bool:
        return message.author.id == self.app.bot.id

    def gathering(self, place: Place | None = None) -> Callable[[Message], bool]:
        def match(message: Message) -> bool:
            return self.from_bot(message) and any(
                e.get("title") == "📣  Voice Channel Gathering" for e in message.embeds
            )

        return match

    async def wait_gathering(self, place: Place | None = None, after: Message | None = None) -> Message:
        where = place or self.place
        return await self.sim.wait_for_message(where.text, self.gathering(where), after=after, timeout=10)


def service(bot: PyTunes) -> Any:
    return bot.get_cog("Gather").service  # type: ignore[union-attr]


def gather_settings(sim: Simcord, app: Application, database: Path, **overrides: Any) -> Settings:
    base = Settings(  # type: ignore[call-arg]
        _env_file=None, prefix_cleanup_seconds=30, reply_delete_seconds=30, **overrides
    )
    return simcord_settings(base, sim.connection(app), database_url=f"sqlite+aiosqlite:///{database}")


@asynccontextmanager
async def gather_world(
    database: Path, *, guilds: int = 1, bot_permissions: int | None = None, **overrides: Any
) -> AsyncIterator[GatherWorld]:
    async with Simcord() as sim:
        sim.rest.bucket_limit = 1000  # these tests are about gathering, not the simulator's rate limits
        app = sim.create_application("PyTunes")
        places = [
            build_place(sim, app, f"Guild {i + 1}", bot_permissions=bot_permissions) for i in range(guilds)
        ]
        clock = ManualClock()
        settings = gather_settings(sim, app, database, **overrides)
        world = GatherWorld(sim, app, clock, places, settings)
        try:
            await world.start_bot()
            yield world
        finally:
            await world.stop_bot()


def check_in_table(message: Message) -> str:
    """The check-in table as one text (it may be split across several embed fields)."""
    embed = message.embeds[-1]
    return "\n".join(f["value"] for f in embed.get("fields", []))


def statuses(message: Message) -> dict[str, str]:
    """Name → status as the table shows it."""
    rows = {}
    for line in check_in_table(message).splitlines():
        if line.startswith("| ") and not line.startswith("| User "):
            name, status = (cell.strip() for cell in line.strip("|").split("|"))
            rows[name] = status
    return rows


def labels(message: Message) -> list[str]:
    return [b["label"] for b in message.buttons()]


def footer(message: Message) -> str:
    return str(message.embeds[-1].get("footer", {}).get("text", "")) if message.embeds else ""
