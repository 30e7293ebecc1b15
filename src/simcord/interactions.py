"""Interactions: creation, the 3-second acknowledgement window, the 15-minute token, and their records.

Each interaction is recorded with its creation time, the time of its first callback, and an outcome
that tests assert on. An interaction nobody acknowledged within the window is marked *failed* the
moment the window closes: that is when a person would see "This interaction failed".
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from simcord.state import Channel, Guild, Json, Message, User
from simcord.world import Application, World, WorldError

ACK_WINDOW = 3.0
TOKEN_LIFETIME = 15 * 60.0


class InteractionType:
    APPLICATION_COMMAND = 2
    MESSAGE_COMPONENT = 3
    AUTOCOMPLETE = 4
    MODAL_SUBMIT = 5


class Outcome(Enum):
    PENDING = "pending"
    ACKNOWLEDGED = "acknowledged"
    FAILED = "failed"  # not acknowledged within the window: "This interaction failed"


@dataclass(eq=False)
class InteractionRecord:
    id: int
    token: str
    type: int
    application: Application
    user: User
    guild: Guild | None
    channel: Channel
    data: Json
    message: Message | None = None
    created_at: float = field(default_factory=time.monotonic)
    created_wall: float = field(default_factory=time.time)
    acked_at: float | None = None
    ack_type: int | None = None
    ack_flags: int = 0
    outcome: Outcome = Outcome.PENDING
    response: Message | None = None
    followups: list[Message] = field(default_factory=list)
    rejected_callbacks: list[int] = field(default_factory=list)  # error codes of refused callbacks
    modal: Json | None = None
    triggered_by: InteractionRecord | None = None  # for a modal submit: the interaction that opened it
    _settled: asyncio.Event = field(default_factory=asyncio.Event)
    _timer: asyncio.TimerHandle | None = None

    @property
    def ack_latency(self) -> float | None:
        """Seconds from the click (or command) to the first accepted callback."""
        return None if self.acked_at is None else self.acked_at - self.created_at

    @property
    def failed(self) -> bool:
        return self.outcome is Outcome.FAILED

    @property
    def ephemeral(self) -> bool:
        return bool(self.ack_flags & Message.EPHEMERAL)

    @property
    def custom_id(self) -> str | None:
        value = self.data.get("custom_id")
        return str(value) if value is not None else None

    async def wait_settled(self, timeout: float = ACK_WINDOW + 1.0) -> InteractionRecord:
        """Wait until acknowledged or failed."""
        await asyncio.wait_for(self._settled.wait(), timeout)
        return self

    def messages(self) -> list[Message]:
        """Everything the interaction produced that still exists: the response, then followups."""
        out = [self.response] if self.response is not None else []
        out.extend(self.followups)
        return [m for m in out if not m.deleted]


class InteractionDesk:
    """Creates interactions and applies callbacks, followups and @original edits to them."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.by_id: dict[int, InteractionRecord] = {}
        self.by_token: dict[str, InteractionRecord] = {}
        self.ack_window = ACK_WINDOW
        self.token_lifetime = TOKEN_LIFETIME

    # ---------------------------------------------------------------- creation

    def create(
        self,
        *,
        app: Application,
        user: User,
        channel: Channel,
        type_: int,
        data: Json,
        message: Message | None = None,
        triggered_by: InteractionRecord | None = None,
    ) -> InteractionRecord:
        guild = self.world.guild_of_channel(channel)
        record = InteractionRecord(
            id=self.world.snowflakes.next(),
            token=f"aW50ZXJhY3Rpb24.{secrets.token_urlsafe(48)}",
            type=type_,
            application=app,
            user=user,
            guild=guild,
            channel=channel,
            data=data,
            message=message,
            triggered_by=triggered_by,
        )
        self.by_id[record.id] = record
        self.by_token[record.token] = record
        self.world.interactions.append(record)
        loop = asyncio.get_running_loop()
        record._timer = loop.call_later(self.ack_window, self._expire, record)
        self.world.dispatch(
            "INTERACTION_CREATE",
            self.payload(record),
            guild_id=guild.id if guild else None,
            to_user=app.bot.id,
        )
        return record

    @staticmethod
    def owners(record: InteractionRecord) -> Json:
        """authorizing_integration_owners: installed to the guild ("0"), or to the user in DMs ("1")."""
        if record.guild is not None:
            return {"0": str(record.guild.id)}
        return {"1": str(record.user.id)}

    def metadata(self, record: InteractionRecord, *, followup: bool = False) -> Json:
        """The `interaction_metadata` Discord puts on messages created in answer to `record`."""
        meta: Json = {
            "id": str(record.id),
            "type": record.type,
            "user": record.user.to_json(),
            "authorizing_integration_owners": self.owners(record),
        }
        if record.type == InteractionType.APPLICATION_COMMAND:
            meta.update(name=record.data.get("name", ""), command_type=record.data.get("type", 1))
            target = ((record.data.get("resolved") or {}).get("users") or {}).get(
                record.data.get("target_id")
            )
            if target is not None:
                meta["target_user"] = target
        elif record.type == InteractionType.MESSAGE_COMPONENT and record.message is not None:
            meta["interacted_message_id"] = str(record.message.id)
        elif record.type == InteractionType.MODAL_SUBMIT and record.triggered_by is not None:
            meta["triggering_interaction_metadata"] = self.metadata(record.triggered_by)
        if followup and record.response is not None:
            meta["original_response_message_id"] = str(record.response.id)
        return meta

    def payload(self, record: InteractionRecord) -> Json:
        data: Json = {
            "id": str(record.id),
            "application_id": str(record.application.id),
            "type": record.type,
            "data": record.data,
            "channel_id": str(record.channel.id),
            "channel": {"id": str(record.channel.id), "type": record.channel.type},
            "token": record.token,
            "version": 1,
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        guild = record.guild
        if guild is not None:
            member = guild.members[record.user.id]
            data.update(
                {
                    "guild_id": str(guild.id),
                    "guild_locale": "en-US",
                    "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
                    "member": {**member.to_json(), "permissions": str(guild.permissions_of(record.user.id))},
                    "app_permissions": str(guild.permissions_of(record.application.bot.id)),
                    "authorizing_integration_owners": self.owners(record),
                    "context": 0,
                }
            )
        else:
            data.update(
                {
                    "user": record.user.to_json(),
                    "context": 1,
                    "app_permissions": "0",
                    "authorizing_integration_owners": self.owners(record),
                }
            )
        if record.message is not None:
            data["message"] = record.message.to_json()
        return data

    def _expire(self, record: InteractionRecord) -> None:
        if record.outcome is Outcome.PENDING:
            record.outcome = Outcome.FAILED
            record._settled.set()
            self.world.changed()

    # ---------------------------------------------------------------- callbacks

    def callback(
        self, interaction_id: int, token: str, body: Json
    ) -> tuple[InteractionRecord, Message | None]:
        record = self.by_id.get(interaction_id)
        if record is None or record.token != token:
            raise WorldError(404, 10062, "Unknown interaction")
        if record.outcome is Outcome.FAILED or time.monotonic() - record.created_at > self.ack_window:
            record.rejected_callbacks.append(10062)
            self._expire(record)
            raise WorldError(404, 10062, "Unknown interaction")
        if record.outcome is Outcome.ACKNOWLEDGED:
            record.rejected_callbacks.append(40060)
            raise WorldError(400, 40060, "Interaction has already been acknowledged.")
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        is_component = record.type == InteractionType.MESSAGE_COMPONENT
        if (
            kind not in (4, 5, 6, 7, 9)
            or (kind in (6, 7) and not is_component)
            or (kind == 9 and record.type == InteractionType.MODAL_SUBMIT)
        ):
            raise WorldError(
                400,
                50035,
                "Invalid Form Body",
                {
                    "type": {
                        "_errors": [
                            {
                                "code": "INTERACTION_RESPONSE_TYPE_INVALID",
                                "message": "Invalid interaction response type",
                            }
                        ]
                    }
                },
            )
        message = self._apply(record, kind, data)
        if record._timer is not None:
            record._timer.cancel()
        record.acked_at = time.monotonic()
        record.ack_type = kind
        record.ack_flags = int(data.get("flags") or 0) if kind in (4, 5) else 0
        record.outcome = Outcome.ACKNOWLEDGED
        record._settled.set()
        self.world.changed()
        return record, message

    def _apply(self, record: InteractionRecord, kind: int, data: Json) -> Message | None:
        bot = record.application.bot
        ephemeral = bool(int(data.get("flags") or 0) & Message.EPHEMERAL)
        if kind == 4:
            record.response = self._post(record, data, flags=int(data.get("flags") or 0))
            return record.response
        if kind == 5:
            record.response = self.world.post_message(
                record.channel,
                bot,
                flags=Message.LOADING | (Message.EPHEMERAL if ephemeral else 0),
                interaction_id=record.id,
                interaction_metadata=self.metadata(record),
                webhook_id=record.application.id,
                application_id=record.application.id,
                ephemeral_for=record.user.id if ephemeral else None,
            )
            return record.response
        if kind == 7:
            assert record.message is not None
            return self.world.edit_message(record.message, data, data.get("allowed_mentions"))
        if kind == 9:
            record.modal = data
        return None

    def _post(self, record: InteractionRecord, data: Json, *, flags: int, followup: bool = False) -> Message:
        ephemeral = bool(flags & Message.EPHEMERAL)
        return self.world.post_message(
            record.channel,
            record.application.bot,
            content=data.get("content") or "",
            embeds=data.get("embeds"),
            components=data.get("components"),
            attachments=data.get("attachments"),
            flags=flags & (Message.EPHEMERAL | (1 << 2) | (1 << 12)),
            allowed_mentions=data.get("allowed_mentions"),
            interaction_id=record.id,
            interaction_metadata=self.metadata(record, followup=followup),
            webhook_id=record.application.id,
            application_id=record.application.id,
            ephemeral_for=record.user.id if ephemeral else None,
        )

    # ---------------------------------------------------------------- webhooks (followups, @original)

    def for_webhook(self, application_id: int, token: str) -> InteractionRecord:
        record = self.by_token.get(token)
        if record is None or record.application.id != application_id:
            raise WorldError(404, 10015, "Unknown Webhook")
        if record.outcome is not Outcome.ACKNOWLEDGED:
            raise WorldError(404, 10015, "Unknown Webhook")
        if time.monotonic() - record.created_at > self.token_lifetime:
            raise WorldError(401, 50027, "Invalid Webhook Token")
        return record

    def followup(self, record: InteractionRecord, data: Json) -> Message:
        response = record.response
        if response is not None and response.loading and not response.deleted:
            # The first followup after a "thinking" defer replaces the loading message.
            return self.world.edit_message(response, data, data.get("allowed_mentions"))
        message = self._post(record, data, flags=int(data.get("flags") or 0), followup=True)
        record.followups.append(message)
        return message

    def target(self, record: InteractionRecord, message_id: str) -> Message:
        if message_id == "@original":
            if record.response is not None:
                return record.response
            if record.ack_type in (6, 7) and record.message is not None:
                return record.message
            raise WorldError(404, 10008, "Unknown Message")
        message = next((m for m in record.followups if str(m.id) == message_id), None)
        if message is None or message.deleted:
            raise WorldError(404, 10008, "Unknown Message")
        return message


def component_data(message: Message, wanted: str) -> Json:
    """Find a button by label or custom_id and build the click payload Discord would send."""
    for row in message.components:
        for comp in row.get("components", []):
            if wanted in (comp.get("label"), comp.get("custom_id")):
                if comp.get("disabled"):
                    raise WorldError(400, 0, f"button {wanted!r} is disabled")
                if comp.get("type") == 2 and comp.get("style") == 5:
                    raise WorldError(400, 0, f"button {wanted!r} is a link")
                data: dict[str, Any] = {
                    "component_type": comp["type"],
                    "custom_id": comp["custom_id"],
                    "id": comp.get("id", 0),  # the component's numeric id, as Discord echoes it
                }
                if comp.get("type") == 3:
                    data["values"] = []
                return data
    raise LookupError(f"no component {wanted!r} on message {message.id}")
