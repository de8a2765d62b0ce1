"""Tax outputs read from the journal: the cash-basis view, UStVA, deadlines and monitors, the
Anlage EÜR with the asset register, the Anlage EKS."""
