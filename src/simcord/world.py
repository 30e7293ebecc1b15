"""The shared world behind the gateway and REST servers.

Every mutation goes through a `World` method that updates state, dispatches the gateway events Discord
would send, and wakes anybody waiting in `wait_for`. Both servers and the scenario API call these
methods, so a message posted by the bot over REST and one typed by a simulated user look the same.

The world hands its events to an `EventSink` (the gateway, once `Simcord` wires one in) and knows
nothing else about who delivers them.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeVar

from simcord.state import (
    Channel,
    ChannelType,
    Guild,
    Json,
    Member,
    Message,
    Permissions,
    Role,
    SnowflakeFactory,
    User,
    VoiceState,
    normalise_embeds,
    with_component_ids,
)

if TYPE_CHECKING:
    from simcord.interactions import InteractionRecord

T = TypeVar("T")

USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")


@dataclass(eq=False)
class Application:
    id: int
    name: str
    bot: User
    owner: User
    token: str
    global_commands: list[Json] = field(default_factory=list)
    guild_commands: dict[int, list[Json]] = field(default_factory=dict)
    presence: Json | None = None

    def to_json(self, *, guild_count: int = 0) -> Json:
        """The application as GET /oauth2/applications/@me returns it to its own bot.

        Unset optional URLs and ids (terms of service, slug, primary SKU, install params, ...) are
        omitted, not null: that is how Discord sends them and what its OpenAPI description allows.
        """
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": 0,
            "flags_new": "0",
            "owner": self.owner.to_json(),
            "team": None,
            "bot": self.bot.to_json(),
            "rpc_origins": [],
            "integration_types_config": {"0": {}},
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "tags": [],
            "approximate_guild_count": guild_count,
            "approximate_user_install_count": 0,
            "approximate_user_authorization_count": 0,
            "redirect_uris": [],
            "eligible_oauth2_scopes": ["bot", "applications.commands"],
            "event_webhooks_url": None,
            "event_webhooks_status": 1,
            "event_webhooks_types": [],
            "explicit_content_filter": 0,
            "max_participants": None,
            "hook": True,
            "is_monetized": False,
            "is_verified": False,
            "is_discoverable": False,
        }


class EventSink(Protocol):
    """Where the world sends the gateway events Discord would send."""

    def dispatch(self, event: str, data: Json, *, guild_id: int | None, to_user: int | None = None) -> None:
        """Deliver `event` to every session that should see it: members of `guild_id` (any session when
        None), and only `to_user`'s sessions when that is given."""


