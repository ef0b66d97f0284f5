"""Alembic helpers: each service keeps its own migration environment; these run it.

A service's `migrations/env.py` is two lines (`run_migrations(metadata)`); `upgrade` and
`downgrade` drive it from async code (tests, the CLI) by sharing one async connection.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from pangolin_core.db import async_url, create_engine, is_sqlite
from pangolin_core.messaging.tables import messaging_metadata

FILE_TEMPLATE = "%%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d-%%(rev)s_%%(slug)s"


def alembic_config(script_location: Path, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", async_url(url).replace("%", "%%"))
    config.set_main_option("file_template", FILE_TEMPLATE)
    config.set_main_option("path_separator", "os")
    config.set_main_option("timezone", "UTC")
    return config


async def _run(script_location: Path, url: str, action: str, argument: str, **kw: Any) -> None:
    config = alembic_config(script_location, url)
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:

            def go(sync_conn: Connection) -> None:
                config.attributes["connection"] = sync_conn
                getattr(command, action)(config, argument, **kw)

            await conn.run_sync(go)
    finally:
        await engine.dispose()


async def upgrade(script_location: Path, url: str, revision: str = "head") -> None:
    await _run(script_location, url, "upgrade", revision)


async def downgrade(script_location: Path, url: str, revision: str = "base") -> None:
    await _run(script_location, url, "downgrade", revision)


def head_revision(script_location: Path) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(
        alembic_config(script_location, "sqlite://")
    ).get_current_head()


async def autogenerate(script_location: Path, message: str, *, rev_id: str | None = None) -> None:
    """Write a new revision: what the models have that a database at head lacks."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/autogenerate.db"
        await upgrade(script_location, url)
        await _run(script_location, url, "revision", message, autogenerate=True, rev_id=rev_id)


async def current_revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            has_table = await conn.run_sync(lambda c: sa.inspect(c).has_table("alembic_version"))
            if not has_table:
                return None
            row = await conn.execute(sa.text("SELECT version_num FROM alembic_version"))
            return row.scalar_one_or_none()
    finally:
        await engine.dispose()


def run_migrations(metadata: MetaData) -> None:
    """The body of every service's `env.py`: the service's tables plus outbox and inbox."""
    config = context.config
    targets = [metadata, messaging_metadata]
    url = config.get_main_option("sqlalchemy.url") or ""
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=targets, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection, targets, url)
        return

    async def standalone() -> None:  # `alembic upgrade` from a shell
        engine = create_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(_migrate, targets, url)
        await engine.dispose()

    asyncio.run(standalone())


def _migrate(connection: Connection, targets: list[MetaData], url: str) -> None:
    context.configure(
        connection=connection,
        target_metadata=targets,
        render_as_batch=is_sqlite(url),
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


# Frozen schema steps shared by every service's first migration. Never edit these: a later
# change to the outbox or inbox gets its own function and its own migration.
def create_messaging_tables_v1() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["created_at"],
        postgresql_where=sa.text("published_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL"),
    )
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(100), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_inbox")),
    )


def drop_messaging_tables_v1() -> None:
    op.drop_table("inbox")
    op.drop_index("ix_outbox_unpublished", table_name="outbox")
    op.drop_table("outbox")
