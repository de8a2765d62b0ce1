"""Tax outputs read from the journal: the cash-basis view, the Anlage EÜR, the asset register."""
