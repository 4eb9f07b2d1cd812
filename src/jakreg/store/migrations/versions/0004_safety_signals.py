"""safety signals

Revision ID: 0004
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "safety_signal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_pk", sa.Integer(), nullable=False),
        sa.Column("centre", sa.String(length=16), nullable=False),
        sa.Column("rule_id", sa.String(length=40), nullable=False),
        sa.Column("rule_version", sa.String(length=20), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("record_table", sa.String(length=40), nullable=False),
        sa.Column("record_pk", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("threshold", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=14), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_comment", sa.Text(), nullable=True),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_comment", sa.Text(), nullable=True),
        sa.Column("derived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_pk"],
            ["patient.id"],
            name=op.f("fk_safety_signal_patient_pk_patient"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_signal")),
        sa.UniqueConstraint(
            "rule_id",
            "record_table",
            "record_pk",
            name=op.f("uq_safety_signal_rule_id_record_table_record_pk"),
        ),
    )
    with op.batch_alter_table("safety_signal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_safety_signal_centre"), ["centre"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_safety_signal_patient_pk"), ["patient_pk"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_safety_signal_state"), ["state"], unique=False)


def downgrade() -> None:
    op.drop_table("safety_signal")
