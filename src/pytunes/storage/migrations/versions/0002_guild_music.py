"""Per-guild music settings: volume, silent mode, loudness normalization.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "guild_music",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("volume", sa.Integer(), server_default="50", nullable=False),
        sa.Column("silent", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("normalize", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("volume BETWEEN 1 AND 500", name=op.f("ck_guild_music_volume_range")),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_guild_music")),
    )


def downgrade() -> None:
    op.drop_table("guild_music")
