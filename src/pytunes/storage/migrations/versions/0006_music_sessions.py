"""Music that survives restarts (per-guild session state), the loudness cache and Spotify matches.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "music_session",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("voice_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("text_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("position", sa.Float(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_music_session")),
    )
    op.create_table(
        "audio_loudness",
        sa.Column("content_id", sa.String(length=200), nullable=False),
        sa.Column("lufs", sa.Float(), nullable=True),
        sa.Column("measured_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("content_id", name=op.f("pk_audio_loudness")),
    )
    op.create_table(
        "spotify_match",
        sa.Column("track_id", sa.String(length=64), nullable=False),
        sa.Column("video_id", sa.String(length=32), nullable=False),
        sa.Column("matched_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("track_id", name=op.f("pk_spotify_match")),
    )


def downgrade() -> None:
    op.drop_table("spotify_match")
    op.drop_table("audio_loudness")
    op.drop_table("music_session")
