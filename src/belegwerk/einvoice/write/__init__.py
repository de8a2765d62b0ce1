"""Writing e-invoices out of the books: XRechnung 3.0 (UBL, CII) and ZUGFeRD 2.3 / Factur-X."""
