"""headshot effective resolution, upscaled flag and engine metrics

Revision ID: 0007
Revises: 0003

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("headshots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("effective_width", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("effective_height", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("upscaled", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("metrics", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("headshots", schema=None) as batch_op:
        batch_op.drop_column("metrics")
        batch_op.drop_column("upscaled")
        batch_op.drop_column("effective_height")
        batch_op.drop_column("effective_width")
