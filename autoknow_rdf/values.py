"""The normal form of an attribute value: two values that differ only in form meet.

The store already makes "Red" and "red" one value individual (`vocab.slug`); a quantity is also
read as a number and a unit, converted to one unit of its dimension ("1000 Gramm" = "1000g" =
"1 kg", "16 Ounce" = "16 oz"), so a judge or a detector compares what a value says, not how it
is written.
"""

from __future__ import annotations

import re

from .vocab import slug

__all__ = ["normal_value", "quantity"]

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
