"""Tax outputs: UStVA, deadlines and monitors (EÜR and EKS live here too)."""
