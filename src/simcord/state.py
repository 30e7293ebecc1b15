"""The simulated world: users, guilds, channels, members, roles, voice states and messages.

Objects here are plain data plus `to_json` methods that produce the exact shapes Discord sends (and
that discord.py indexes strictly, see docs/discord-notes.md, 'discord.py quirks the code works around').
Nothing here does I/O.
"""

from __future__ import annotations

import copy
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DISCORD_EPOCH_MS = 1420070400000

Json = dict[str, Any]


class Permissions:
    """The permission bits simcord evaluates."""

    ADD_REACTIONS = 1 << 6
    ADMINISTRATOR = 1 << 3
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    MOVE_MEMBERS = 1 << 24
    CHANGE_NICKNAME = 1 << 26
    MANAGE_NICKNAMES = 1 << 27
    MANAGE_GUILD = 1 << 5
    MANAGE_EVENTS = 1 << 33
    USE_APPLICATION_COMMANDS = 1 << 31

    # What @everyone gets in a fresh guild: read, write, react, connect and speak.
    EVERYONE_DEFAULT = (
        VIEW_CHANNEL
        | SEND_MESSAGES
        | EMBED_LINKS
        | ATTACH_FILES
        | READ_MESSAGE_HISTORY
        | ADD_REACTIONS
        | CONNECT
        | SPEAK
        | CHANGE_NICKNAME
        | USE_APPLICATION_COMMANDS
    )
    ALL = (1 << 50) - 1


