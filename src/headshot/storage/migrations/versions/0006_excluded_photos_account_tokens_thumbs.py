"""excluded photos, account tokens, email verification, headshot thumbnails, honest attire

Revision ID: 0006
Revises: 0003

"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The studio engine keeps the person's own clothes; what it stored under another attire is fixed.
OWN_CLOTHES = "as-is"


def upgrade() -> None:
    op.create_table(
        "account_tokens",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_account_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_tokens_token_hash")),
    )
    with op.batch_alter_table("account_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_tokens_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("excluded", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("headshots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("thumb_key", sa.String(length=200), nullable=True))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True)
        )
    # Accounts made before verification existed are not locked out when it becomes required.
    users = sa.table("users", sa.column("created_at"), sa.column("email_verified_at"))
    op.execute(users.update().values(email_verified_at=users.c.created_at))
    _studio_attire_is_own_clothes()


def _studio_attire_is_own_clothes() -> None:
    generations = sa.table(
        "generations", sa.column("id"), sa.column("engine"), sa.column("looks", sa.JSON)
    )
    headshots = sa.table("headshots", sa.column("generation_id"), sa.column("attire"))
    studio = sa.select(generations.c.id).where(generations.c.engine == "studio")
    op.execute(
        headshots.update()
        .where(headshots.c.generation_id.in_(studio), headshots.c.attire != OWN_CLOTHES)
        .values(attire=OWN_CLOTHES)
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(generations.c.id, generations.c.looks).where(generations.c.engine == "studio")
    )
    for generation_id, looks in list(rows):
        honest: list[dict[str, Any]] = [{**look, "attire": OWN_CLOTHES} for look in looks or []]
        if honest != looks:
            connection.execute(
                generations.update().where(generations.c.id == generation_id).values(looks=honest)
            )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("email_verified_at")
    with op.batch_alter_table("headshots", schema=None) as batch_op:
        batch_op.drop_column("thumb_key")
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.drop_column("excluded")
    with op.batch_alter_table("account_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_tokens_user_id"))
    op.drop_table("account_tokens")
