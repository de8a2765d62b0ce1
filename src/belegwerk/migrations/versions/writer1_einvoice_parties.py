"""e-invoice writer: Leitweg-ID and public authority on parties, seller contact on the company

Revision ID: writer1
Revises: perf1
Create Date: 2026-12-02 18:42:35.719585
"""

import sqlalchemy as sa
from alembic import op

revision = "writer1"
down_revision = "perf1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN on both databases: no table rebuild on SQLite, so no trigger is lost.
    op.add_column(
        "companies",
        sa.Column("contact_name", sa.String(length=100), server_default="", nullable=False),
    )
    op.add_column(
        "companies", sa.Column("phone", sa.String(length=40), server_default="", nullable=False)
    )
    op.add_column(
        "parties",
        sa.Column("public_authority", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "parties",
        sa.Column("leitweg_id", sa.String(length=50), server_default="", nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("parties", schema=None) as batch_op:
        batch_op.drop_column("leitweg_id")
        batch_op.drop_column("public_authority")
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.drop_column("phone")
        batch_op.drop_column("contact_name")
