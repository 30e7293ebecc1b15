"""The rules behind wakeup and rename, as plain functions of ids, positions and times (no Discord)."""

from __future__ import annotations

from collections.abc import Hashable

NICK_MAX = 32
WAKEUP_COUNT_MIN, WAKEUP_COUNT_MAX, WAKEUP_COUNT_DEFAULT = 1, 5, 2


class Cooldowns:
    """One cooldown per key (guild, target). Claiming is synchronous, so two wakeups of the same person
    that arrive together cannot both pass: the second sees the first's claim."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._until: dict[Hashable, float] = {}

    def claim(self, key: Hashable, now: float) -> float | None:
        """Start the cooldown and return None, or return the seconds left when it is still running."""
        until = self._until.get(key, 0.0)
        if now < until:
            return until - now
        self._until[key] = now + self.seconds
        # Expired entries go, so the map holds only people woken within the last cooldown period.
        for stale in [k for k, t in self._until.items() if t <= now]:
            del self._until[stale]
        return None

    def release(self, key: Hashable) -> None:
        """Forget a claim whose wakeup did nothing (the first move failed)."""
        self._until.pop(key, None)


def may_rename(*, actor_id: int, target_id: int, owner_id: int, actor_top: int, target_top: int) -> bool:
    """The server owner, yourself, or a top role at least as high as the target's."""
    return actor_id in (owner_id, target_id) or actor_top >= target_top


def nickname(text: str | None) -> str | None:
    """The nickname to set: None resets (empty or missing). Raises ValueError when it is too long."""
    name = (text or "").strip()
    if len(name) > NICK_MAX:
        raise ValueError(f"Nicknames can be at most {NICK_MAX} characters; that one has {len(name)}.")
    return name or None


def may_wake(*, can_move_members: bool, author_channel: int | None, target_channel: int | None) -> bool:
    """Move Members in the target's channel, or being in that same channel."""
    return can_move_members or (author_channel is not None and author_channel == target_channel)


def away_channel(configured: int | None, guild_channels: set[int], afk_channel: int | None) -> int | None:
    """The configured away channel when it is one of this guild's voice channels, else the AFK channel."""
    if configured is not None and configured in guild_channels:
        return configured
    return afk_channel
