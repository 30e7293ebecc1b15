"""Gatherings in the database: the row, every event (replayed on restart), the end and the attendance.

Times are stored as integer milliseconds; the live gathering rounds its event times the same way
(`ms_time`), so a replay sees exactly the instants the live gathering saw.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from pytunes.gather.events import (
    Action,
    Event,
    Expect,
    Extend,
    Forget,
    PingSent,
    Press,
    Rules,
    Tick,
    VoiceJoined,
    VoiceLeft,
)
from pytunes.gather.state import Gathering, attendance
from pytunes.gather.stats import Record
from pytunes.storage.schema import gather_attendance, gather_events, gatherings


def ms(seconds: float) -> int:
    return round(seconds * 1000)


def ms_time(seconds: float) -> float:
    """`seconds` rounded to what the database keeps."""
    return ms(seconds) / 1000


def encode(event: Event) -> dict[str, Any]:
    """The row for one event (without the gathering id and sequence number)."""
    row: dict[str, Any] = {"at_ms": ms(event.at), "user_id": None, "data": None}
    match event:
        case VoiceJoined(user=user) | VoiceLeft(user=user):
            row.update(kind="join" if isinstance(event, VoiceJoined) else "leave", user_id=user)
        case Press(user=user, action=action, manager=manager):
            row.update(kind="press", user_id=user, data={"action": action.value, "manager": manager})
        case (
            Expect(actor=actor, users=users, manager=manager)
            | Forget(actor=actor, users=users, manager=manager)
        ):
            kind = "expect" if isinstance(event, Expect) else "forget"
            row.update(kind=kind, user_id=actor, data={"users": list(users), "manager": manager})
        case Extend(actor=actor, seconds=seconds, manager=manager):
            row.update(kind="extend", user_id=actor, data={"seconds": seconds, "manager": manager})
        case PingSent():
            row.update(kind="ping")
        case Tick():
            row.update(kind="tick")  # stored only when time alone changed something
    if row["data"] is not None:
        row["data"] = json.dumps(row["data"])
    return row


def decode(kind: str, at_ms: int, user: int | None, raw: str | None) -> Event:
    at = at_ms / 1000
    data: dict[str, Any] = json.loads(raw) if raw else {}
    manager = bool(data.get("manager", False))
    if kind == "join":
        return VoiceJoined(at, int(user or 0))
    if kind == "leave":
        return VoiceLeft(at, int(user or 0))
    if kind == "press":
        return Press(at, int(user or 0), Action(data["action"]), manager)
    if kind in ("expect", "forget"):
        users = tuple(int(u) for u in data["users"])
        return (Expect if kind == "expect" else Forget)(at, int(user or 0), users, manager)
    if kind == "extend":
        return Extend(at, int(user or 0), float(data["seconds"]), manager)
    if kind == "ping":
        return PingSent(at)
    return Tick(at)


@dataclass
class StoredGathering:
    id: int
    guild_id: int
    voice_channel_id: int
    text_channel_id: int
    message_id: int | None
    organizer_id: int
    created_at: float
    countdown: float | None
    label: str | None
    rules: Rules
    present: list[int]
    events: list[Event] = field(default_factory=list)

    def replay(self) -> Gathering:
        """The gathering as it was after its last stored event."""
        gathering = Gathering.create(
            organizer=self.organizer_id,
            at=self.created_at,
            rules=self.rules,
            countdown=self.countdown,
            present=self.present,
        )
        for event in self.events:
            gathering.handle(event)
        return gathering


class GatherStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def create(
        self,
        *,
        guild_id: int,
        voice_channel_id: int,
        text_channel_id: int,
        gathering: Gathering,
        label: str | None,
        present: Sequence[int],
    ) -> int:
        setup = json.dumps({"rules": asdict(gathering.rules), "present": sorted(present)})
        values = {
            "guild_id": guild_id,
            "voice_channel_id": voice_channel_id,
            "text_channel_id": text_channel_id,
            "organizer_id": gathering.organizer,
            "created_ms": ms(gathering.created_at),
            "countdown_ms": None if gathering.countdown is None else ms(gathering.countdown),
            "label": label[:64] if label else None,
            "setup": setup,
        }
        async with self.engine.begin() as conn:
            result = await conn.execute(insert(gatherings).values(**values).returning(gatherings.c.id))
            return int(result.scalar_one())

    async def attach_message(self, gathering_id: int, message_id: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(gatherings).where(gatherings.c.id == gathering_id).values(message_id=message_id)
            )

    async def discard(self, gathering_id: int) -> None:
        """Forget a gathering that never got going (its message could not be sent)."""
        async with self.engine.begin() as conn:
            await conn.execute(delete(gather_events).where(gather_events.c.gathering_id == gathering_id))
            await conn.execute(delete(gatherings).where(gatherings.c.id == gathering_id))

    async def record(
        self, gathering_id: int, guild_id: int, first_seq: int, events: Sequence[Event], state: Gathering
    ) -> None:
        """Append `events` and, when `state` has ended, its end and attendance: all or nothing."""
        rows = [
            {"gathering_id": gathering_id, "seq": first_seq + i, **encode(e)} for i, e in enumerate(events)
        ]
        async with self.engine.begin() as conn:
            if rows:
                await conn.execute(insert(gather_events), rows)
            if state.ended and state.ended_at is not None and state.end_reason is not None:
                ended_ms = ms(state.ended_at)
                await conn.execute(
                    update(gatherings)
                    .where(gatherings.c.id == gathering_id)
                    .values(ended_ms=ended_ms, end_reason=state.end_reason.value, ended_by=state.ended_by)
                )
                marks = [
                    {
                        "gathering_id": gathering_id,
                        "user_id": a.user,
                        "guild_id": guild_id,
                        "ended_ms": ended_ms,
                        "status": a.status,
                        "lateness_ms": None if a.lateness is None else ms(a.lateness),
                    }
                    for a in attendance(state)
                ]
                if marks:
                    await conn.execute(insert(gather_attendance), marks)

    async def open_gatherings(self) -> list[StoredGathering]:
        """Every gathering still running, with its events in order."""
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(gatherings).where(gatherings.c.ended_ms.is_(None)).order_by(gatherings.c.id)
                )
            ).all()
            found: dict[int, StoredGathering] = {}
            for row in rows:
                setup = json.loads(row.setup)
                found[row.id] = StoredGathering(
                    id=row.id,
                    guild_id=row.guild_id,
                    voice_channel_id=row.voice_channel_id,
                    text_channel_id=row.text_channel_id,
                    message_id=row.message_id,
                    organizer_id=row.organizer_id,
                    created_at=row.created_ms / 1000,
                    countdown=None if row.countdown_ms is None else row.countdown_ms / 1000,
                    label=row.label,
                    rules=Rules(**setup["rules"]),
                    present=[int(u) for u in setup["present"]],
                )
            if found:
                events = await conn.execute(
                    select(gather_events)
                    .where(gather_events.c.gathering_id.in_(list(found)))
                    .order_by(gather_events.c.gathering_id, gather_events.c.seq)
                )
                for event in events:
                    found[event.gathering_id].events.append(
                        decode(event.kind, event.at_ms, event.user_id, event.data)
                    )
        return list(found.values())

    async def end_reason(self, gathering_id: int) -> str | None:
        """How a gathering ended ("" while it runs; None if there is no such gathering)."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(select(gatherings.c.end_reason).where(gatherings.c.id == gathering_id))
            ).first()
        return None if row is None else (row.end_reason or "")

    async def history(self, guild_id: int, since: float | None = None) -> list[Record]:
        """The attendance of the guild's finished gatherings, oldest first."""
        query = select(gather_attendance).where(gather_attendance.c.guild_id == guild_id)
        if since is not None:
            query = query.where(gather_attendance.c.ended_ms >= ms(since))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query.order_by(gather_attendance.c.ended_ms))).all()
        return [
            Record(
                row.gathering_id,
                row.user_id,
                row.ended_ms / 1000,
                row.status,
                None if row.lateness_ms is None else row.lateness_ms / 1000,
            )
            for row in rows
        ]
