"""bank import raw layout

CSV imports keep each line's raw data as the text the bank wrote and name the columns once per
batch (``bank_import_batches.raw_layout``). Lines stored before keep their raw data as a JSON
object, with ``raw_layout`` NULL for their batch; the application reads both forms. They are
not rewritten: ``bank_transactions`` is immutable (GoBD), and their content does not change.

Revision ID: perf1
Revises: exports1
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "perf1"
down_revision = "exports1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bank_import_batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("raw_layout", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bank_import_batches", schema=None) as batch_op:
        batch_op.drop_column("raw_layout")
