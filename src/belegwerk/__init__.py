"""Belegwerk: a self-hostable, GoBD-compliant finance cockpit for German small businesses."""

__version__ = "0.1.0"
