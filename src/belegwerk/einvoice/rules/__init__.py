"""Business rules (layer 3). Importing this package registers every rule module."""

from belegwerk.einvoice.rules import en16931_core, en16931_totals
from belegwerk.einvoice.rules.registry import REGISTRY, Hit, Rule, RuleContext, RuleSet, rule

__all__ = [
    "REGISTRY",
    "Hit",
    "Rule",
    "RuleContext",
    "RuleSet",
    "en16931_core",
    "en16931_totals",
    "rule",
]
