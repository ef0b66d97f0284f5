"""The outbox and inbox tables every service database has (created by its first migration)."""

from __future__ import annotations

import sqlalchemy as sa

from pangolin_core.db import service_metadata

messaging_metadata = service_metadata()

outbox = sa.Table(
    "outbox",
    messaging_metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("subject", sa.String(255), nullable=False),
    sa.Column("payload", sa.LargeBinary(), nullable=False),
    sa.Column("headers", sa.JSON(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Index(
        "ix_outbox_unpublished",
        "created_at",
        postgresql_where=sa.text("published_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL"),
    ),
)

inbox = sa.Table(
    "inbox",
    messaging_metadata,
    sa.Column("consumer", sa.String(100), primary_key=True),
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("subject", sa.String(255), nullable=False),
    sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
)
