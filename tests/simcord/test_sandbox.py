"""The offline sandbox: message rendering, and the terminal driven against a real simcord and a tiny bot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC

import discord
import pytest
from discord import app_commands

from simcord import Message, Outcome, Permissions, Simcord, User
from simcord.client import fast_client_options, running
from simcord.sandbox import (
    DemoWorld,
    build_demo_world,
    render_deleted,
    render_embed,
    render_message,
    run_terminal,
)
from simcord.sandbox.render import cell_width, wrap

BOT = User(id=10, username="PyTunes", bot=True)
ALICE = User(id=11, username="alice")


def message(**fields: object) -> Message:
    base: dict[str, object] = {"id": 1, "channel_id": 2, "guild_id": 3, "author": BOT, "created_at": 0.0}
    base.update(fields)
    return Message(**base)  # type: ignore[arg-type]


def button(label: str, number: int, **extra: object) -> dict[str, object]:
    return {"type": 2, "style": 2, "label": label, "custom_id": f"b{number}", **extra}


# ---------------------------------------------------------------- rendering


def test_embed_is_a_box_of_equal_width_lines() -> None:
    embed = {
        "title": "Queue — 東京",
        "description": "Three songs are waiting",
        "fields": [{"name": "Up next", "value": "Never Gonna Give You Up"}],
        "footer": {"text": "Page 1/2"},
    }
    lines = render_embed(embed, width=40)
    assert lines[0].startswith("╭")
    assert lines[-1].endswith("╯")
    assert {cell_width(line) for line in lines} == {cell_width(lines[0])}
    assert "│ Queue — 東京" in lines[1]
    assert any(line.startswith("├") for line in lines[-3:])
    assert "│ Page 1/2" in lines[-2]
    assert "│ Up next" in "\n".join(lines)


def test_embed_wraps_to_the_width() -> None:
    lines = render_embed({"description": "word " * 40}, width=30)
    assert max(cell_width(line) for line in lines) <= 30


def test_buttons_are_numbered_in_order_with_disabled_marked() -> None:
    rows = [
        {
            "type": 1,
            "components": [
                button("Prev", 1, emoji={"name": "◀"}),
                button("Next ▶", 2),
                button("Stop", 3, disabled=True),
            ],
        },
        {"type": 1, "components": [button("Docs", 4, style=5, url="https://example.org")]},
    ]
    text = render_message(message(content="page", components=rows), viewer_id=ALICE.id)
    assert text is not None
    assert "[1 ◀ Prev] [2 Next ▶] [3 Stop (disabled)]" in text.splitlines()
    assert "[4 Docs ↗ https://example.org]" in text.splitlines()


def test_ephemeral_message_is_shown_only_to_its_user() -> None:
    secret = message(content="for you", flags=Message.EPHEMERAL, ephemeral_for=ALICE.id)
    assert render_message(secret, viewer_id=99) is None
    shown = render_message(secret, viewer_id=ALICE.id)
    assert shown is not None
    assert "(only you can see this)" in shown


def test_long_content_wraps_without_losing_words() -> None:
    content = " ".join(f"word{i}" for i in range(60)) + " " + "x" * 70
    text = render_message(message(content=content), viewer_id=None, width=30)
    assert text is not None
    body = text.splitlines()[1:]
    assert max(cell_width(line) for line in body) <= 30
    words = " ".join(body).split()
    assert words[:60] == content.split()[:60]
    assert "".join(words[60:]) == "x" * 70


def test_wrap_keeps_blank_lines_and_indentation() -> None:
    assert wrap("a\n\n  b", 10) == ["a", "", "  b"]


def test_header_shows_author_time_and_edited_marker() -> None:
    plain = render_message(message(content="pong"), viewer_id=None, number=3, tz=UTC)
    assert plain == "[3] PyTunes (bot) · 00:00\npong"
    edited = message(content="pong!", edited_at=5.0, history=[{"flags": 0}])
    rendered = render_message(edited, viewer_id=None, tz=UTC)
    assert rendered is not None
    assert rendered.splitlines()[0].endswith("(edited)")


def test_filling_a_deferred_response_is_not_an_edit() -> None:
    filled = message(content="done", edited_at=5.0, history=[{"flags": Message.LOADING}])
    rendered = render_message(filled, viewer_id=None)
    assert rendered is not None
    assert "(edited)" not in rendered
    thinking = render_message(message(flags=Message.LOADING), viewer_id=None)
    assert thinking is not None
    assert "PyTunes is thinking…" in thinking


def test_command_answer_says_who_used_the_command() -> None:
    answer = message(content="pong")
    answer.interaction_metadata = {"id": "5", "type": 2, "name": "ping", "user": ALICE.to_json()}
    text = render_message(answer, viewer_id=None)
    assert text is not None
    assert text.splitlines()[1] == "↪ alice used /ping"


def test_deleted_message_is_a_short_line() -> None:
    assert render_deleted(message(content="bye"), number=4) == "[4] ✗ message from PyTunes was deleted"


def test_mentions_and_timestamps_read_as_a_client_shows_them() -> None:
    text = render_message(
        message(content="<@11> in <#2>: starts <t:7200:R>, \x1b[31mred"),
        viewer_id=None,
        names={11: "alice", 2: "general"},
        now=3600.0,
    )
    assert text is not None
    assert text.splitlines()[1] == "@alice in #general: starts in 1 hour, [31mred"


def test_colour_only_when_asked() -> None:
    m = message(content="hi", embeds=[{"title": "T", "color": 0xFF0000}])
    plain = render_message(m, viewer_id=None)
    coloured = render_message(m, viewer_id=None, color=True)
    assert plain is not None
    assert coloured is not None
    assert "\x1b" not in plain
    assert "\x1b[38;2;255;0;0m" in coloured


# ---------------------------------------------------------------- the demo world


class PressButton(discord.ui.Button[discord.ui.View]):
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(content=f"pressed by {interaction.user.name}")


class StandInBot(discord.Client):
    """Not PyTunes: an unmodified discord.Client with a few prefix and slash commands to talk to."""

    def __init__(self) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        super().__init__(intents=intents, **fast_client_options())  # type: ignore[arg-type]
        self.tree = app_commands.CommandTree(self)
        self.said: list[discord.Message] = []
        tree = self.tree

        @tree.command(description="Answer with pong")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong")

        @tree.command(description="Repeat some text")
        async def echo(interaction: discord.Interaction, text: str, times: int = 1) -> None:
            await interaction.response.send_message(" ".join([text] * times))

        @tree.command(description="Say something only you can see")
        async def secret(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("for your eyes only", ephemeral=True)

        @tree.command(description="Never answer")
        async def ignore(interaction: discord.Interaction) -> None:
            return None

        @tree.command(description="Post a panel with buttons")
        async def panel(interaction: discord.Interaction) -> None:
            view = discord.ui.View()
            view.add_item(PressButton(label="Press", custom_id="press"))
            view.add_item(discord.ui.Button(label="Off", custom_id="off", disabled=True))
            embed = discord.Embed(title="Panel", description="Press a button")
            await interaction.response.send_message("a panel", embed=embed, view=view)

        gather = app_commands.Group(name="gather", description="Gatherings")

        @gather.command(description="Start a gathering")
        async def start(interaction: discord.Interaction, time: str) -> None:
            await interaction.response.send_message(f"gather at {time}")

        tree.add_command(gather)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None  # production paces re-IDENTIFY by 5 s; there is nothing to pace against here

    async def setup_hook(self) -> None:
        await self.tree.sync()

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot:
            return
        if message.content == "!ping":
            await message.channel.send("pong")
        elif message.content.startswith("!say "):
            self.said.append(await message.channel.send(message.content.removeprefix("!say ")))
        elif message.content == "!unsay" and self.said:
            await self.said.pop().delete()


@pytest.fixture(scope="module")
async def demo() -> AsyncIterator[DemoWorld]:
    async with Simcord() as sim:
        world = build_demo_world(sim, sim.create_application("PyTunes"))
        async with running(StandInBot(), sim.connection(world.app)):
            yield world


class Session:
    """A terminal fed line by line; `type` returns once the terminal shows its next prompt."""

    def __init__(self, demo: DemoWorld) -> None:
        self.out: list[str] = []
        self.written = asyncio.Event()
        self.stdin = asyncio.StreamReader()
        self.task = asyncio.create_task(
            run_terminal(demo, stdin=self.stdin, write=self._write, tz=UTC, quiet=0.05)
        )

    def _write(self, text: str) -> None:
        self.out.append(text)
        self.written.set()

    async def until(self, predicate: Callable[[], object], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self.written.clear()
                await self.written.wait()

    @property
    def text(self) -> str:
        return "\n".join(self.out)

    def prompts(self) -> int:
        return sum(1 for chunk in self.out if chunk.endswith("> "))

    async def type(self, line: str) -> str:
        """Type `line`; return what the terminal wrote in answer."""
        before, seen = self.prompts(), len(self.out)
        self.stdin.feed_data(line.encode() + b"\n")
        await self.until(lambda: self.prompts() > before)
        return "\n".join(self.out[seen:])

    async def quit(self) -> None:
        self.stdin.feed_data(b":quit\n")
        await asyncio.wait_for(self.task, 5)


async def session(demo: DemoWorld) -> Session:
    terminal = Session(demo)
    await terminal.until(terminal.prompts)
    return terminal


def test_demo_world_has_the_promised_guild(demo: DemoWorld) -> None:
    guild = demo.guild
    assert guild.name == "PyTunes Sandbox"
    assert guild.owner_id == demo.users["alice"].id
    assert list(demo.users) == ["alice", "bob", "carol"]
    assert {c.name for c in guild.channels.values()} == {"general", "Lounge", "Gaming"}
    assert demo.dj_role.id in guild.members[demo.users["bob"].id].roles
    assert guild.permissions_of(demo.users["bob"].id) & Permissions.MOVE_MEMBERS
    assert guild.permissions_of(demo.users["bob"].id) & Permissions.MANAGE_EVENTS
    assert not guild.permissions_of(demo.users["carol"].id) & Permissions.MOVE_MEMBERS
    assert demo.app.bot.id in guild.members


async def test_conversation_messages_slash_buttons_and_voice(demo: DemoWorld) -> None:
    sim, alice, bob = demo.sim, demo.users["alice"], demo.users["bob"]
    lounge = demo.voice_channels["Lounge"]
    term = await session(demo)
    assert term.out[-1] == "alice@#general> "

    await term.type("!ping")
    await term.until(lambda: "pong" in term.text)
    assert any(m.author.id == alice.id and m.content == "!ping" for m in sim.messages(demo.text_channel))
    assert "PyTunes (bot)" in term.text

    answer = await term.type("/ping")
    assert "pong" in answer
    assert sim.interactions[-1].outcome is Outcome.ACKNOWLEDGED

    answer = await term.type("/panel")
    assert "│ Panel" in answer
    assert "[1 Press] [2 Off (disabled)]" in answer

    answer = await term.type(":press 1")
    click = sim.interactions[-1]
    assert click.custom_id == "press"
    assert click.outcome is Outcome.ACKNOWLEDGED
    assert "pressed by alice" in answer
    assert "(edited)" in answer

    assert "you are now bob" in await term.type(":as bob")
    assert term.out[-1] == "bob@#general> "
    assert "bob joined Lounge" in await term.type(":join Lounge")
    assert demo.guild.voice_states[bob.id].channel_id == lounge.id
    who = await term.type(":who")
    assert "🔊 Lounge: bob" in who
    assert "🔊 Gaming: (empty)" in who
    assert "bob left Lounge" in await term.type(":leave")
    assert bob.id not in demo.guild.voice_states

    await term.quit()
    assert term.out[-1] == "bye"


async def test_slash_options_subcommands_and_clear_errors(demo: DemoWorld) -> None:
    term = await session(demo)
    assert "hello world hello world" in await term.type('/echo text="hello world" times=2')
    assert "hi there" in await term.type("/echo hi there")
    assert "gather at 10m" in await term.type("/gather start time=10m")

    created = len(demo.sim.interactions)
    assert "! /gather needs a subcommand: start" in await term.type("/gather")
    assert "! unknown command /nope" in await term.type("/nope")
    assert "no option 'bogus'" in await term.type("/echo text=x bogus=1")
    assert "times= wants a whole number, not 'many'" in await term.type("/echo text=x times=many")
    assert "needs text=…" in await term.type("/echo times=2")
    assert "No closing quotation" in await term.type('/echo text="open')
    assert len(demo.sim.interactions) == created

    listing = await term.type(":commands")
    assert "/echo text=<text> [times=<whole number>]  — Repeat some text" in listing
    assert "/gather start time=<text>  — Start a gathering" in listing
    assert "unknown command :dance" in await term.type(":dance")
    assert "who? choose one of: alice, bob, carol" in await term.type(":as dave")
    assert "join which voice channel? Lounge, Gaming" in await term.type(":join Attic")
    assert "you are not in a voice channel" in await term.type(":leave")
    await term.quit()


async def test_ephemeral_reply_is_seen_only_by_its_user(demo: DemoWorld) -> None:
    term = await session(demo)
    answer = await term.type("/secret")
    assert "for your eyes only" in answer
    assert "(only you can see this)" in answer
    await term.type(":as bob")
    assert "for your eyes only" not in await term.type(":history 50")
    await term.type(":as alice")
    assert "for your eyes only" in await term.type(":history 50")
    await term.quit()


async def test_edits_deletions_and_pressing_an_older_message(demo: DemoWorld) -> None:
    sim = demo.sim
    term = await session(demo)
    await term.type("!say now you see me")
    await term.until(lambda: "now you see me" in term.text)
    await term.type("!unsay")
    await term.until(lambda: "✗ message from PyTunes was deleted" in term.text)

    await term.type("/panel")
    first = sim.interactions[-1].response
    await term.type("/panel")
    second = sim.interactions[-1].response
    assert first is not None
    assert second is not None
    number = sim.world.channel_messages[demo.text_channel.id].index(first) + 1
    assert "pressed by alice" in await term.type(f":press 1 {number}")
    assert first.content == "pressed by alice"
    assert second.content == "a panel"
    assert "button 2 (Off) is disabled" in await term.type(":press 2")
    assert "has 2 button(s)" in await term.type(":press 3")
    assert "there is no message 99999" in await term.type(":press 1 99999")
    await term.quit()


async def test_unanswered_command_is_reported_as_failed(demo: DemoWorld) -> None:
    demo.sim.desk.ack_window = 0.3  # a scaled-down 3 s window
    try:
        term = await session(demo)
        assert "! /ignore: the application did not respond" in await term.type("/ignore")
        assert demo.sim.interactions[-1].failed
        await term.quit()
    finally:
        demo.sim.desk.ack_window = 3.0


async def test_scripted_input_runs_until_end_of_file(demo: DemoWorld) -> None:
    out: list[str] = []
    stdin = asyncio.StreamReader()
    stdin.feed_data(b"/ping\n:as carol\n:join gam\n:who\n")
    stdin.feed_eof()
    await asyncio.wait_for(run_terminal(demo, stdin=stdin, write=out.append), 10)
    text = "\n".join(out)
    assert "pong" in text
    assert "carol joined Gaming" in text
    assert "🔊 Gaming: carol" in text
    assert out[-1] == "bye"
    assert demo.guild.voice_channel_of(demo.users["carol"].id) == demo.voice_channels["Gaming"].id
    await demo.users["carol"].leave_voice(demo.guild)
