"""pseudonym counter per centre; index on the audit trail by record (entity, entity_pk, id)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 11:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pseudonym_counter",
        sa.Column("centre_pk", sa.Integer(), nullable=False),
        sa.Column("last_no", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["centre_pk"], ["centre.id"], name=op.f("fk_pseudonym_counter_centre_pk_centre")
        ),
        sa.PrimaryKeyConstraint("centre_pk", name=op.f("pk_pseudonym_counter")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_event_entity_row", ["entity", "entity_pk", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_entity_row")
    op.drop_table("pseudonym_counter")
