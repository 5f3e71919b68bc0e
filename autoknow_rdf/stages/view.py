"""The taxonomy as the stages read it: names, parent links, product titles and baskets per type.

Shared by the taxonomy, relations and imputation stages (plain data; `read_view` is its one
reader of the store).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..store import KnowledgeStore

__all__ = ["TaxonomyView", "read_view", "type_names", "words", "head_word"]

_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    """Lower-case words, each crudely singularised (so 'teas' meets 'tea').

    >>> words("Black Teas & Herbal infusions")
    ['black', 'tea', 'herbal', 'infusion']
    """
    out = []
    for w in _WORD.findall(text.lower()):
        if len(w) > 3 and w.endswith("ies"):
            w = w[:-3] + "y"
        elif len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        out.append(w)
    return out


def head_word(text: str) -> str:
    """The head of an English noun phrase: its last word ('ice creams' -> 'cream')."""
    ws = words(text.split(",")[0])
    return ws[-1] if ws else ""


@dataclass
class TaxonomyView:
    """A taxonomy as plain data: names, parent links, product titles and baskets per type."""

    names: dict[str, str]
    parents: dict[str, set[str]]
    scheme: dict[str, str]
    titles: dict[str, list[str]] = field(default_factory=dict)
    baskets: dict[str, set[str]] = field(default_factory=dict)  # basket -> types

    def children(self) -> dict[str, set[str]]:
        kids: dict[str, set[str]] = {}
        for c, ps in self.parents.items():
            for p in ps:
                kids.setdefault(p, set()).add(c)
        return kids

    def ancestors(self, t: str) -> set[str]:
        """Every type above `t` (cycles cut).

        >>> sorted(TaxonomyView({}, {"a": {"b"}, "b": {"c"}, "d": {"c", "e"}}, {}).ancestors("a"))
        ['b', 'c']
        """
        out, todo = set(), list(self.parents.get(t, ()))
        while todo:
            q = todo.pop()
            if q not in out:
                out.add(q)
                todo += self.parents.get(q, ())
        return out

    def path_names(self, t: str) -> list[str]:
        """Names from the root down to `t`, through the parent whose IRI sorts first (as an audit
        sheet draws a path); a cycle, or a parent without a name, ends it.

        >>> TaxonomyView({"a": "A", "b": "B", "c": "C"}, {"a": {"c", "b"}, "b": {"a"}}, {}).path_names("a")
        ['B', 'A']
        """
        out, seen = [self.names[t]], {t}
        while self.parents.get(t):
            t = min(self.parents[t])
            if t in seen or t not in self.names:
                break
            seen.add(t)
            out.append(self.names[t])
        return out[::-1]

    def roots(self, t: str) -> set[str]:
        """The top types above `t` (itself when it has no parent; cycles cut).

        >>> TaxonomyView({}, {"a": {"b"}, "b": {"c"}, "d": {"c", "e"}}, {}).roots("a")
        {'c'}
        """
        out, seen, todo = set(), set(), [t]
        while todo:
            x = todo.pop()
            if x in seen:
                continue
            seen.add(x)
            ps = self.parents.get(x)
            if ps:
                todo += ps
            else:
                out.add(x)
        return out

    def fits(self, t: str, own) -> bool:
        """Whether type `t` fits a product whose types are `own`: where the product has a type of
        `t`'s taxonomy, `t` must share a top type (a branch) with one of them; a type of another
        taxonomy, or of none the product has, always fits.

        >>> v = TaxonomyView({}, {"yogurt": {"dairy"}, "ice-cream": {"frozen"}}, {"yogurt": "i", "ice-cream": "i", "x": "o"})
        >>> v.fits("yogurt", {"ice-cream"}), v.fits("yogurt", {"x"}), v.fits("dairy", {"yogurt"})
        (False, True, True)
        """
        same = [o for o in own if self.scheme.get(o) is not None and self.scheme.get(o) == self.scheme.get(t)]
        return not same or bool(self.roots(t) & set().union(*(self.roots(o) for o in same)))

    def without(self, hidden: set[str]) -> "TaxonomyView":
        """The view with `hidden` types' parent links removed (their names and products stay)."""
        return TaxonomyView(self.names, {c: ps for c, ps in self.parents.items() if c not in hidden},
                            self.scheme, self.titles, self.baskets)



def type_names(store: KnowledgeStore) -> tuple[dict[str, str], dict[str, str]]:
    """Each type's name (its preferred English or untagged label, else a synonym) and taxonomy."""
    names: dict[str, str] = {}
    scheme: dict[str, str] = {}
    for r in store.select("list_type_names"):
        t = r["type"].value
        scheme[t] = r["scheme"].value
        if r["preferred"].value == "true" or t not in names:
            names[t] = r["name"].value
    return names, scheme


def read_view(store: KnowledgeStore) -> TaxonomyView:
    """Types (English or untagged names), parent links, product titles and baskets per type."""
    names, scheme = type_names(store)
    parents: dict[str, set[str]] = {}
    for r in store.select("list_subclass_edges"):
        if r["child"].value in names and r["parent"].value in names:
            parents.setdefault(r["child"].value, set()).add(r["parent"].value)
    titles: dict[str, list[str]] = {}
    for r in store.select("list_product_titles_by_type"):
        titles.setdefault(r["type"].value, []).append(r["title"].value)
    baskets: dict[str, set[str]] = {}
    for r in store.select("list_basket_types"):
        baskets.setdefault(r["basket"].value, set()).add(r["type"].value)
    return TaxonomyView(names, parents, scheme, titles, baskets)

