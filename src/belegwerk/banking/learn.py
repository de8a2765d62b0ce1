"""A classifier trained on the user's own confirmed decisions, the weakest suggestion source.

Each confirmed classification is an example: its text is the counterparty name, purpose and
booking text plus two tokens for the direction and the size of the amount (digits are dropped,
so invoice numbers and dates do not count as words); its label is usage and category together
(``business:12``, ``private:``). Text becomes features through a stateless hashing vectorizer
(word uni- and bigrams), a logistic regression (saga solver) learns the labels.

The model is trained on demand, only from at least :data:`MIN_EXAMPLES` examples with at least
two different labels, from the latest :data:`MAX_EXAMPLES` decisions. It is kept in memory per
database and tenant and used as long as the number and the last change of the tenant's confirmed
decisions stay the same; any new or changed decision makes the next call retrain.

A prediction picks the usage with the highest summed probability; the best category within
that usage is kept when it holds at least half of the usage's probability, else the suggestion
comes without category. Its confidence is the probability of what is suggested.
"""

from __future__ import annotations

import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import BigInteger, func, select, type_coerce
from sqlalchemy.orm import Session

from belegwerk.banking.models import BankTransaction, Classification

MIN_EXAMPLES = 20
MIN_CLASSES = 2
MAX_EXAMPLES = 20_000
CATEGORY_SHARE = 0.5  # a category needs half of its usage's probability
CACHE_SIZE = 8  # tenants; a model of 16 labels holds 16 x N_FEATURES coefficients (8 MB)
N_FEATURES = 2**16

_DIGITS = re.compile(r"\d+")
_NAME_WORD = re.compile(r"\w{2,}")


@dataclass(frozen=True)
class Prediction:
    usage: str
    category_id: int | None
    confidence: float


def _size_token(cents: int) -> str:
    euros = abs(cents) // 100
    if euros < 10:
        return "zzsizetiny"
    if euros < 100:
        return "zzsizesmall"
    if euros < 1000:
        return "zzsizemid"
    return "zzsizelarge"


def features(name: str, purpose: str, booking_text: str, cents: int) -> str:
    """The text a line is learned and recognised by.

    Name words appear twice, plain and prefixed, so the same shop weighs more than a word that
    merely occurs in some purpose.
    """
    named = " ".join(f"zzname{w}" for w in _NAME_WORD.findall(name.casefold()))
    direction = "zzdirin" if cents > 0 else "zzdirout"
    return f"{name} {named} {purpose} {booking_text} {direction} {_size_token(cents)}"


def _preprocess(text: str) -> str:
    return _DIGITS.sub(" ", text.casefold())


if TYPE_CHECKING:
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.linear_model import LogisticRegression


@lru_cache(maxsize=1)
def _vectorizer() -> HashingVectorizer:
    """scikit-learn is imported on first use: loading it costs about a second, which every
    CLI run and server start would pay otherwise."""
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(
        n_features=N_FEATURES,
        ngram_range=(1, 2),
        alternate_sign=False,
        preprocessor=_preprocess,
        norm="l2",
    )


def _label(usage: str, category_id: int | None) -> str:
    return f"{usage}:{category_id if category_id is not None else ''}"


def _unlabel(label: str) -> tuple[str, int | None]:
    usage, _sep, category = label.partition(":")
    return usage, int(category) if category else None


