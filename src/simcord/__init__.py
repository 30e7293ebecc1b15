"""simcord: a local Discord (gateway, REST, interactions) that an unmodified discord.py client talks to."""

from simcord.interactions import InteractionRecord, Outcome
from simcord.scenario import Connection, Simcord, SimUser
from simcord.state import Channel, Guild, Message, Permissions, Role, User

__all__ = [
    "Channel",
    "Connection",
    "Guild",
    "InteractionRecord",
    "Message",
    "Outcome",
    "Permissions",
    "Role",
    "SimUser",
    "Simcord",
    "User",
]
