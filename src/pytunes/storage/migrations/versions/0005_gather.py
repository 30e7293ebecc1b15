"""Gather: gatherings, their events (replayed on restart) and the attendance of finished ones.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gatherings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("voice_channel_id", sa.BigInteger(), nullable=False),
        sa.Column("text_channel_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("organizer_id", sa.BigInteger(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("countdown_ms", sa.BigInteger(), nullable=True),
        sa.Column("label", sa.String(length=64), nullable=True),
        sa.Column("setup", sa.Text(), nullable=False),
        sa.Column("ended_ms", sa.BigInteger(), nullable=True),
        sa.Column("end_reason", sa.String(length=16), nullable=True),
        sa.Column("ended_by", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gatherings")),
    )
    op.create_index("ix_gatherings_open", "gatherings", ["ended_ms"])
    op.create_table(
        "gather_events",
        sa.Column("gathering_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("data", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["gathering_id"],
            ["gatherings.id"],
            name=op.f("fk_gather_events_gathering_id_gatherings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("gathering_id", "seq", name=op.f("pk_gather_events")),
    )
    op.create_table(
        "gather_attendance",
        sa.Column("gathering_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("ended_ms", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("lateness_ms", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "status IN ('on_time', 'late', 'out', 'missed')", name=op.f("ck_gather_attendance_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["gathering_id"],
            ["gatherings.id"],
            name=op.f("fk_gather_attendance_gathering_id_gatherings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("gathering_id", "user_id", name=op.f("pk_gather_attendance")),
    )
    op.create_index("ix_gather_attendance_guild", "gather_attendance", ["guild_id", "ended_ms"])


def downgrade() -> None:
    op.drop_index("ix_gather_attendance_guild", table_name="gather_attendance")
    op.drop_table("gather_attendance")
    op.drop_table("gather_events")
    op.drop_index("ix_gatherings_open", table_name="gatherings")
    op.drop_table("gatherings")
