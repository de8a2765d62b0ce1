"""API shapes of customers and suppliers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class PartyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    is_customer: bool
    is_supplier: bool
    customer_number: int | None
    supplier_number: int | None
    street: str
    postal_code: str
    city: str
    country: str
    email: str
    vat_id: str
    iban: str
    bic: str
    public_authority: bool
    leitweg_id: str
    created_at: datetime
    updated_at: datetime


class PartyCreate(BaseModel):
    """A new party; numbers are assigned from the DATEV ranges when not given."""

    model_config = ConfigDict(extra="forbid")

    name: str
    is_customer: bool = False
    is_supplier: bool = False
    customer_number: int | None = Field(default=None, description="10000–69999")
    supplier_number: int | None = Field(default=None, description="70000–99999")
    street: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = "DE"
    email: str = ""
    vat_id: str = ""
    iban: str = ""
    bic: str = ""
    public_authority: bool = Field(
        default=False, description="public buyer: invoices need its Leitweg-ID (BT-10)"
    )
    leitweg_id: str = Field(default="", description="Leitweg-ID or the buyer's own reference")


class PartyUpdate(BaseModel):
    """Only the fields sent are changed."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    is_customer: bool | None = None
    is_supplier: bool | None = None
    customer_number: int | None = None
    supplier_number: int | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    email: str | None = None
    vat_id: str | None = None
    iban: str | None = None
    bic: str | None = None
    public_authority: bool | None = None
    leitweg_id: str | None = None


class PartyPage(BaseModel):
    items: list[PartyOut]
    total: int
    page: int
    page_size: int
