"""The scenario API: start a simulated Discord, build a world, act as its users, observe the result.

async with Simcord() as sim:
    app = sim.create_application("PyTunes")
    alice = sim.create_user("alice")
    guild = sim.create_guild("Demo", owner=alice)
    general = sim.create_text_channel(guild, "general")
    sim.add_bot(guild, app)
    ...  # start a discord.py client with sim.connection(app)
    await alice.send(general, "!ping")
    reply = await sim.wait_for_message(general, lambda m: m.author.id == app.bot.id)
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from simcord.faults import RestFaults
from simcord.gateway import Gateway, GatewayClose, GatewayFrame
from simcord.interactions import InteractionDesk, InteractionRecord, InteractionType, component_data
from simcord.rest import RestExchange, RestServer, build_app
from simcord.slash import build_command_data
from simcord.state import Channel, ChannelType, Guild, Json, Message, Permissions, Role, User
from simcord.voice import VoiceServer
from simcord.world import Application, World


@dataclass(frozen=True)
class Connection:
    """Everything a Discord client needs to talk to this simcord instead of Discord."""

    token: str
    api_base: str
    gateway_url: str
    ca_file: str  # the throwaway CA behind simcord's voice TLS

    def env(self) -> dict[str, str]:
        """The environment variables that point PyTunes at this simcord."""
        return {
            "DISCORD_TOKEN": self.token,
            "DISCORD_API_BASE_URL": self.api_base,
            "DISCORD_GATEWAY_URL": self.gateway_url,
            "DISCORD_CA_FILE": self.ca_file,
        }


class SimUser:
    """A person (or another bot) in the simulated world, with the actions a person has."""

    def __init__(self, sim: Simcord, user: User) -> None:
        self.sim = sim
        self.user = user

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def name(self) -> str:
        return self.user.username

    @property
    def mention(self) -> str:
        return self.user.mention

    def __repr__(self) -> str:
        return f"<SimUser {self.name}>"

    async def send(
        self,
        channel: Channel,
        content: str,
        *,
        reply_to: Message | None = None,
        attachments: list[Json] | None = None,
        files: list[tuple[str, bytes, str | None]] | None = None,
    ) -> Message:
        """Post a message; `files` are uploaded with it as (file name, bytes, content type)."""
        reference = {"message_id": str(reply_to.id)} if reply_to else None
        uploaded = [self.sim.upload(name, data, content_type) for name, data, content_type in files or []]
        return self.sim.world.post_message(
            channel,
            self.user,
            content=content,
            reference=reference,
            attachments=[*(attachments or []), *uploaded] or None,
        )

    async def edit(self, message: Message, content: str) -> Message:
        return self.sim.world.edit_message(message, {"content": content})

    async def delete(self, message: Message) -> None:
        self.sim.world.delete_message(message)

    async def react(self, message: Message, emoji: str) -> None:
        self.sim.world.react(message, self.user, emoji)

    async def run_slash(self, channel: Channel, command: str, /, **options: Any) -> InteractionRecord:
        """Invoke a registered slash command of the first application: `run_slash(ch, "gather start", time="10m")`.

        Every keyword is a command option (any name, `channel` and `app` included)."""
        application = self.sim.default_app
        data = build_command_data(self.sim.world, application, channel, command, options)
        return self.sim.desk.create(
            app=application,
            user=self.user,
            channel=channel,
            type_=InteractionType.APPLICATION_COMMAND,
            data=data,
        )

    async def run_user_command(
        self, channel: Channel, name: str, target: SimUser, *, app: Application | None = None
    ) -> InteractionRecord:
        """Invoke a user context-menu command (right-click → Apps → name) on `target`."""
        application = app or self.sim.default_app
        data = build_command_data(self.sim.world, application, channel, name, {}, target=target.user)
        return self.sim.desk.create(
            app=application,
            user=self.user,
            channel=channel,
            type_=InteractionType.APPLICATION_COMMAND,
            data=data,
        )

    async def click(self, message: Message, label_or_custom_id: str) -> InteractionRecord:
        """Press a button on a bot message; returns at once with the interaction's record."""
        app = next(a for a in self.sim.world.applications.values() if a.bot.id == message.author.id)
        channel = self.sim.world.channels[message.channel_id]
        return self.sim.desk.create(
            app=app,
            user=self.user,
            channel=channel,
            type_=InteractionType.MESSAGE_COMPONENT,
            data=component_data(message, label_or_custom_id),
            message=message,
        )

    async def submit_modal(self, record: InteractionRecord, values: dict[str, str]) -> InteractionRecord:
        """Fill in and submit the modal the bot opened in answer to `record`."""
        if record.modal is None:
            raise LookupError("the bot did not open a modal for this interaction")
        rows = [
            {"type": 1, "components": [{"type": 4, "custom_id": cid, "value": value}]}
            for cid, value in values.items()
        ]
        data = {"custom_id": record.modal["custom_id"], "components": rows}
        return self.sim.desk.create(
            app=record.application,
            user=self.user,
            channel=record.channel,
            type_=InteractionType.MODAL_SUBMIT,
            data=data,
            triggered_by=record,
        )

    async def join_voice(self, channel: Channel) -> None:
        guild = self.sim.world.guilds[channel.guild_id or 0]
        self.sim.world.set_voice_state(guild, self.user, channel.id)

    async def leave_voice(self, guild: Guild) -> None:
        if self.user.id in guild.voice_states:
            self.sim.world.set_voice_state(guild, self.user, None)

    async def set_voice_flags(
        self, guild: Guild, *, self_mute: bool = False, self_deaf: bool = False
    ) -> None:
        state = guild.voice_states[self.user.id]
        self.sim.world.set_voice_state(
            guild, self.user, state.channel_id, self_mute=self_mute, self_deaf=self_deaf
        )


