"""The normal form of an attribute value: two values that differ only in form meet.

The store already makes "Red" and "red" one value individual (`vocab.slug`); a quantity is also
read as a number and a unit, converted to one unit of its dimension ("1000 Gramm" = "1000g" =
"1 kg", "16 Ounce" = "16 oz"), so a judge or a detector compares what a value says, not how it
is written.
"""

from __future__ import annotations

import re

from .vocab import slug

__all__ = ["normal_value", "quantity", "quantities", "mentions", "in_grams_or_ml", "value_in_text"]

# unit spellings -> (canonical unit, factor to it)
_UNITS = {
    "g": ("g", 1.0), "gr": ("g", 1.0), "gram": ("g", 1.0), "grams": ("g", 1.0), "gramm": ("g", 1.0), "gramos": ("g", 1.0),
    "grammes": ("g", 1.0), "kg": ("g", 1000.0), "kilo": ("g", 1000.0), "kilos": ("g", 1000.0), "kilogram": ("g", 1000.0),
    "kilograms": ("g", 1000.0), "mg": ("g", 0.001), "milligram": ("g", 0.001), "milligrams": ("g", 0.001),
    "oz": ("oz", 1.0), "ounce": ("oz", 1.0), "ounces": ("oz", 1.0), "lb": ("oz", 16.0), "lbs": ("oz", 16.0),
    "pound": ("oz", 16.0), "pounds": ("oz", 16.0),
    "ml": ("ml", 1.0), "milliliter": ("ml", 1.0), "milliliters": ("ml", 1.0), "millilitre": ("ml", 1.0),
    "millilitres": ("ml", 1.0), "cl": ("ml", 10.0), "dl": ("ml", 100.0), "l": ("ml", 1000.0), "liter": ("ml", 1000.0),
    "liters": ("ml", 1000.0), "litre": ("ml", 1000.0), "litres": ("ml", 1000.0),
    "floz": ("floz", 1.0), "fl-oz": ("floz", 1.0), "fluid-ounce": ("floz", 1.0), "fluid-ounces": ("floz", 1.0),
    "gal": ("floz", 128.0), "gallon": ("floz", 128.0), "gallons": ("floz", 128.0),
    "ct": ("count", 1.0), "count": ("count", 1.0), "pack": ("count", 1.0), "pk": ("count", 1.0), "pcs": ("count", 1.0),
    "pieces": ("count", 1.0), "piece": ("count", 1.0), "capsules": ("count", 1.0), "tablets": ("count", 1.0),
}
_QUANTITY = re.compile(r"^(\d+(?:d\d+)?)-?([a-z][a-z-]*)$")  # a decimal mark is read as "d"


def quantity(text: str) -> tuple[float, str] | None:
    """A value that is one quantity, as (amount, canonical unit); None for anything else.

    >>> quantity("1000 Gramm"), quantity("1,5 kg"), quantity("16 Fl Oz"), quantity("Dark Roast")
    ((1000.0, 'g'), (1500.0, 'g'), (16.0, 'floz'), None)
    """
    s = slug(re.sub(r"(\d)[.,](\d)", r"\1d\2", text))
    m = _QUANTITY.match(s)
    if not m:
        return None
    unit = _UNITS.get(m.group(2))
    if unit is None:
        return None
    return round(float(m.group(1).replace("d", ".")) * unit[1], 6), unit[0]


def normal_value(text: str) -> str:
    """The form two equal values share: a quantity as amount and unit, anything else its slug
    without separators.

    >>> normal_value("1000 Gramm") == normal_value("1kg"), normal_value("Dark-Roast") == normal_value("dark roast")
    (True, True)
    >>> normal_value("16 oz") == normal_value("16 Ounce"), normal_value("12 oz") == normal_value("16 oz")
    (True, False)
    """
    q = quantity(text)
    if q is not None:
        amount, unit = q
        return f"{amount:g} {unit}"
    return slug(text).replace("-", "")


# a number and a unit word in free text: "1000 Gramm", "1.05oz", "16 Fl. Oz", "1,5 kg"
_IN_TEXT = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)?)\s*-?\s*(fl\.?\s*oz|fluid\s+ounces?|[a-z]+)\b", re.IGNORECASE)
_PACK_OF = re.compile(r"\bpack\s+of\s+(\d+)\b", re.IGNORECASE)  # "Pack of 2": a count written backwards
# mass and volume in one unit each, so "1.8 oz" and "51 g" compare (a fluid ounce is a volume)
_TO_METRIC = {"g": ("g", 1.0), "oz": ("g", 28.349523125), "ml": ("ml", 1.0), "floz": ("ml", 29.5735295625),
              "count": ("count", 1.0)}


def quantities(text: str) -> list[tuple[float, str]]:
    """Every quantity written in a text, as (amount, canonical unit), in order.

    >>> quantities("Nutella & Go 1.8 OZ (52 g), 12 Pack")
    [(1.8, 'oz'), (52.0, 'g'), (12.0, 'count')]
    >>> quantities("Whey 1000 Gramm, 16 Fl. Oz and 1,5 kg"), quantities("Dark Roast"), quantities("Pack of 2")
    ([(1000.0, 'g'), (16.0, 'floz'), (1500.0, 'g')], [], [(2.0, 'count')])
    """
    out = [(float(n), "count") for n in _PACK_OF.findall(text)]
    for m in _IN_TEXT.finditer(text):
        q = quantity(m.group(1) + " " + re.sub(r"[.\s]+", " ", m.group(2)).strip())
        if q is not None:
            out.append(q)
    return out


def in_grams_or_ml(q: tuple[float, str]) -> tuple[float, str]:
    """A quantity in grams, millilitres or a count (ounces and pounds as grams, fluid ounces as ml).

    >>> in_grams_or_ml((16.0, "oz"))
    (453.59237, 'g')
    """
    unit, factor = _TO_METRIC.get(q[1], (q[1], 1.0))
    return round(q[0] * factor, 6), unit


def value_in_text(value: str, text: str) -> bool:
    """Whether the value is written in the text as whole words, case aside (`mentions` also reads
    normal forms).

    >>> value_in_text("Dark Roast", "Lavazza espresso dark roast coffee"), value_in_text("roa", "dark roast")
    (True, False)
    """
    return re.search(r"(?<!\w)" + re.escape(value.lower()) + r"(?!\w)", text.lower()) is not None


def mentions(text: str, value: str) -> bool:
    """Whether the text says the value: its words in order (case, accents and separators aside),
    or, for a value that is or holds quantities, one of them in any unit of its dimension
    (within 3%: "1.8 oz" is written "51 g" too).

    >>> mentions("Optimum Whey 1000 Gramm", "1 kg"), mentions("Nutella & Go 52g", "1.8 OZ (52 g)")
    (True, True)
    >>> mentions("Pike Place Roast", "place-roast"), mentions("Pike Place Roast", "Pike Roast"), mentions("Tic Tac 16g", "5000 grams")
    (True, False, False)
    """
    words = slug(value)
    if words and not words.startswith("u-") and f"-{words}-" in f"-{slug(text)}-":
        return True
    whole = quantity(value)
    wanted = [in_grams_or_ml(q) for q in (quantities(value) or ([whole] if whole else []))]
    if not wanted:
        return False
    seen = [in_grams_or_ml(q) for q in quantities(text)]
    return any(u == v and abs(a - b) <= 0.03 * max(a, b) for a, u in wanted for b, v in seen)
