"""Anlage EKS for the Jobcenter: the self-employed person's income in a benefit period."""