class WorldError(Exception):
    """A request Discord would refuse: carries the HTTP status and Discord's JSON error code."""

    def __init__(self, status: int, code: int, message: str, errors: Json | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors


class World:
    def __init__(self) -> None:
        self.snowflakes = SnowflakeFactory()
        self.users: dict[int, User] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, Message] = {}
        self.channel_messages: dict[int, list[Message]] = {}
        self.applications: dict[int, Application] = {}
        self.interactions: list[InteractionRecord] = []
        self.typing: list[tuple[float, int, int]] = []  # (time, channel id, user id)
        self.events: EventSink | None = None
        self.voice_endpoint: Callable[[int, int], str | None] = lambda guild_id, user_id: None
        self.voice_token: Callable[[int, int], str] = lambda guild_id, user_id: secrets.token_hex(8)
        self._waiters: list[asyncio.Future[None]] = []
        self._dms: dict[tuple[int, int], Channel] = {}

    # ---------------------------------------------------------------- change notification

    def changed(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 5.0) -> T:
        """Re-evaluate `predicate` after every change until it returns something truthy."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"simcord: condition not met within {timeout} s")
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            # Time passing is a change too (interaction windows expire by timer), hence the cap.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter, timeout=min(remaining, 0.25))

    def dispatch(self, event: str, data: Json, *, guild_id: int | None, to_user: int | None = None) -> None:
        if self.events is not None:
            self.events.dispatch(event, data, guild_id=guild_id, to_user=to_user)
        self.changed()

    # ---------------------------------------------------------------- lookups used by the gateway

    def bot_for_token(self, token: str) -> int | None:
        token = token.removeprefix("Bot ")
        for app in self.applications.values():
            if secrets.compare_digest(app.token, token):
                return app.bot.id
        return None

    def application_of_bot(self, bot_user_id: int) -> Application | None:
        return next((a for a in self.applications.values() if a.bot.id == bot_user_id), None)

    def is_member(self, guild_id: int, user_id: int) -> bool:
        guild = self.guilds.get(guild_id)
        return guild is not None and user_id in guild.members

    def guild_ids_of(self, user_id: int) -> list[int]:
        return [g.id for g in self.guilds.values() if user_id in g.members]

    def ready_payload(
        self, bot_user_id: int, session_id: str, url: str, guild_ids: list[int], shard: tuple[int, int]
    ) -> Json:
        app = self.application_of_bot(bot_user_id)
        user = self.users[bot_user_id].to_json()
        user.update({"verified": True, "mfa_enabled": False, "email": None})
        return {
            "v": 10,
            "user": user,
            "guilds": [{"id": str(g), "unavailable": True} for g in guild_ids],
            "session_id": session_id,
            "session_type": "normal",
            "resume_gateway_url": url,
            "shard": list(shard),
            "application": {"id": str(app.id if app else bot_user_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "user_settings": {},
            "geo_ordered_rtc_regions": ["local"],
            "guild_join_requests": [],
        }

    def guild_create_payload(self, guild_id: int) -> Json:
        return self.guilds[guild_id].to_gateway_json()

    # ---------------------------------------------------------------- gateway-originated actions

    def on_presence(self, bot_user_id: int, presence: Json) -> None:
        app = self.application_of_bot(bot_user_id)
        if app is not None:
            app.presence = presence
        self.changed()

    def on_bot_voice_state(self, bot_user_id: int, session_id: str, d: Json) -> None:
        guild = self.guilds.get(int(d["guild_id"]))
        if guild is None or bot_user_id not in guild.members:
            return
        channel_id = int(d["channel_id"]) if d.get("channel_id") else None
        if channel_id is not None and channel_id not in guild.channels:
            return
        # VOICE_SERVER_UPDATE first: when discord.py re-sends op 4 to resume after a voice server crash
        # (4015), it only completes if the server update precedes the state update.
        if channel_id is not None:
            endpoint = self.voice_endpoint(guild.id, bot_user_id)
            if endpoint is not None:
                token = self.voice_token(guild.id, bot_user_id)
                data = {"token": token, "guild_id": str(guild.id), "endpoint": endpoint}
                self.dispatch("VOICE_SERVER_UPDATE", data, guild_id=guild.id, to_user=bot_user_id)
        self.set_voice_state(
            guild,
            self.users[bot_user_id],
            channel_id,
            session_id=session_id,
            self_mute=bool(d.get("self_mute")),
            self_deaf=bool(d.get("self_deaf")),
        )

    def on_request_members(self, bot_user_id: int, d: Json) -> None:
        guild = self.guilds.get(int(d["guild_id"]))
        if guild is None:
            return
        query = str(d.get("query") or "").lower()
        limit = int(d.get("limit") or 0) or len(guild.members)
        wanted = {int(u) for u in d.get("user_ids") or []}
        members = [
            m
            for m in guild.members.values()
            if (m.user.id in wanted if wanted else m.user.username.lower().startswith(query))
        ][:limit]
        chunks = [members[i : i + 1000] for i in range(0, len(members), 1000)] or [[]]
        for index, chunk in enumerate(chunks):
            data: Json = {
                "guild_id": str(guild.id),
                "members": [m.to_json() for m in chunk],
                "chunk_index": index,
                "chunk_count": len(chunks),
            }
            if d.get("nonce") is not None:
                data["nonce"] = d["nonce"]
            self.dispatch("GUILD_MEMBERS_CHUNK", data, guild_id=guild.id, to_user=bot_user_id)

    # ---------------------------------------------------------------- world building

    def create_user(self, username: str, *, bot: bool = False) -> User:
        user = User(id=self.snowflakes.next(), username=username, bot=bot)
        self.users[user.id] = user
        return user

    def create_application(self, name: str, owner: User) -> Application:
        bot = self.create_user(name, bot=True)
        app = Application(
            id=bot.id, name=name, bot=bot, owner=owner, token=f"simcord.{secrets.token_urlsafe(24)}"
        )
        self.applications[app.id] = app
        return app

    def create_guild(self, name: str, owner: User) -> Guild:
        guild = Guild(id=self.snowflakes.next(), name=name, owner_id=owner.id)
        guild.roles[guild.id] = Role(id=guild.id, name="@everyone", permissions=Permissions.EVERYONE_DEFAULT)
        self.guilds[guild.id] = guild
        guild.members[owner.id] = Member(user=owner, guild_id=guild.id)
        return guild

    def create_channel(self, guild: Guild, name: str, kind: int) -> Channel:
        channel = Channel(
            id=self.snowflakes.next(), type=kind, name=name, guild_id=guild.id, position=len(guild.channels)
        )
        guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        self.channel_messages[channel.id] = []
        self.dispatch("CHANNEL_CREATE", channel.to_json(), guild_id=guild.id)
        return channel

    def create_role(self, guild: Guild, name: str, permissions: int, position: int) -> Role:
        role = Role(id=self.snowflakes.next(), name=name, permissions=permissions, position=position)
        guild.roles[role.id] = role
        self.dispatch(
            "GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": role.to_json()}, guild_id=guild.id
        )
        return role

    def add_member(self, guild: Guild, user: User, roles: list[Role] | None = None) -> Member:
        member = Member(user=user, guild_id=guild.id, roles=[r.id for r in roles or []])
        guild.members[user.id] = member
        if user.bot and self.application_of_bot(user.id) is not None:
            # The bot joining a guild is what GUILD_CREATE is for.
            self.dispatch("GUILD_CREATE", guild.to_gateway_json(), guild_id=guild.id, to_user=user.id)
        else:
            self.dispatch(
                "GUILD_MEMBER_ADD", {**member.to_json(), "guild_id": str(guild.id)}, guild_id=guild.id
            )
        return member

    def dm_channel(self, bot: User, user: User) -> Channel:
        """The one DM channel between `bot` and `user` (its recipients list only the user, as Discord's)."""
        existing = self._dms.get((bot.id, user.id))
        if existing is not None:
            return existing
        channel = Channel(
            id=self.snowflakes.next(), type=ChannelType.DM, name="", guild_id=None, recipients=[user]
        )
        self._dms[(bot.id, user.id)] = channel
        self.channels[channel.id] = channel
        self.channel_messages[channel.id] = []
        return channel

    # ---------------------------------------------------------------- messages

    def guild_of_channel(self, channel: Channel) -> Guild | None:
        return self.guilds.get(channel.guild_id) if channel.guild_id is not None else None

    def resolve_mentions(self, message: Message, allowed: Json | None) -> None:
        """Fill who a message pings, honouring `allowed_mentions` as Discord does."""
        parse = {"users", "roles", "everyone"} if allowed is None else set(allowed.get("parse") or [])
        allowed_users = {int(u) for u in (allowed or {}).get("users") or []}
        allowed_roles = {int(r) for r in (allowed or {}).get("roles") or []}
        users = []
        for raw in USER_MENTION.findall(message.content):
            uid = int(raw)
            if (
                uid in self.users
                and ("users" in parse or uid in allowed_users)
                and self.users[uid] not in users
            ):
                users.append(self.users[uid])
        if message.referenced is not None and (allowed is None or allowed.get("replied_user")):
            author = message.referenced.author
            if author not in users:
                users.append(author)
        message.mentions = users
        message.mention_roles = [
            int(r)
            for r in ROLE_MENTION.findall(message.content)
            if "roles" in parse or int(r) in allowed_roles
        ]
        message.mention_everyone = "everyone" in parse and (
            "@everyone" in message.content or "@here" in message.content
        )

    def post_message(
        self,
        channel: Channel,
        author: User,
        *,
        content: str = "",
        embeds: list[Json] | None = None,
        components: list[Json] | None = None,
        attachments: list[Json] | None = None,
        flags: int = 0,
        reference: Json | None = None,
        allowed_mentions: Json | None = None,
        interaction_id: int | None = None,
        interaction_metadata: Json | None = None,
        webhook_id: int | None = None,
        application_id: int | None = None,
        ephemeral_for: int | None = None,
        nonce: str | None = None,
    ) -> Message:
        message = Message(
            id=self.snowflakes.next(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author=author,
            content=content,
            embeds=normalise_embeds(embeds or []),
            components=with_component_ids(components or []),
            attachments=attachments or [],
            flags=flags,
            interaction_id=interaction_id,
            interaction_metadata=interaction_metadata,
            webhook_id=webhook_id,
            application_id=application_id,
            ephemeral_for=ephemeral_for,
            nonce=nonce,
        )
        if reference is not None:
            target = self.messages.get(int(reference.get("message_id") or 0))
            if target is None or target.deleted or target.channel_id != channel.id:
                if reference.get("fail_if_not_exists", True):
                    raise WorldError(
                        400,
                        50035,
                        "Invalid Form Body",
                        {
                            "message_reference": {
                                "_errors": [{"code": "REPLIES_UNKNOWN_MESSAGE", "message": "Unknown message"}]
                            }
                        },
                    )
            else:
                message.type = 19
                message.reference = {"type": 0, "message_id": str(target.id), "channel_id": str(channel.id)}
                if channel.guild_id is not None:
                    message.reference["guild_id"] = str(channel.guild_id)
                message.referenced = target
        self.resolve_mentions(message, allowed_mentions)
        self.messages[message.id] = message
        self.channel_messages.setdefault(channel.id, []).append(message)
        if not message.ephemeral:
            self.dispatch("MESSAGE_CREATE", self.message_event(message), guild_id=channel.guild_id)
        else:
            self.changed()
        return message

    def message_event(self, message: Message) -> Json:
        member = None
        guild = self.guilds.get(message.guild_id) if message.guild_id else None
        if guild is not None:
            member = guild.members.get(message.author.id)
        return message.to_json(member=member)

    def edit_message(self, message: Message, changes: Json, allowed_mentions: Json | None = None) -> Message:
        message.history.append(message.to_json())
        for key in ("content", "embeds", "components", "attachments"):
            if key in changes and changes[key] is not None:
                setattr(message, key, changes[key])
            elif key in changes:
                setattr(message, key, "" if key == "content" else [])
        message.embeds = normalise_embeds(message.embeds)
        message.components = with_component_ids(message.components)
        if "flags" in changes and changes["flags"] is not None:
            # Only the suppress-embeds bit is editable; the loading flag clears with the first edit.
            message.flags = (message.flags & Message.EPHEMERAL) | (int(changes["flags"]) & (1 << 2))
        else:
            message.flags &= ~Message.LOADING
        message.edited_at = time.time()
        self.resolve_mentions(message, allowed_mentions)
        if not message.ephemeral:
            self.dispatch("MESSAGE_UPDATE", self.message_event(message), guild_id=message.guild_id)
        else:
            self.changed()
        return message

    def delete_message(self, message: Message) -> None:
        message.deleted_at = time.time()
        data: Json = {"id": str(message.id), "channel_id": str(message.channel_id)}
        if message.guild_id is not None:
            data["guild_id"] = str(message.guild_id)
        if not message.ephemeral:
            self.dispatch("MESSAGE_DELETE", data, guild_id=message.guild_id)
        else:
            self.changed()

    def react(self, message: Message, user: User, emoji: str, *, add: bool = True) -> None:
        users = message.reactions.setdefault(emoji, set())
        if add == (user.id in users):
            return
        (users.add if add else users.discard)(user.id)
        data: Json = {
            "user_id": str(user.id),
            "channel_id": str(message.channel_id),
            "message_id": str(message.id),
            "emoji": {"id": None, "name": emoji},
            "burst": False,
            "type": 0,
        }
        if message.guild_id is not None:
            data["guild_id"] = str(message.guild_id)
        self.dispatch(
            "MESSAGE_REACTION_ADD" if add else "MESSAGE_REACTION_REMOVE", data, guild_id=message.guild_id
        )

    # ---------------------------------------------------------------- members and voice

    def update_member(self, guild: Guild, member: Member) -> None:
        data = {**member.to_json(), "guild_id": str(guild.id)}
        self.dispatch("GUILD_MEMBER_UPDATE", data, guild_id=guild.id)

    def set_voice_state(
        self,
        guild: Guild,
        user: User,
        channel_id: int | None,
        *,
        session_id: str | None = None,
        self_mute: bool = False,
        self_deaf: bool = False,
    ) -> VoiceState:
        state = guild.voice_states.get(user.id)
        if state is None:
            state = VoiceState(
                user_id=user.id, channel_id=None, session_id=session_id or secrets.token_hex(16)
            )
            guild.voice_states[user.id] = state
        if session_id is not None:
            state.session_id = session_id
        state.channel_id = channel_id
        state.self_mute, state.self_deaf = self_mute, self_deaf
        self.dispatch(
            "VOICE_STATE_UPDATE", state.to_json(guild.id, guild.members.get(user.id)), guild_id=guild.id
        )
        if channel_id is None:
            del guild.voice_states[user.id]
        return state
