"""Reminders (with targets and time zones) and per-guild keyword reaction rules.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("scheduler_id", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("source_message_id", sa.BigInteger(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("due_ms", sa.BigInteger(), nullable=False),
        sa.Column("next_attempt_ms", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=8), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("first_attempt_snowflake", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("delivery_key", sa.String(length=25), nullable=False),
        sa.CheckConstraint("state IN ('pending', 'sending')", name=op.f("ck_reminders_state_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_reminders_next", "reminders", ["state", "next_attempt_ms"])
    op.create_index("ix_reminders_owner", "reminders", ["guild_id", "owner_id"])
    op.create_index("ix_reminders_scheduler", "reminders", ["guild_id", "scheduler_id"])
    op.create_index("ix_reminders_delivery_key", "reminders", ["delivery_key"], unique=True)

    op.create_table(
        "reminder_targets",
        sa.Column("reminder_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reminder_id"],
            ["reminders.id"],
            name=op.f("fk_reminder_targets_reminder_id_reminders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("reminder_id", "user_id", name=op.f("pk_reminder_targets")),
    )

    for table, key in (("user_timezones", "user_id"), ("guild_timezones", "guild_id")):
        op.create_table(
            table,
            sa.Column(key, sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("timezone", sa.String(length=64), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
            sa.PrimaryKeyConstraint(key, name=op.f(f"pk_{table}")),
        )

    op.create_table(
        "reaction_rules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("pattern", sa.String(length=300), nullable=False),
        sa.Column("emoji", sa.String(length=100), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reaction_rules")),
    )
    op.create_index(
        "ix_reaction_rules_unique", "reaction_rules", ["guild_id", "pattern", "emoji"], unique=True
    )

    op.create_table(
        "reaction_channels",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("channel_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.CheckConstraint("mode IN ('allow', 'deny')", name=op.f("ck_reaction_channels_mode_known")),
        sa.PrimaryKeyConstraint("guild_id", "channel_id", name=op.f("pk_reaction_channels")),
    )


def downgrade() -> None:
    op.drop_table("reaction_channels")
    op.drop_index("ix_reaction_rules_unique", table_name="reaction_rules")
    op.drop_table("reaction_rules")
    op.drop_table("guild_timezones")
    op.drop_table("user_timezones")
    op.drop_table("reminder_targets")
    op.drop_index("ix_reminders_delivery_key", table_name="reminders")
    op.drop_index("ix_reminders_scheduler", table_name="reminders")
    op.drop_index("ix_reminders_owner", table_name="reminders")
    op.drop_index("ix_reminders_next", table_name="reminders")
    op.drop_table("reminders")
