"""Values read in context, as people judged earlier values.

The extractor's confidence does not rank what people find right: on the demo's audits its values
were right 0.64, 0.73, 0.68 and 0.67 of the time in the bins from 0.5 to 0.9. Its training labels
say where a value sits in a text, never whether the catalogue knows it, whether it is a whole
phrase or a fragment of one ("Milk" of "Milk Chocolate"), or whether it is a word of the
product's type ("Tea" as a tea's variety). People's verdicts on the values earlier model versions
added do (`audited_triples`): `ValueContext` reads the extractor's logit beside the span's place
in its text, the catalogue's use of the value (for this attribute, for others, by this product
under another attribute), the type's words and how often people found the attribute's values
right. On the demo's 856 verdicts (0.5.0-0.9.0), out of fold by product: ROC-AUC 0.87 against
the extractor's 0.69; audited at the demo's 0.9 gate, 171 of 176 (docs/stages.md).
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from ...ml.spans import Span
from ...vocab import slug, value_iri
from .decoding import denied

__all__ = ["CONTEXT", "MIN_AUDITED", "CatalogueValues", "ValueContext", "find_value", "folded_names", "value_features"]

CONTEXT = ("phrase starts with it", "phrase ends with it", "a word runs on", "a word runs in", "has a digit", "denied",
           "words", "where it starts", "share of the text", "all capitals", "known for the attribute (log)",
           "known for other attributes (log)", "the product has it under another attribute", "in the type's path", "names a type",
           "the attribute's products (log)")
MIN_AUDITED = 100  # verdicts a context model needs, else the held-in gates decide
PRIOR_WEIGHT = 5.0  # verdicts' worth of the overall rate an attribute's rate starts from
RATE_FOLDS = 5  # an attribute's rate for the verdicts it is fitted on: from the other folds
CONTEXT_FILE = "context.json"  # the features the saved model reads, the attributes' rates
CONTEXT_MODEL = "context.pkl"
_WORD = re.compile(r"[^\W_]+")
_OPEN = re.compile(r"(?:^|[,;|()\[\]/:]|\s-)\s*$")
_CLOSE = re.compile(r"^\s*(?:$|[,;|()\[\]/:]|-\s)")


def _fold(word: str) -> str:
    """A word lower-cased, a plural ending dropped: "Milks" and "milk" meet."""
    word = word.lower()
    for end, to in (("ies", "y"), ("es", ""), ("s", "")):
        if len(word) > len(end) + 2 and word.endswith(end) and not word.endswith("ss"):
            return word[: -len(end)] + to
    return word


def find_value(text: str, attribute: str, value: str, max_words: int = 8) -> tuple[int, int] | None:
    """Where in `text` a run of whole words names the value individual `value` of `attribute`
    (an attribute's local name): its first such span, or None.

    >>> t = "Purely Elizabeth Granola, Coconut Cashew (3 Ct.)"
    >>> s = find_value(t, "net-content", value_iri("net-content", "3 Ct").value); t[s[0]:s[1]]
    '3 Ct'
    """
    words = [m.span() for m in _WORD.finditer(text)]
    for i in range(len(words)):
        for j in range(i, min(i + max_words, len(words))):
            if value_iri(attribute, text[words[i][0]:words[j][1]]).value == value:
                return words[i][0], words[j][1]
    return None


class CatalogueValues:
    """How the catalogue uses each value: the products that carry it per attribute, by its
    normalised form (`slug`), and the products that carry each attribute."""

    def __init__(self, values: dict[str, dict[str, set[str]]]):
        self.per: dict[str, Counter] = defaultdict(Counter)  # attribute -> slug -> products
        self.any: Counter = Counter()  # slug -> (product, attribute) uses
        self.products: Counter = Counter()  # attribute -> products
        self.held: dict[str, dict[str, set[str]]] = {}  # product -> slug -> attributes
        for p, by_attribute in values.items():
            for a, labels in by_attribute.items():
                self.products[a] += 1
                for s in {slug(v) for v in labels}:
                    self.per[a][s] += 1
                    self.any[s] += 1
                    self.held.setdefault(p, {}).setdefault(s, set()).add(a)


def value_features(text: str, span: Span, product: str, type_words: str, catalogue: CatalogueValues,
                   type_names: frozenset[str] = frozenset()) -> list[float]:
    """The CONTEXT features of one value span.

    >>> c = CatalogueValues({"p1": {"flavor": {"Milk"}}, "p2": {"allergens": {"milk"}}})
    >>> t = "Milk Chocolate Bar, 3 Count"
    >>> f = dict(zip(CONTEXT, value_features(t, Span("flavor", 0, 4), "p3", "Chocolate bars", c)))
    >>> f["phrase starts with it"], f["a word runs on"], f["known for other attributes (log)"] > 0
    (1.0, 1.0, True)
    """
    surface = text[span.start:span.end]
    before, after = text[:span.start], text[span.end:]
    s, a = slug(surface), span.label
    mine = catalogue.held.get(product, {}).get(s, set())  # the product's own uses never count as the catalogue's
    own = catalogue.per.get(a, Counter())[s] - int(a in mine)
    other = catalogue.any[s] - catalogue.per.get(a, Counter())[s] - len(mine - {a})
    type_slugs = {_fold(w) for w in _WORD.findall(type_words)}
    words = _WORD.findall(surface)
    return [float(bool(_OPEN.search(before))), float(bool(_CLOSE.match(after))),
            float(bool(re.match(r"\s+[^\W\d_]", after))), float(bool(re.search(r"[^\W\d_]\s+$", before))),
            float(any(ch.isdigit() for ch in surface)), float(denied(text, span)), float(min(len(words), 5)),
            span.start / max(len(text), 1), len(surface) / max(len(text), 1),
            float(surface.isupper() and len(surface) > 2), float(np.log1p(own)),
            float(np.log1p(other)), float(bool(mine - {a})),
            float(bool(words) and all(_fold(w) in type_slugs for w in words)),
            float(" ".join(_fold(w) for w in words) in type_names),
            float(np.log1p(catalogue.products[a]))]


def folded_names(names) -> frozenset[str]:
    """Type names as `value_features` compares them: words folded, one space between.

    >>> sorted(folded_names(["Ice Creams", "Milk"]))
    ['ice cream', 'milk']
    """
    return frozenset(" ".join(_fold(w) for w in _WORD.findall(n)) for n in names)


class ValueContext:
    """Gradient-boosted trees over the extractor's logit, the CONTEXT features and how often
    people found the attribute's values right, fitted on people's verdicts (a value is right when
    most of its annotators found it right). Trees, not a logistic regression: out of fold on the
    demo's first 651 verdicts they ranked at ROC-AUC 0.89 against 0.82. Every verdict teaches the
    ranking alike; the sample weights (how many facts of its run a verdict stands for) are the
    gate's, which must say what a run holds. Measured on version 0.9.0's own 205 verdicts, trees
    fitted on the 651 earlier ones: ROC-AUC 0.81 weighted, 0.86 unweighted, 0.87 with the
    attribute's rate. The rate is smoothed toward the overall rate and, for the verdicts it is
    fitted on, taken out of fold (a verdict's own label in its attribute's rate taught trees a
    leak: ROC-AUC 0.70)."""

    def __init__(self, model, rates: dict[str, tuple[int, int]], rate: float):
        self.model, self.rates, self.rate = model, rates, rate

    def attribute_rate(self, attribute: str, rates: dict[str, tuple[int, int]] | None = None) -> float:
        right, n = (self.rates if rates is None else rates).get(attribute, (0, 0))
        return (right + PRIOR_WEIGHT * self.rate) / (n + PRIOR_WEIGHT)

    @staticmethod
    def inputs(raw, features, rates) -> np.ndarray:
        raw = np.clip(np.asarray(raw, dtype=float), 1e-3, 1 - 1e-3)
        return np.column_stack([np.log(raw / (1 - raw)), np.asarray(features, dtype=float).reshape(len(raw), -1),
                                np.asarray(rates, dtype=float)])

    @staticmethod
    def _count(attributes, y) -> dict[str, tuple[int, int]]:
        out: dict[str, tuple[int, int]] = {}
        for a, ok in zip(attributes, y):
            r, n = out.get(a, (0, 0))
            out[a] = (r + int(ok), n + 1)
        return out

    @classmethod
    def fit(cls, raw, features, attributes: list[str], right) -> "ValueContext | None":
        """None with fewer than MIN_AUDITED verdicts or only one kind of verdict."""
        from sklearn.ensemble import HistGradientBoostingClassifier

        y = (np.asarray(right) > 0.5).astype(int)
        if len(y) < MIN_AUDITED or len(set(y.tolist())) < 2:
            return None
        context = cls(None, cls._count(attributes, y), float(y.mean()))
        folds = np.arange(len(y)) % RATE_FOLDS
        rates = np.zeros(len(y))
        for k in range(RATE_FOLDS):  # each verdict's attribute rate from the other folds' verdicts
            other = cls._count([a for a, f in zip(attributes, folds) if f != k], y[folds != k])
            rates[folds == k] = [context.attribute_rate(a, other) for a, f in zip(attributes, folds) if f == k]
        context.model = HistGradientBoostingClassifier(max_depth=3, max_iter=100, learning_rate=0.05, min_samples_leaf=20,
                                                       early_stopping=False, random_state=0)
        context.model.fit(cls.inputs(raw, features, rates), y)
        return context

    def score(self, raw, features, attributes: list[str]) -> np.ndarray:
        if not len(raw):
            return np.zeros(0)
        rates = [self.attribute_rate(a) for a in attributes]
        return self.model.predict_proba(self.inputs(raw, features, rates))[:, 1]

    def save(self, folder: Path) -> None:
        import pickle

        (folder / CONTEXT_FILE).write_text(json.dumps({
            "features": ["extractor logit", *CONTEXT, "the attribute's verdicts right (smoothed)"],
            "rates": {a: list(v) for a, v in sorted(self.rates.items())}, "rate": self.rate}, indent=1), encoding="utf-8")
        (folder / CONTEXT_MODEL).write_bytes(pickle.dumps(self.model))

    @classmethod
    def load(cls, folder: Path) -> "ValueContext | None":
        import pickle

        f = folder / CONTEXT_FILE
        if not f.is_file():
            return None
        d = json.loads(f.read_text(encoding="utf-8"))
        if d["features"] != ["extractor logit", *CONTEXT, "the attribute's verdicts right (smoothed)"]:
            raise ValueError(f"{f}: saved for other context features; train the imputation stage again")
        return cls(pickle.loads((folder / CONTEXT_MODEL).read_bytes()), {a: tuple(v) for a, v in d["rates"].items()},
                   d["rate"])
