"""Imports every table so Alembic and ``Base.metadata`` see the whole schema."""

from belegwerk.books import models as books_models
from belegwerk.core import audit
from belegwerk.core.db import Base
from belegwerk.tenancy import models as tenancy_models

__all__ = ["Base", "audit", "books_models", "tenancy_models"]
