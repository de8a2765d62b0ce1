"""invoice supply date index: the UStVA selects invoices by their supply period

Revision ID: vat3
Revises: euer2
Create Date: 2026-12-02 18:30:03.664088
"""

from alembic import op

revision = "vat3"
down_revision = "euer2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain CREATE INDEX: no batch mode, so the invoices table (and its triggers) stays.
    op.create_index(
        "ix_invoices_tenant_supply", "invoices", ["tenant_id", "supply_date"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_invoices_tenant_supply", table_name="invoices")
