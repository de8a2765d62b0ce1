"""payments by date: the index the cash-basis view selects a period's payments with

Revision ID: euer2
Revises: euer1
Create Date: 2026-12-02
"""

from alembic import op

revision = "euer2"
down_revision = "euer1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain CREATE INDEX (no batch mode): the payments table keeps its immutability triggers.
    op.create_index("ix_payments_tenant_date", "payments", ["tenant_id", "payment_date"])


def downgrade() -> None:
    op.drop_index("ix_payments_tenant_date", table_name="payments")
