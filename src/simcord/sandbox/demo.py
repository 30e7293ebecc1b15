"""The sandbox's demo guild: one text channel, two voice channels, three people and the bot."""

from __future__ import annotations

from dataclasses import dataclass

from simcord.scenario import Simcord, SimUser
from simcord.state import Channel, Guild, Permissions, Role
from simcord.world import Application

GUILD_NAME = "PyTunes Sandbox"
TEXT_CHANNEL = "general"
VOICE_CHANNELS = ("Lounge", "Gaming")
USER_NAMES = ("alice", "bob", "carol")
DJ_PERMISSIONS = Permissions.MANAGE_EVENTS | Permissions.MOVE_MEMBERS


@dataclass
class DemoWorld:
    sim: Simcord
    app: Application
    guild: Guild
    text_channel: Channel
    voice_channels: dict[str, Channel]
    users: dict[str, SimUser]
    dj_role: Role

    @property
    def owner(self) -> SimUser:
        return self.users[USER_NAMES[0]]


def build_demo_world(sim: Simcord, app: Application) -> DemoWorld:
    """Create the demo guild in `sim` and invite `app`'s bot; the bot may connect before or after."""
    users = {name: sim.create_user(name) for name in USER_NAMES}
    owner = users[USER_NAMES[0]]
    guild = sim.create_guild(GUILD_NAME, owner)
    # Below the bot's role (position 10) so the bot could manage DJs, as a sensible server would set it up.
    dj_role = sim.create_role(guild, "DJ", DJ_PERMISSIONS, position=2)
    sim.add_member(guild, users["bob"], [dj_role])
    sim.add_member(guild, users["carol"])
    text_channel = sim.create_text_channel(guild, TEXT_CHANNEL)
    voice_channels = {name: sim.create_voice_channel(guild, name) for name in VOICE_CHANNELS}
    # Last, so the bot's GUILD_CREATE already carries every channel and member.
    sim.add_bot(guild, app)
    return DemoWorld(
        sim=sim,
        app=app,
        guild=guild,
        text_channel=text_channel,
        voice_channels=voice_channels,
        users=users,
        dj_role=dj_role,
    )
