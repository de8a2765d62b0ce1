"""E-invoices: XRechnung (UBL, CII), ZUGFeRD 1.0 and 2.x / Factur-X — detect, read, validate."""
