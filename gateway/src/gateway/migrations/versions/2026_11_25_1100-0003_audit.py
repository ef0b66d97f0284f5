"""The audit trail, append-only: triggers abort any UPDATE or DELETE on it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 11:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSAL = "gateway_audit is append-only"


def upgrade() -> None:
    op.create_table(
        "gateway_audit",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("country", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("route", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("upstream", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_audit")),
    )
    with op.batch_alter_table("gateway_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gateway_audit_at"), ["at"], unique=False)
        batch_op.create_index("ix_gateway_audit_client_id_at", ["client_id", "at"], unique=False)

    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER gateway_audit_no_{action.lower()} "
                f"BEFORE {action} ON gateway_audit "
                f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION gateway_audit_refuse_change() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION '{REFUSAL}' USING ERRCODE = 'insufficient_privilege'; "
            "END $$"
        )
        op.execute(
            "CREATE TRIGGER gateway_audit_append_only "
            "BEFORE UPDATE OR DELETE ON gateway_audit "
            "FOR EACH ROW EXECUTE FUNCTION gateway_audit_refuse_change()"
        )
        # TRUNCATE skips row triggers: refuse it too.
        op.execute(
            "CREATE TRIGGER gateway_audit_no_truncate "
            "BEFORE TRUNCATE ON gateway_audit "
            "FOR EACH STATEMENT EXECUTE FUNCTION gateway_audit_refuse_change()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS gateway_audit_no_delete")
        op.execute("DROP TRIGGER IF EXISTS gateway_audit_no_update")
    else:
        op.execute("DROP TRIGGER IF EXISTS gateway_audit_no_truncate ON gateway_audit")
        op.execute("DROP TRIGGER IF EXISTS gateway_audit_append_only ON gateway_audit")
        op.execute("DROP FUNCTION IF EXISTS gateway_audit_refuse_change()")
    with op.batch_alter_table("gateway_audit", schema=None) as batch_op:
        batch_op.drop_index("ix_gateway_audit_client_id_at")
        batch_op.drop_index(batch_op.f("ix_gateway_audit_at"))
    op.drop_table("gateway_audit")
