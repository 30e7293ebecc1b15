"""The sandbox REPL: type as one of the demo users, watch the bot answer, press its buttons.

    await run_terminal(world)                      # a real terminal
    await run_terminal(world, stdin=reader, write=lines.append)   # scripted (tests)

Plain lines are messages, `/name opt=value` runs a slash command, `:help` lists the terminal's own
commands. A background task prints whatever changes in the text channel (new messages, edits,
deletions, someone else's voice moves), so a bot that answers late is still seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
from collections.abc import Callable
from datetime import tzinfo

from simcord.interactions import InteractionRecord, InteractionType, Outcome
from simcord.sandbox.console import Screen, stdin_reader
from simcord.sandbox.demo import DemoWorld
from simcord.sandbox.render import RED, paint, render_deleted, render_message, visible_to
from simcord.sandbox.slashline import SlashError, describe_commands, parse_slash
from simcord.scenario import SimUser
from simcord.slash import build_command_data
from simcord.state import Message
from simcord.world import WorldError

HELP = """\
Type a message to send it (try !help), or a slash command: /ping, /gather start time=10m note="hi".
  :as NAME          speak as another user ({users})
  :join CHANNEL     join a voice channel ({voice}); :leave leaves it
  :press N [M]      press button N of the latest message with buttons (or of message M)
  :who              who is in which voice channel
  :history [N]      the last N messages (default 10), numbered
  :commands         the slash commands the bot registered
  :help             this text
  :quit             leave (Ctrl-D works too)"""


class Terminal:
    """One terminal session on a demo world. `handle` runs a single input line (False means quit)."""

    def __init__(
        self,
        world: DemoWorld,
        screen: Screen,
        *,
        user: str,
        width: int,
        color: bool,
        tz: tzinfo | None = None,
        quiet: float = 0.15,
        settle_timeout: float = 5.0,
    ) -> None:
        if user not in world.users:
            raise ValueError(f"no user {user!r} in the demo world (have {', '.join(world.users)})")
        self.world = world
        self.sim = world.sim
        self.channel = world.text_channel
        self.screen = screen
        self.user: SimUser = world.users[user]
        self.width, self.color, self.tz = width, color, tz
        self.quiet, self.settle_timeout = quiet, settle_timeout
        self._typed: set[int] = set()  # messages typed here: the terminal already shows them as input
        self._seen: dict[int, tuple[int, bool]] = {}  # message id → (edit count, deleted) last looked at
        self._voice: dict[int, int | None] = {}
        self._pending: list[tuple[str, InteractionRecord]] = []
        self._catch_up()

    @property
    def prompt(self) -> str:
        return f"{self.user.name}@#{self.channel.name}> "

    # ---------------------------------------------------------------- the loop

    async def run(self, stdin: asyncio.StreamReader) -> None:
        watcher = asyncio.create_task(self._watch(), name="sandbox-watch")
        try:
            self.say(
                f"{self.world.guild.name}: you are {self.user.name} in #{self.channel.name}. "
                "Type !help, /ping, or :help for the terminal's commands."
            )
            while True:
                self.screen.prompt(self.prompt)
                raw = await stdin.readline()
                line = raw.decode(errors="replace").strip() if raw else None
                self.screen.line_entered(line)
                if line is None:
                    break
                if line and not await self.handle(line):
                    break
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            self._report(self._collect())
        self.say("bye")

    async def handle(self, line: str) -> bool:
        name, _, arg = line[1:].strip().partition(" ")
        if line.startswith(":") and name in ("quit", "q", "exit"):
            return False
        try:
            if line.startswith(":"):
                await self._colon(name, arg.strip())
            elif line.startswith("/") and line[1:2].isalpha():
                self._slash(line)
            else:
                message = await self.user.send(self.channel, line)
                self._typed.add(message.id)
        except WorldError as exc:  # what Discord would refuse is shown, and the session goes on
            self.error(f"refused: {exc.message}")
        await self._settle()
        return True

    def say(self, text: str) -> None:
        self.screen.show(text)

    def error(self, text: str) -> None:
        self.screen.show(paint(f"! {text}", RED, color=self.color))

    # ---------------------------------------------------------------- commands

    async def _colon(self, name: str, arg: str) -> None:
        if name == "as":
            self._switch_user(arg)
        elif name == "join":
            await self._join(arg)
        elif name == "leave":
            if self.user.id in self.world.guild.voice_states:
                await self.user.leave_voice(self.world.guild)
            else:
                self.error("you are not in a voice channel")
        elif name == "press":
            await self._press(arg.split())
        elif name == "who":
            self._who()
        elif name == "history":
            self._history(arg)
        elif name == "commands":
            lines = describe_commands(self.world.app, self.world.guild.id)
            self.say(
                "\n".join(lines)
                if lines
                else "no slash commands registered yet (the bot syncs them on start)"
            )
        elif name == "help":
            self.say(
                HELP.format(users=", ".join(self.world.users), voice=", ".join(self.world.voice_channels))
            )
        else:
            self.error(f"unknown command :{name}  (:help lists them)")

    def _switch_user(self, arg: str) -> None:
        wanted = arg.lower()
        user = next((u for name, u in self.world.users.items() if name.lower() == wanted), None)
        if user is None:
            self.error(f"who? choose one of: {', '.join(self.world.users)}")
            return
        self.user = user
        self.say(f"you are now {user.name}")

    async def _join(self, arg: str) -> None:
        names = self.world.voice_channels
        wanted = arg.lower().removeprefix("#")
        exact = [c for n, c in names.items() if n.lower() == wanted]
        matches = exact or [c for n, c in names.items() if wanted and n.lower().startswith(wanted)]
        if len(matches) != 1:
            self.error(f"join which voice channel? {', '.join(names)}")
            return
        if self.world.guild.voice_channel_of(self.user.id) == matches[0].id:
            self.error(f"you are already in {matches[0].name}")
            return
        await self.user.join_voice(matches[0])

    async def _press(self, args: list[str]) -> None:
        if not args or len(args) > 2 or not all(a.isdigit() for a in args):
            self.error("usage: :press N  or  :press N M  (button N of message M)")
            return
        button_no = int(args[0])
        messages = self.sim.world.channel_messages.get(self.channel.id, [])
        if len(args) == 2:
            index = int(args[1]) - 1
            message = messages[index] if 0 <= index < len(messages) else None
            if message is None or message.deleted or not visible_to(message, self.user.id):
                self.error(f"there is no message {args[1]} (:history shows the numbers)")
                return
        else:
            message = next(
                (
                    m
                    for m in reversed(messages)
                    if not m.deleted and m.buttons() and visible_to(m, self.user.id)
                ),
                None,
            )
            if message is None:
                self.error("no message with buttons yet")
                return
        buttons = message.buttons()
        number = messages.index(message) + 1
        if not 1 <= button_no <= len(buttons):
            self.error(f"message {number} has {len(buttons) or 'no'} button(s)")
            return
        button = buttons[button_no - 1]
        label = str(button.get("label") or button.get("custom_id") or button_no)
        if button.get("disabled"):
            self.error(f"button {button_no} ({label}) is disabled")
        elif button.get("style") == 5:
            self.say(f"that button opens a link: {button.get('url')}")
        elif self.sim.world.application_of_bot(message.author.id) is None:
            self.error(f"message {number} is not from a bot")
        else:
            record = await self.user.click(message, str(button["custom_id"]))
            self._pending.append((f"button {label!r}", record))

    def _slash(self, line: str) -> None:
        app, channel = self.world.app, self.channel
        try:
            call = parse_slash(line, world=self.sim.world, app=app, channel=channel)
            data = build_command_data(self.sim.world, app, channel, call.path, call.options)
        except (SlashError, LookupError, ValueError) as exc:
            self.error(str(exc))
            return
        # Straight to the desk rather than SimUser.run_slash: an option may be called `channel` or `app`.
        record = self.sim.desk.create(
            app=app,
            user=self.user.user,
            channel=channel,
            type_=InteractionType.APPLICATION_COMMAND,
            data=data,
        )
        self._pending.append((f"/{call.path}", record))

    def _who(self) -> None:
        guild = self.world.guild
        for channel in self.world.voice_channels.values():
            present = [
                self.sim.world.users[uid].username
                for uid, state in guild.voice_states.items()
                if state.channel_id == channel.id
            ]
            self.say(f"🔊 {channel.name}: {', '.join(present) if present else '(empty)'}")

    def _history(self, arg: str) -> None:
        if arg and not arg.isdigit():
            self.error("usage: :history [N]")
            return
        count = int(arg) if arg else 10
        shown = [
            (number, m)
            for number, m in enumerate(self.sim.world.channel_messages.get(self.channel.id, []), 1)
            if not m.deleted and visible_to(m, self.user.id)
        ][-count:]
        if not shown or count == 0:
            self.say("(no messages yet)")
        for number, message in shown:
            self._show(message, number)

    # ---------------------------------------------------------------- watching the world

    async def _watch(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                # `_collect` both detects and consumes changes, so each one is reported once.
                self._report(await self.sim.wait_for(self._collect, timeout=60.0))

    def _report(self, lines: list[str]) -> None:
        for text in lines:
            self.say(text)

    def _catch_up(self) -> None:
        """What happened before the session started is history (`:history`), not news."""
        for message in self.sim.world.channel_messages.get(self.channel.id, []):
            self._seen[message.id] = (len(message.history), message.deleted)
        self._voice = {uid: s.channel_id for uid, s in self.world.guild.voice_states.items()}

    def _collect(self) -> list[str]:
        out: list[str] = []
        for number, message in enumerate(self.sim.world.channel_messages.get(self.channel.id, []), 1):
            key = (len(message.history), message.deleted)
            before = self._seen.get(message.id)
            if before == key:
                continue
            self._seen[message.id] = key
            if not visible_to(message, self.user.id) or (before is None and message.id in self._typed):
                continue
            if not message.deleted:
                out.append(self._render(message, number))
            elif before is not None:
                out.append(render_deleted(message, number=number, color=self.color, width=self.width))
        out.extend(self._voice_news())
        out.extend(self._interaction_news())
        return out

    def _voice_news(self) -> list[str]:
        now = {uid: s.channel_id for uid, s in self.world.guild.voice_states.items()}
        out = []
        channels = self.sim.world.channels
        for uid in sorted(set(now) | set(self._voice)):
            old, new = self._voice.get(uid), now.get(uid)
            if old == new:
                continue
            name = self.sim.world.users[uid].username
            if old is None and new is not None:
                out.append(f"🔊 {name} joined {channels[new].name}")
            elif new is None and old is not None:
                out.append(f"🔇 {name} left {channels[old].name}")
            elif old is not None and new is not None:
                out.append(f"🔊 {name} moved {channels[old].name} → {channels[new].name}")
        self._voice = now
        return out

    def _interaction_news(self) -> list[str]:
        out = []
        for what, record in list(self._pending):
            if record.outcome is Outcome.PENDING:
                continue
            self._pending.remove((what, record))
            if record.failed:
                out.append(paint(f"! {what}: the application did not respond", RED, color=self.color))
            elif record.ack_type == 9 and record.modal is not None:
                title = record.modal.get("title", "a form")
                out.append(f"(the bot opened a form {title!r}; forms can't be filled in from the terminal)")
        return out

    def _show(self, message: Message, number: int) -> None:
        self.say(self._render(message, number))

    def _render(self, message: Message, number: int) -> str:
        text = render_message(
            message,
            viewer_id=self.user.id,
            number=number,
            width=self.width,
            color=self.color,
            names=self._names(),
            tz=self.tz,
        )
        return text or ""

    def _names(self) -> dict[int, str]:
        world = self.sim.world
        names = {uid: user.username for uid, user in world.users.items()}
        names.update({cid: channel.name for cid, channel in world.channels.items()})
        names.update({rid: role.name.removeprefix("@") for rid, role in self.world.guild.roles.items()})
        return names

    async def _settle(self) -> None:
        """Let the bot answer before the next prompt: scripted input then reads like a conversation.

        Done when this session's interactions are settled and nothing changed for `quiet` seconds;
        anything later still arrives through the watcher.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settle_timeout
        last, quiet_since = self._signature(), loop.time()
        while loop.time() < deadline:
            await asyncio.sleep(0.02)
            signature = self._signature()
            if signature != last:
                last, quiet_since = signature, loop.time()
            elif not self._pending and loop.time() - quiet_since >= self.quiet:
                return

    def _signature(self) -> tuple[int, ...]:
        messages = self.sim.world.channel_messages.get(self.channel.id, [])
        return (
            len(messages),
            sum(len(m.history) for m in messages),
            sum(m.deleted for m in messages),
            hash(frozenset((u, s.channel_id) for u, s in self.world.guild.voice_states.items())),
            len(self._pending),
        )


async def run_terminal(
    world: DemoWorld,
    *,
    stdin: asyncio.StreamReader | None = None,
    write: Callable[[str], None] = print,
    user: str = "alice",
    width: int | None = None,
    color: bool | None = None,
    tz: tzinfo | None = None,
    quiet: float = 0.15,
) -> None:
    """Run the REPL until `:quit` or end of input.

    `stdin` defaults to the process's standard input. With the default `print` on a real terminal the
    prompt stays on the input line and late output is drawn above it; `color` defaults to that case.
    """
    interactive = write is print and sys.stdout.isatty()
    if width is None:
        width = min(max(shutil.get_terminal_size().columns, 40), 100) if interactive else 80
    # A piped script is not echoed by any terminal, so the transcript repeats each line after its prompt.
    echo = stdin is None and not (sys.stdin is not None and sys.stdin.isatty())
    screen = Screen(write, interactive=interactive, echo=echo)
    terminal = Terminal(
        world,
        screen,
        user=user,
        width=width,
        color=interactive if color is None else color,
        tz=tz,
        quiet=quiet,
    )
    await terminal.run(stdin if stdin is not None else stdin_reader())
