"""Reputation, per guild: the rep log, materialised scores per period, board state, guild settings.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reputation",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("giver_id", sa.BigInteger(), nullable=False),
        sa.Column("receiver_id", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("interaction_id", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("value IN (-1, 1)", name=op.f("ck_reputation_value_sign")),
        sa.CheckConstraint(
            "(message_id IS NULL) <> (interaction_id IS NULL)", name=op.f("ck_reputation_one_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reputation")),
    )
    op.create_index(
        "ix_reputation_history",
        "reputation",
        ["guild_id", "receiver_id", "id"],
        sqlite_where=sa.text("revoked_at IS NULL"),
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    op.create_index("ix_reputation_giver", "reputation", ["guild_id", "giver_id", "created_at"])
    op.create_index("ix_reputation_created", "reputation", ["guild_id", "created_at"])

    op.create_table(
        "reputation_scores",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("reps", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "period", "user_id", name=op.f("pk_reputation_scores")),
    )
    op.create_index(
        "ix_reputation_scores_rank",
        "reputation_scores",
        ["guild_id", "period", sa.text("total DESC"), sa.text("reps DESC"), "user_id"],
    )

    op.create_table(
        "reputation_boards",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("ranked", sa.Integer(), nullable=False),
        sa.Column("horizon", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("guild_id", "period", name=op.f("pk_reputation_boards")),
    )

    op.create_table(
        "reputation_settings",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("cooldown_seconds", sa.Integer(), server_default="600", nullable=False),
        sa.Column("daily_budget", sa.Integer(), server_default="10", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(
            "cooldown_seconds BETWEEN 0 AND 86400", name=op.f("ck_reputation_settings_cooldown_range")
        ),
        sa.CheckConstraint(
            "daily_budget BETWEEN 1 AND 1000", name=op.f("ck_reputation_settings_budget_range")
        ),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_reputation_settings")),
    )


def downgrade() -> None:
    op.drop_table("reputation_settings")
    op.drop_table("reputation_boards")
    op.drop_index("ix_reputation_scores_rank", table_name="reputation_scores")
    op.drop_table("reputation_scores")
    op.drop_index("ix_reputation_created", table_name="reputation")
    op.drop_index("ix_reputation_giver", table_name="reputation")
    op.drop_index("ix_reputation_history", table_name="reputation")
    op.drop_table("reputation")
