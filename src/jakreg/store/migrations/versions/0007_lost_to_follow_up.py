"""patient.lost_to_follow_up (issue 12: a lost patient's expected visits become not applicable)

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("patient") as batch:
        batch.add_column(
            sa.Column("lost_to_follow_up", sa.String(length=8), nullable=False, server_default="no")
        )


def downgrade() -> None:
    with op.batch_alter_table("patient") as batch:
        batch.drop_column("lost_to_follow_up")