class SnowflakeFactory:
    """Real-looking snowflakes: timestamp in the high bits so discord.py derives sane creation times."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def next(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | (next(self._counter) & 0x3FFFFF)


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def with_component_ids(components: list[Json]) -> list[Json]:
    """A copy of a message's component tree in which every component has an integer `id`.

    Discord numbers components that come without one sequentially from 1, depth first, skipping ids
    the sender already chose for other components of the same message.
    """
    tree = copy.deepcopy(components)
    used: set[int] = set()

    def remember(comp: Json) -> None:
        if comp.get("id"):
            used.add(int(comp["id"]))

    _walk(tree, remember)
    counter = itertools.count(1)

    def number(comp: Json) -> None:
        if not comp.get("id"):
            comp["id"] = next(n for n in counter if n not in used)

    _walk(tree, number)
    return tree


def _walk(components: list[Json], visit: Callable[[Json], None]) -> None:
    for comp in components:
        visit(comp)
        # Children live in `components` (rows, containers), `accessory` (sections), `component` (labels).
        children = list(comp.get("components") or [])
        children += [comp[key] for key in ("accessory", "component") if isinstance(comp.get(key), dict)]
        _walk(children, visit)


def normalise_embeds(embeds: list[Json]) -> list[Json]:
    """Embeds as Discord stores them: `type` defaults to "rich" and every field has `inline`."""
    out = []
    for embed in embeds:
        embed = {"type": "rich", **copy.deepcopy(embed)}
        for item in embed.get("fields") or []:
            item.setdefault("inline", False)
        out.append(embed)
    return out


@dataclass(eq=False)
class User:
    id: int
    username: str
    bot: bool = False
    global_name: str | None = None

    def to_json(self) -> Json:
        data: Json = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "collectibles": None,
            "primary_guild": None,
            "public_flags": 0,
            "flags": 0,
        }
        if self.bot:
            data["bot"] = True
        return data

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass(eq=False)
class Role:
    id: int
    name: str
    permissions: int = 0
    position: int = 0

    def to_json(self) -> Json:
        return {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
            "description": None,
        }


class ChannelType:
    TEXT = 0
    DM = 1
    VOICE = 2


@dataclass(eq=False)
class Channel:
    id: int
    type: int
    name: str
    guild_id: int | None
    position: int = 0
    bitrate: int = 64000
    user_limit: int = 0
    recipients: list[User] = field(default_factory=list)

    @property
    def is_voice(self) -> bool:
        return self.type == ChannelType.VOICE

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def to_json(self) -> Json:
        data: Json = {"id": str(self.id), "type": self.type, "flags": 0}
        if self.type == ChannelType.DM:
            data["recipients"] = [u.to_json() for u in self.recipients]
            data["last_message_id"] = None
            return data
        data.update(
            {
                "name": self.name,
                "position": self.position,
                "guild_id": str(self.guild_id),
                "permission_overwrites": [],
                "parent_id": None,
                "nsfw": False,
            }
        )
        if self.type == ChannelType.TEXT:
            data.update({"topic": None, "last_message_id": None, "rate_limit_per_user": 0})
        if self.is_voice:
            data.update({"bitrate": self.bitrate, "user_limit": self.user_limit, "rtc_region": None})
        return data


@dataclass(eq=False)
class VoiceState:
    user_id: int
    channel_id: int | None
    session_id: str
    self_mute: bool = False
    self_deaf: bool = False
    mute: bool = False
    deaf: bool = False

    def to_json(self, guild_id: int, member: Member | None = None) -> Json:
        data: Json = {
            "guild_id": str(guild_id),
            "channel_id": str(self.channel_id) if self.channel_id else None,
            "user_id": str(self.user_id),
            "session_id": self.session_id,
            "deaf": self.deaf,
            "mute": self.mute,
            "self_deaf": self.self_deaf,
            "self_mute": self.self_mute,
            "self_video": False,
            "self_stream": False,
            "suppress": False,
            "request_to_speak_timestamp": None,
        }
        if member is not None:
            data["member"] = member.to_json()
        return data


@dataclass(eq=False)
class Member:
    user: User
    guild_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: float = field(default_factory=time.time)

    def to_json(self, *, with_user: bool = True) -> Json:
        data: Json = {
            "roles": [str(r) for r in self.roles],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": iso(self.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.to_json()
        return data


@dataclass(eq=False)
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    voice_states: dict[int, VoiceState] = field(default_factory=dict)
    afk_channel_id: int | None = None

    @property
    def everyone(self) -> Role:
        return self.roles[self.id]

    def permissions_of(self, user_id: int) -> int:
        """Guild-level permissions (simcord has no channel overwrites)."""
        if user_id == self.owner_id:
            return Permissions.ALL
        member = self.members.get(user_id)
        if member is None:
            return 0
        perms = self.everyone.permissions
        for role_id in member.roles:
            role = self.roles.get(role_id)
            if role is not None:
                perms |= role.permissions
        if perms & Permissions.ADMINISTRATOR:
            return Permissions.ALL
        return perms

    def top_role_position(self, user_id: int) -> int:
        member = self.members.get(user_id)
        if member is None:
            return -1
        return max((self.roles[r].position for r in member.roles if r in self.roles), default=0)

    def voice_channel_of(self, user_id: int) -> int | None:
        state = self.voice_states.get(user_id)
        return state.channel_id if state else None

    def to_json(self) -> Json:
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "home_header": None,
            "owner_id": str(self.owner_id),
            "region": "",
            "afk_channel_id": str(self.afk_channel_id) if self.afk_channel_id else None,
            "afk_timeout": 300,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "widget_enabled": False,
            "widget_channel_id": None,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw": False,
            "nsfw_level": 0,
            "incidents_data": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "en-US",
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "application_id": None,
            "max_members": 500000,
            "max_presences": None,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "features": [],
            "roles": [r.to_json() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
        }

    def to_gateway_json(self) -> Json:
        """GUILD_CREATE payload: the guild plus members, channels and voice states."""
        data = self.to_json()
        data.update(
            {
                "unavailable": False,
                "large": False,
                "member_count": len(self.members),
                "joined_at": iso(time.time()),
                "members": [m.to_json() for m in self.members.values()],
                "channels": [c.to_json() for c in self.channels.values()],
                "voice_states": [
                    {k: v for k, v in vs.to_json(self.id).items() if k != "guild_id"}
                    for vs in self.voice_states.values()
                    if vs.channel_id is not None
                ],
                "threads": [],
                "presences": [],
                "stage_instances": [],
                "guild_scheduled_events": [],
                "soundboard_sounds": [],
            }
        )
        return data


@dataclass(eq=False)
class Message:
    """A message as simcord stores it; `to_json` renders Discord's message object."""

    id: int
    channel_id: int
    guild_id: int | None
    author: User
    content: str = ""
    embeds: list[Json] = field(default_factory=list)
    components: list[Json] = field(default_factory=list)
    attachments: list[Json] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    reference: Json | None = None
    referenced: Message | None = None
    interaction_id: int | None = None
    interaction_metadata: Json | None = None  # set on messages an interaction response or followup made
    webhook_id: int | None = None
    application_id: int | None = None
    mentions: list[User] = field(default_factory=list)
    mention_roles: list[int] = field(default_factory=list)
    mention_everyone: bool = False
    reactions: dict[str, set[int]] = field(default_factory=dict)
    created_at: float = field(default_factory=time.time)
    edited_at: float | None = None
    deleted_at: float | None = None
    ephemeral_for: int | None = None
    nonce: str | None = None
    history: list[Json] = field(default_factory=list)

    EPHEMERAL = 1 << 6
    LOADING = 1 << 7

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & self.EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & self.LOADING)

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    def text(self) -> str:
        """Everything a person would read: content, embed titles, descriptions, fields, footers."""
        parts = [self.content]
        for embed in self.embeds:
            parts.append(embed.get("title", ""))
            parts.append(embed.get("description", ""))
            for f in embed.get("fields", []):
                parts.append(f"{f.get('name', '')} {f.get('value', '')}")
            parts.append(embed.get("footer", {}).get("text", ""))
            parts.append(embed.get("author", {}).get("name", ""))
        return "\n".join(p for p in parts if p)

    def buttons(self) -> list[Json]:
        return [c for row in self.components for c in row.get("components", []) if c.get("type") == 2]

    def to_json(self, *, member: Member | None = None, depth: int = 0, viewer_id: int | None = None) -> Json:
        """Discord's message object; `viewer_id` is who asks (reactions' `me` is relative to them)."""
        data: Json = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "type": self.type,
            "content": self.content,
            "author": self.author.to_json(),
            "timestamp": iso(self.created_at),
            "edited_timestamp": iso(self.edited_at) if self.edited_at else None,
            "tts": False,
            "mention_everyone": self.mention_everyone,
            "mentions": [u.to_json() for u in self.mentions],
            "mention_roles": [str(r) for r in self.mention_roles],
            "attachments": self.attachments,
            "embeds": self.embeds,
            "components": self.components,
            "pinned": False,
            "flags": self.flags,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if self.reactions:
            data["reactions"] = [
                {
                    "emoji": {"id": None, "name": emoji},
                    "count": len(users),
                    "count_details": {"burst": 0, "normal": len(users)},
                    "burst_colors": [],
                    "me": viewer_id in users,
                    "me_burst": False,
                }
                for emoji, users in self.reactions.items()
                if users
            ]
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
        if self.application_id is not None:
            data["application_id"] = str(self.application_id)
        if self.interaction_metadata is not None:
            data["interaction_metadata"] = self.interaction_metadata
            if self.interaction_metadata["type"] == 2:
                # The deprecated predecessor Discord still sends on application command responses.
                meta = self.interaction_metadata
                data["interaction"] = {k: meta[k] for k in ("id", "type", "name", "user")}
        if self.nonce is not None:
            data["nonce"] = self.nonce
        if self.reference is not None:
            data["message_reference"] = self.reference
            if self.referenced is not None and depth == 0:
                data["referenced_message"] = (
                    None if self.referenced.deleted else self.referenced.to_json(depth=1, viewer_id=viewer_id)
                )
        if member is not None:
            data["member"] = member.to_json(with_user=False)
        return data