class UsageModel:
    """A fitted classifier with the label bookkeeping needed to read its probabilities."""

    def __init__(self, classifier: LogisticRegression, examples: int) -> None:
        self.classifier = classifier
        self.examples = examples
        labels = [_unlabel(str(c)) for c in classifier.classes_]
        self.usages = sorted({u for u, _c in labels})
        self.label_usage = np.array([self.usages.index(u) for u, _c in labels])
        self.label_category = [c for _u, c in labels]
        # One column per usage: which labels belong to it (for summing probabilities).
        self.usage_matrix = np.zeros((len(labels), len(self.usages)))
        self.usage_matrix[np.arange(len(labels)), self.label_usage] = 1.0

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        if not texts:
            return []
        proba = self.classifier.predict_proba(_vectorizer().transform(texts))
        usage_proba = proba @ self.usage_matrix
        best_usage = usage_proba.argmax(axis=1)
        # Probabilities of labels of other usages are masked out to find the best category.
        masked = np.where(self.label_usage[None, :] == best_usage[:, None], proba, -1.0)
        best_label = masked.argmax(axis=1)
        out: list[Prediction] = []
        for row, (u, j) in enumerate(zip(best_usage, best_label, strict=True)):
            usage_p = float(usage_proba[row, u])
            label_p = float(proba[row, j])
            category = self.label_category[j]
            if category is not None and label_p >= CATEGORY_SHARE * usage_p:
                out.append(Prediction(self.usages[u], category, label_p))
            else:
                out.append(Prediction(self.usages[u], None, usage_p))
        return out


def _fingerprint(session: Session, tenant_id: int) -> tuple[int, datetime | None, int | None]:
    """Changes whenever a confirmed decision is added or changed."""
    row = session.execute(
        select(func.count(), func.max(Classification.updated_at), func.max(Classification.id))
        .select_from(Classification)
        .where(Classification.tenant_id == tenant_id, Classification.confirmed.is_(True))
    ).one()
    updated = row[1]
    if updated is not None and not isinstance(updated, datetime):  # SQLite: raw text via max()
        updated = datetime.fromisoformat(str(updated))
    return int(row[0]), updated, row[2]


def _examples(session: Session, tenant_id: int) -> list[Any]:
    tx = BankTransaction
    return list(
        session.execute(
            select(
                tx.counterparty_name,
                tx.purpose,
                tx.booking_text,
                type_coerce(tx.amount, BigInteger),
                Classification.usage,
                Classification.category_id,
            )
            .join(tx, tx.id == Classification.transaction_id)
            .where(Classification.tenant_id == tenant_id, Classification.confirmed.is_(True))
            .order_by(Classification.updated_at.desc(), Classification.id.desc())
            .limit(MAX_EXAMPLES)
        ).all()
    )


def train(session: Session, tenant_id: int) -> UsageModel | None:
    """Fit a model from the tenant's confirmed decisions; None when there are too few."""
    rows = _examples(session, tenant_id)
    labels = [_label(r[4], r[5]) for r in rows]
    if len(rows) < MIN_EXAMPLES or len(set(labels)) < MIN_CLASSES:
        return None
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    matrix = _vectorizer().transform([features(r[0], r[1], r[2], int(r[3])) for r in rows])
    # saga handles many labels on sparse text in well under a second for thousands of
    # examples (lbfgs needs tens of seconds); a not fully converged fit is good enough here.
    classifier = LogisticRegression(C=10.0, solver="saga", max_iter=60, tol=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        classifier.fit(matrix, labels)
    return UsageModel(classifier, len(rows))


_cache: OrderedDict[tuple[str, int], tuple[object, UsageModel | None]] = OrderedDict()
_lock = threading.Lock()


def model_for(session: Session, tenant_id: int) -> UsageModel | None:
    """The tenant's model, retrained only when its confirmed decisions changed."""
    key = (str(session.get_bind().engine.url), tenant_id)
    fingerprint = _fingerprint(session, tenant_id)
    with _lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == fingerprint:
            _cache.move_to_end(key)
            return cached[1]
    model = train(session, tenant_id)
    with _lock:
        _cache[key] = (fingerprint, model)
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return model


def forget(session: Session, tenant_id: int) -> None:
    """Drop a cached model (tests, or after restoring a backup)."""
    with _lock:
        _cache.pop((str(session.get_bind().engine.url), tenant_id), None)


def forget_all() -> None:
    with _lock:
        _cache.clear()