class Simcord:
    """A local Discord: gateway and REST servers on 127.0.0.1 plus the world they share."""

    def __init__(self, *, heartbeat_interval_ms: int = 41250) -> None:
        self.world = World()
        self.gateway = Gateway(self.world)
        self.gateway.heartbeat_interval_ms = heartbeat_interval_ms
        self.world.events = self.gateway
        self.desk = InteractionDesk(self.world)
        self.rest = RestServer(self.world, self.desk)
        self.voice = VoiceServer(self.world)
        self._runners: list[web.AppRunner] = []
        self.api_base = ""

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> Simcord:
        rest_port = await self._serve(build_app(self.rest))
        gateway_app = web.Application()
        gateway_app.router.add_get("/", self.gateway.handle)
        gateway_port = await self._serve(gateway_app)
        self.rest.base_url = f"http://127.0.0.1:{rest_port}"
        self.api_base = f"{self.rest.base_url}/api/v10"
        self.gateway.url = self.rest.gateway_url = f"ws://127.0.0.1:{gateway_port}/"
        await self.voice.start()
        self.world.voice_endpoint = self.voice.endpoint_for
        self.world.voice_token = self.voice.issue_token
        return self

    async def _serve(self, app: web.Application) -> int:
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runners.append(runner)
        server = site._server
        assert server is not None
        port: int = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return port

    async def stop(self) -> None:
        await self.voice.stop()
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()

    async def __aenter__(self) -> Simcord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def connection(self, app: Application | None = None) -> Connection:
        application = app or self.default_app
        return Connection(
            token=application.token,
            api_base=self.api_base,
            gateway_url=self.gateway.url,
            ca_file=self.voice.ca_file,
        )

    def upload(self, filename: str, data: bytes, content_type: str | None = None) -> Json:
        """A user's upload: simcord keeps the bytes and serves them at `/attachments/<id>/<name>` like
        Discord's CDN. Returns the attachment object, for `SimUser.send(attachments=...)` or as the value
        of a slash command's ATTACHMENT option."""
        attachment_id = self.world.snowflakes.next()
        self.rest.files[attachment_id] = data
        url = f"{self.rest.base_url}/attachments/{attachment_id}/{urllib.parse.quote(filename)}"
        attachment: Json = {
            "id": str(attachment_id),
            "filename": filename,
            "size": len(data),
            "url": url,
            "proxy_url": url,
        }
        if content_type is not None:
            attachment["content_type"] = content_type
        return attachment

    # ---------------------------------------------------------------- building the world

    @property
    def default_app(self) -> Application:
        return next(iter(self.world.applications.values()))

    def create_user(self, username: str, *, bot: bool = False) -> SimUser:
        return SimUser(self, self.world.create_user(username, bot=bot))

    def create_application(self, name: str = "PyTunes", owner: SimUser | None = None) -> Application:
        owner_user = owner.user if owner else self.world.create_user(f"{name}-owner")
        return self.world.create_application(name, owner_user)

    def create_guild(self, name: str, owner: SimUser) -> Guild:
        return self.world.create_guild(name, owner.user)

    def create_text_channel(self, guild: Guild, name: str) -> Channel:
        return self.world.create_channel(guild, name, ChannelType.TEXT)

    def create_voice_channel(self, guild: Guild, name: str, *, afk: bool = False) -> Channel:
        channel = self.world.create_channel(guild, name, ChannelType.VOICE)
        if afk:
            guild.afk_channel_id = channel.id
        return channel

    def create_role(self, guild: Guild, name: str, permissions: int = 0, *, position: int = 1) -> Role:
        return self.world.create_role(guild, name, permissions, position)

    def add_member(self, guild: Guild, user: SimUser, roles: list[Role] | None = None) -> None:
        self.world.add_member(guild, user.user, roles)

    def add_bot(
        self,
        guild: Guild,
        app: Application,
        permissions: int = Permissions.ALL & ~Permissions.ADMINISTRATOR,
        *,
        position: int = 10,
    ) -> Role:
        """Invite the bot with a managed role carrying `permissions` (by default all but Administrator)."""
        role = self.create_role(guild, app.name, permissions, position=position)
        self.world.add_member(guild, app.bot, [role])
        return role

    # ---------------------------------------------------------------- observations

    def messages(
        self, channel: Channel, *, include_ephemeral: bool = False, include_deleted: bool = False
    ) -> list[Message]:
        return [
            m
            for m in self.world.channel_messages.get(channel.id, [])
            if (include_deleted or not m.deleted) and (include_ephemeral or not m.ephemeral)
        ]

    @property
    def interactions(self) -> list[InteractionRecord]:
        return self.world.interactions

    @property
    def gateway_closes(self) -> list[GatewayClose]:
        return self.gateway.closes

    @property
    def gateway_log(self) -> list[GatewayFrame]:
        return self.gateway.log

    @property
    def rest_log(self) -> list[RestExchange]:
        return self.rest.log

    @property
    def faults(self) -> RestFaults:
        return self.rest.faults

    def presence(self, app: Application | None = None) -> Json | None:
        return (app or self.default_app).presence

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        return await self.world.wait_for(predicate, timeout)

    async def wait_for_message(
        self,
        channel: Channel,
        predicate: Callable[[Message], bool] | None = None,
        timeout: float = 5.0,
        *,
        after: Message | None = None,
        include_ephemeral: bool = True,
    ) -> Message:
        """The first live message in `channel` (newer than `after`) that satisfies `predicate`."""
        floor = after.id if after is not None else 0

        def find() -> Message | None:
            for message in self.messages(channel, include_ephemeral=include_ephemeral):
                if message.id > floor and (predicate is None or predicate(message)):
                    return message
            return None

        result: Message = await self.wait_for(find, timeout)
        return result

    # ---------------------------------------------------------------- gateway faults

    async def drop_connection(self, shard: int | None = None) -> None:
        await self.gateway.drop(shard)

    def send_reconnect(self, shard: int | None = None) -> None:
        self.gateway.send_reconnect(shard)

    def invalidate_session(self, resumable: bool, shard: int | None = None) -> None:
        self.gateway.invalidate_session(resumable, shard)

    async def close_connection(self, code: int, shard: int | None = None) -> None:
        await self.gateway.close(code, shard)
