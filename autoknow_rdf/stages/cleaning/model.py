"""A MiniLM cross-encoder that scores whether an attribute value is wrongly assigned to a product.

Input: `attribute: value` as the first segment and the product's text (title, then description)
as the second, truncated on the text side and padded to the batch's longest pair, not to a
fixed length (CPU time). Output: the probability that the value is wrong. Training pairs are
made by `negatives`: each valid value is kept as a positive and replaced, for the negatives, by a
random word, a random n-gram of the title or another attribute's value (AutoKnow's recipe), and
by errors as catalogues make them: another product's value of the same type, a quantity with its
unit or magnitude slipped, a value cut short.

`Combiner` stacks the cross-encoder with what the catalogue says of the value (catalogue.py):
whether the text says it, verbatim or normalised; how many of the type's other products carry
it; how many products of other types carry it for this attribute and for another one; whether
a quantity sits in its type's range; whether it is a fragment of a longer known value. A title
n-gram is in the text and reads plausibly, but is rarely what other products have for that
attribute; another attribute's value is common, but under the other attribute; a slipped
quantity is far from its type's median; a rare but valid value is often written in the text. A
logistic regression fitted on held-in pairs (never the cross-encoder's own training pairs)
learns how much each signal counts.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

import numpy as np

from ...ml.cross_encoder import CrossEncoder
from ...values import mentions, normal_value, quantities, quantity, value_in_text
from .catalogue import FEATURES as CATALOGUE_FEATURES, TYPE_COLUMNS

__all__ = ["ValuePair", "negatives", "slip", "ValueCleaner", "KINDS", "Combiner", "value_in_text"]

KINDS = ("random word", "title n-gram", "another attribute's value", "another product's value, same type",
         "unit or magnitude slip", "truncated value")
_WORD = re.compile(r"[^\W_][\w'-]*", re.UNICODE)


@dataclass(frozen=True)
class ValuePair:
    text: str  # title (+ description)
    attribute: str  # attribute name, as a person would read it
    value: str
    wrong: int = 0  # 1: the value is not the product's
    kind: str = "valid"  # which negative recipe made it, or "valid"
    type_key: str = ""


def negatives(pair: ValuePair, rng: random.Random, vocabulary: list[str], other_values: list[str],
              same_type_values: list[str] = ()) -> list[ValuePair]:
    """One negative of each kind for a valid pair (a kind is skipped when it cannot be made):
    a random word; an n-gram of the title; a value of another attribute (`other_values`); a value
    of the same attribute on another product of the type (`same_type_values`); the quantity
    with its magnitude or unit slipped; the value cut short by a word.

    >>> p = ValuePair("Lavazza Espresso Dark Roast Coffee 12 oz", "Net content", "12 oz")
    >>> [(n.kind, n.value) for n in negatives(p, random.Random(0), ["shampoo"], ["Dark Roast"], ["16 oz"])][2:]
    [("another attribute's value", 'Dark Roast'), ("another product's value, same type", '16 oz'), ('unit or magnitude slip', '12 lb'), ('truncated value', '12')]
    >>> [n.value for n in negatives(ValuePair("Pike Place Roast K-Cups", "Roast", "Pike Place Roast"), random.Random(1), [], [])]
    ['K-Cups', 'Pike Place']
    """
    out = []
    low = pair.value.lower()
    make = lambda value, kind: ValuePair(pair.text, pair.attribute, value, 1, kind, pair.type_key)  # noqa: E731
    words = [w for w in vocabulary if w.lower() not in pair.text.lower()]
    if words:
        out.append(make(rng.choice(words), KINDS[0]))
    tokens = _WORD.findall(pair.text)
    grams = [" ".join(tokens[i:i + n]) for n in (1, 2, 3) for i in range(len(tokens) - n + 1)]
    grams = [g for g in grams if g.lower() not in low and low not in g.lower()]
    if grams:
        out.append(make(rng.choice(grams), KINDS[1]))
    others = [v for v in other_values if v.lower() != low]
    if others:
        out.append(make(rng.choice(others), KINDS[2]))
    mine = normal_value(pair.value)
    same = sorted({v for v in same_type_values if normal_value(v) != mine and not mentions(pair.text, v)})
    if same:
        out.append(make(rng.choice(same), KINDS[3]))
    slipped = slip(pair.value, rng)
    if slipped is not None:
        out.append(make(slipped, KINDS[4]))
    parts = pair.value.split()
    if len(parts) > 1:
        out.append(make(" ".join(parts[1:] if rng.random() < 0.5 else parts[:-1]), KINDS[5]))
    return out


_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_UNIT_SWAP = {"g": "kg", "gr": "kg", "gram": "kilogram", "grams": "kilograms", "gramm": "kg", "kg": "g", "mg": "g",
              "ml": "l", "l": "ml", "oz": "lb", "ounce": "pound", "ounces": "pounds", "lb": "oz", "lbs": "oz",
              "pound": "ounce", "pounds": "ounces", "cl": "l", "ct": "pack"}


def slip(value: str, rng: random.Random) -> str | None:
    """The quantity with a magnitude slip (x10, x100, x1000 or /1000) or its unit swapped for
    another of its dimension ("12 oz" -> "12 lb"); None for a value that holds no quantity.

    >>> [slip("250 ml", random.Random(s)) for s in range(4)], slip("Dark Roast", random.Random(0))
    (['0.25 ml', '250 l', '2500 ml', '250 l'], None)
    """
    if not quantities(value) and quantity(value) is None:
        return None
    number = _NUMBER.search(value)
    unit = re.search(r"(?<=\d)\s*([A-Za-z]+)", value)
    if rng.random() < 0.5 and unit and unit.group(1).lower() in _UNIT_SWAP:
        swap = _UNIT_SWAP[unit.group(1).lower()]
        return value[:unit.start(1)] + swap + value[unit.end(1):]
    amount = float(number.group().replace(",", "."))
    factor = rng.choice((10, 100, 1000, 0.001))
    return value[:number.start()] + f"{amount * factor:g}" + value[number.end():]


class ValueCleaner(CrossEncoder):
    """Fine-tuned cross-encoder: P(value is wrong | attribute, value, product text)."""

    CONFIG_FILE = "cleaner.json"
    TRUNCATION = "only_second"
    # pairs of one length are one product's value and its negatives, from one data set: such
    # batches measured 6 points lower ROC-AUC on title n-grams (0.809 against 0.871)
    LENGTH_BATCHES = False
    # embeddings and the 2 lowest layers frozen: demo-sized training 130 -> 90 s on 2 cores,
    # held-in ROC-AUC 0.773 -> 0.795 alone, 0.970 -> 0.969 with the catalogue prior (1 layer:
    # 104 s, 0.772 / 0.970; 3 layers: 83 s, 0.743 / 0.965, under the stage's 0.75 floor)
    FROZEN_LAYERS = 2

    @staticmethod
    def _texts(pairs: list[ValuePair]) -> tuple[list[str], list[str]]:
        return [f"{p.attribute}: {p.value}" for p in pairs], [p.text for p in pairs]

    def fit(self, pairs: list[ValuePair], progress=None) -> "ValueCleaner":
        self.fit_texts(*self._texts(pairs), [p.wrong for p in pairs], progress)
        return self

    def predict(self, pairs: list[ValuePair], batch_size: int = 128) -> list[float]:
        """P(wrong) per pair."""
        return self.predict_texts(*self._texts(pairs), batch_size)

    def batches(self, pairs: list[ValuePair], batch_size: int = 128) -> list[list[int]]:
        """Indices of `pairs` in the batches `predict` scores them in (see `prediction_batches`)."""
        return self.prediction_batches(*self._texts(pairs), batch_size)


class Combiner:
    """P(wrong) from the cross-encoder's logit and the catalogue's evidence on the value
    (catalogue.py: the text, the type's other products, other types, other attributes, the
    type's quantities, longer known values), by a logistic regression. The type's own columns
    are masked in training copies, so a new type is scored by the rest; the other types' counts
    are alike for known and new types."""

    FEATURES = ("cross-encoder logit",) + CATALOGUE_FEATURES
    TYPE_PRIOR = [1 + c for c in TYPE_COLUMNS]  # the columns a type the catalogue knows nothing of lacks
    TYPE_HAS_ATTRIBUTE = 4  # 0 where the type has no other product with the attribute: scored as a masked copy

    def __init__(self, coef: list[float] | None = None, intercept: float = 0.0):
        self.coef, self.intercept = coef, intercept

    @staticmethod
    def matrix(neural: list[float], rows: list[list[float]]) -> np.ndarray:
        """One row per pair: the cross-encoder's logit, then the catalogue's evidence (Catalogue.row)."""
        p = np.clip(np.asarray(neural, dtype=np.float64), 1e-6, 1 - 1e-6)
        evidence = np.asarray(rows, dtype=np.float64).reshape(len(p), len(CATALOGUE_FEATURES))
        return np.column_stack([np.log(p / (1 - p)), evidence])

    def fit(self, x: np.ndarray, y: np.ndarray, seed: int = 0) -> np.ndarray:
        """Fit on (x, y) and on a copy of it with the type's prior masked (a type the catalogue
        knows nothing of, such as a new one, then scores by the cross-encoder, the text and the
        other types' values, instead of looking like a type whose values are all rare); returns
        cross-validated scores of the rows of x as given and of their masked copies (a pair and
        its copy share a fold), for operating thresholds that were not fitted on their own points:
        one for types with the attribute, one for types without it (`thresholds`).""" 
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict

        xx, yy = np.vstack([x, self.masked(x)]), np.concatenate([y, y])
        groups = np.concatenate([np.arange(len(y)), np.arange(len(y))])
        folds = max(2, min(5, int(min(y.sum(), len(y) - y.sum()))))
        model = LogisticRegression(C=1.0, max_iter=1000)
        oof = cross_val_predict(model, xx, yy, groups=groups, method="predict_proba",
                                cv=StratifiedGroupKFold(folds, shuffle=True, random_state=seed))[:, 1]
        model.fit(xx, yy)
        self.coef, self.intercept = [float(c) for c in model.coef_[0]], float(model.intercept_[0])
        return oof[: len(y)], oof[len(y):]

    @classmethod
    def masked(cls, x: np.ndarray) -> np.ndarray:
        """x as a type the catalogue holds no other values of would have it."""
        out = x.copy()
        out[:, cls.TYPE_PRIOR] = 0.0
        return out

    @staticmethod
    def thresholds(oof: np.ndarray, oof_masked: np.ndarray, y: np.ndarray, keep: float) -> tuple[float, float]:
        """The scores that let `keep` of the held-in valid values pass, as scored with their type's
        prior and with it masked: a new type's valid values would otherwise be judged by a cut
        drawn where the type's own products vouch for them (measured: 17% of unseen types' valid
        values quarantined at the known types' cut)."""
        return float(np.quantile(oof[y == 0], keep)), float(np.quantile(oof_masked[y == 0], keep))

    @staticmethod
    def cut(x: np.ndarray, known: float, new: float) -> np.ndarray:
        """Per row, the threshold its regime takes: `new` where the type has no other product with the attribute."""
        return np.where(x[:, Combiner.TYPE_HAS_ATTRIBUTE] == 0, new, known)

    def predict(self, x: np.ndarray) -> np.ndarray:
        z = x @ np.asarray(self.coef) + self.intercept
        return 1 / (1 + np.exp(-z))

    def to_json(self) -> dict:
        return {"features": list(self.FEATURES), "coef": self.coef, "intercept": self.intercept}
