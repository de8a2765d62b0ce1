"""Imports every table so Alembic and ``Base.metadata`` see the whole schema."""

from belegwerk.banking import models as banking_models
from belegwerk.books import models as books_models
from belegwerk.core import audit, documents
from belegwerk.core.db import Base
from belegwerk.tax import models as tax_models
from belegwerk.tax.eks import models as eks_models
from belegwerk.tenancy import models as tenancy_models

__all__ = [
    "Base",
    "audit",
    "banking_models",
    "books_models",
    "documents",
    "eks_models",
    "tax_models",
    "tenancy_models",
]
