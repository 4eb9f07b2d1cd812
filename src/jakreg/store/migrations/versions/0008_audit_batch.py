"""audit_batch: the rows of one batch audit event (issue 17: one event per import slice, sheet and action)

Per-row events written before stay as they are; both kinds verify, replay and show history side by side.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_batch",
        sa.Column("event_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("min_pk", sa.Integer(), nullable=False),
        sa.Column("max_pk", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_audit_batch")),
    )
    with op.batch_alter_table("audit_batch") as batch:
        batch.create_index(
            "ix_audit_batch_entity_range", ["entity", "min_pk", "max_pk"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_batch") as batch:
        batch.drop_index("ix_audit_batch_entity_range")
    op.drop_table("audit_batch")
