"""job leases: a worker's claim on the job step it runs, renewed by a heartbeat

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_leases",
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_job_leases")),
    )
    op.create_index(op.f("ix_job_leases_expires_at"), "job_leases", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_job_leases_expires_at"), table_name="job_leases")
    op.drop_table("job_leases")
