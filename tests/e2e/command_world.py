"""A music world for the command tests: extra settings (the fake YouTube Data API), a bot that can be
restarted against the same simcord and database, and the helpers those tests share."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest

from pytunes.bot import PyTunes
from pytunes.config import Settings
from pytunes.core.clock import ManualClock
from pytunes.music.guild import GuildMusic
from pytunes.runner import running_bot
from simcord import InteractionRecord, Message, SimUser
from tests.e2e.music_world import MusicWorld, Room, music_site
from tests.media.conftest import MediaServer


@dataclass
class CommandWorld(MusicWorld):
    settings: Settings | None = None
    _running: AbstractAsyncContextManager[PyTunes] | None = field(default=None, repr=False)

    async def start_bot(self) -> PyTunes:
        assert self.settings is not None
        self._running = running_bot(self.settings, clock=self.clock, guild_ready_timeout=0.05)
        self.bot = await self._running.__aenter__()
        return self.bot

    async def stop_bot(self) -> None:
        if self._running is not None:
            running, self._running = self._running, None
            await running.__aexit__(None, None, None)

    async def restart(self) -> PyTunes:
        """Shut the bot down as an operator would, then start a new one on the same database."""
        await self.stop_bot()
        return await self.start_bot()

    def music(self, room: Room) -> GuildMusic:
        music = self.bot.music.existing(room.guild.id)
        assert music is not None, "no music command ran in this guild yet"
        return music

    def bot_channel(self, room: Room) -> int | None:
        return room.guild.voice_channel_of(self.app.bot.id)

    def failed_interactions(self) -> list[InteractionRecord]:
        return [i for i in self.sim.interactions if i.failed]


@asynccontextmanager
async def command_world(database: Path, *, rooms: int = 1, **overrides: Any) -> AsyncIterator[CommandWorld]:
    """Like `music_world`, with setting overrides and a restartable bot."""
    async with music_site(database, rooms=rooms, **overrides) as site:
        world = CommandWorld(site.sim, site.app, None, ManualClock(), site.rooms, settings=site.settings)  # type: ignore[arg-type]
        await world.start_bot()
        try:
            yield world
        finally:
            await world.stop_bot()


@asynccontextmanager
async def library_world(base: Path) -> AsyncIterator[CommandWorld]:
    """A command world with its local library under `base` and a 1 MB limit on downloads and uploads."""
    async with command_world(base / "music.db", library_dir=base / "library", max_download_mb=1) as world:
        yield world


def library_world_fixture(folder: str) -> Any:
    """The module-scoped `mw` fixture of a test module about the local library: one `library_world` in a
    new temporary folder named `folder`, started once the local media server is up."""

    @pytest.fixture(scope="module")
    async def mw(
        tmp_path_factory: pytest.TempPathFactory, media_server: MediaServer
    ) -> AsyncIterator[CommandWorld]:
        async with library_world(Path(tmp_path_factory.mktemp(folder))) as world:
            yield world

    return mw


def file_names(folder: Path) -> list[str]:
    """The names in `folder`, sorted; none if it is not there."""
    return sorted(os.listdir(folder)) if folder.exists() else []


async def reset_room(mw: CommandWorld, room: Room) -> None:
    """Bot out of voice, player empty, nobody in voice, every timer of the test run out."""
    bot_channel = mw.bot_channel(room)
    if bot_channel is not None:
        await room.alice.join_voice(room.guild.channels[bot_channel])
        typed = await room.alice.send(room.text, "!leave")
        await mw.sim.wait_for_message(room.text, titled(mw, "👋  Bye"), after=typed, timeout=10)
        await mw.sim.wait_for(lambda: mw.bot_channel(room) is None, timeout=10)
    for user in (room.alice, room.bob):
        await user.leave_voice(room.guild)
    await mw.clock.advance(3600)


async def say(
    mw: MusicWorld,
    room: Room,
    text: str,
    answer: str,
    *,
    user: SimUser | None = None,
    files: list[tuple[str, bytes, str | None]] | None = None,
    timeout: float = 15,
) -> Message:
    """`user` (alice by default) types `text`, uploading `files` with it; the bot's first answer titled
    `answer` after it."""
    typed = await (user or room.alice).send(room.text, text, files=files)
    return await mw.sim.wait_for_message(room.text, titled(mw, answer), after=typed, timeout=timeout)


async def slash(
    mw: MusicWorld, room: Room, command: str, *, user: SimUser | None = None, **options: Any
) -> InteractionRecord:
    """Run a slash command and wait until it was acknowledged and its first real answer is there."""
    record = await (user or room.alice).run_slash(room.text, command, **options)
    await record.wait_settled()
    assert not record.failed, f"/{command} was not acknowledged in time"
    await mw.sim.wait_for(
        lambda: record.response is not None and not record.response.loading and record.response.embeds,
        timeout=15,
    )
    return record


async def followup(mw: MusicWorld, record: InteractionRecord, text: str, *, timeout: float = 15) -> Message:
    """The first followup of `record` that mentions `text`, once it is there."""

    def find() -> Message | None:
        return next((m for m in record.followups if text in m.text()), None)

    found: Message = await mw.sim.wait_for(find, timeout)
    return found


async def settled(click: InteractionRecord) -> InteractionRecord:
    """The click, once acknowledged (it must never fail)."""
    await click.wait_settled()
    assert not click.failed
    return click


async def answer_to_click(
    mw: MusicWorld,
    room: Room,
    message: Message,
    label: str,
    answer: str,
    *,
    text: str = "",
    timeout: float = 10,
) -> Message:
    """Alice clicks `label` on `message` (the click must be acknowledged); the bot's first answer titled
    `answer` (and mentioning `text`) after `message`."""
    await settled(await room.alice.click(message, label))
    return await mw.sim.wait_for_message(room.text, titled(mw, answer, text), after=message, timeout=timeout)


def titles(message: Message) -> list[str]:
    """Every embed's title (or author line, which some embeds use instead)."""
    return [str(e.get("title") or e.get("author", {}).get("name", "")) for e in message.embeds]


def field_value(message: Message, name: str) -> str:
    for embed in message.embeds:
        for item in embed.get("fields", []):
            if item.get("name") == name:
                return str(item.get("value", ""))
    raise LookupError(f"no field {name!r} in {message.text()!r}")


def labels(message: Message) -> list[list[str]]:
    """The button labels, row by row."""
    return [[str(c.get("label", "")) for c in row.get("components", [])] for row in message.components]


def titled(mw: MusicWorld, prefix: str, text: str = "") -> Callable[[Message], bool]:
    """A bot message with an embed titled `prefix`… that mentions `text`."""
    match = cast(Callable[[Message], bool], mw.titled(prefix))
    return lambda m: match(m) and text in m.text()
