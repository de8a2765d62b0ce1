"""API shapes of categories: master accounts, the tenant's overrides and the accounts in effect."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from belegwerk.books.categories import CategoryView


class CategoryOut(BaseModel):
    id: int
    key: str
    name_de: str
    name_en: str
    kind: str
    chart: str = Field(description="The tenant's chart of accounts (skr03 or skr04).")
    account: str | None = Field(description="The account bookings use in the tenant's chart.")
    master_skr03_account: str | None
    master_skr04_account: str | None
    override_skr03_account: str | None
    override_skr04_account: str | None
    effective_skr03_account: str | None
    effective_skr04_account: str | None
    eks_line: str | None
    euer_kz: str | None
    default_vat_rate: Decimal = Field(description='Percent, as a decimal string, e.g. "19.00".')
    input_vat_deductible: bool
    sort_order: int
    note: str

    @classmethod
    def from_view(cls, view: CategoryView) -> CategoryOut:
        c = view.category
        return cls(
            id=c.id,
            key=c.key,
            name_de=c.name_de,
            name_en=c.name_en,
            kind=c.kind,
            chart=view.chart,
            account=view.account,
            master_skr03_account=c.skr03_account,
            master_skr04_account=c.skr04_account,
            override_skr03_account=view.override_skr03,
            override_skr04_account=view.override_skr04,
            effective_skr03_account=view.effective_skr03,
            effective_skr04_account=view.effective_skr04,
            eks_line=c.eks_line,
            euer_kz=c.euer_kz,
            default_vat_rate=c.default_vat_rate,
            input_vat_deductible=c.input_vat_deductible,
            sort_order=c.sort_order,
            note=c.note,
        )


class OverrideIn(BaseModel):
    """The tenant's own accounts; a chart left empty uses the master account."""

    model_config = ConfigDict(extra="forbid")

    skr03_account: str | None = Field(default=None, examples=["8401"])
    skr04_account: str | None = Field(default=None, examples=["4401"])
