"""Units a numeric answer may carry, and conversions between compatible ones.

Each unit belongs to a dimension and converts to that dimension's base unit exactly
(``Fraction`` factors, plus an offset for temperatures), so 1.5 km and 1500 m compare equal
with no rounding. Symbols are case-sensitive (mm is not Mm) after NFKC, which folds the
micro sign into the Greek mu and full-width letters into ASCII; spelled-out names are
accepted in lower case.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Unit:
    """A unit: its dimension and how a value converts to the dimension's base unit."""

    symbol: str
    dimension: str
    factor: Fraction
    offset: Fraction = Fraction(0)

    def to_base(self, value: Fraction) -> Fraction:
        """``value`` in this unit, expressed in the base unit."""
        return value * self.factor + self.offset


def _f(text: str) -> Fraction:
    return Fraction(text)


_TABLE: list[tuple[str, str, Fraction, tuple[str, ...]]] = [
    # length (base m)
    ("m", "length", _f("1"), ("metre", "metres", "meter", "meters")),
    ("km", "length", _f("1000"), ("kilometre", "kilometres", "kilometer", "kilometers")),
    ("cm", "length", _f("0.01"), ("centimetre", "centimetres", "centimeter", "centimeters")),
    ("mm", "length", _f("0.001"), ("millimetre", "millimetres", "millimeter", "millimeters")),
    ("μm", "length", _f("1e-6"), ("um", "micrometre", "micrometres", "micron", "microns")),
    ("nm", "length", _f("1e-9"), ("nanometre", "nanometres", "nanometer", "nanometers")),
    ("in", "length", _f("0.0254"), ("inch", "inches")),
    ("ft", "length", _f("0.3048"), ("foot", "feet")),
    ("mi", "length", _f("1609.344"), ("mile", "miles")),
    # time (base s)
    ("s", "time", _f("1"), ("sec", "secs", "second", "seconds")),
    ("ms", "time", _f("0.001"), ("millisecond", "milliseconds")),
    ("μs", "time", _f("1e-6"), ("us", "microsecond", "microseconds")),
    ("ns", "time", _f("1e-9"), ("nanosecond", "nanoseconds")),
    ("min", "time", _f("60"), ("mins", "minute", "minutes")),
    ("h", "time", _f("3600"), ("hr", "hrs", "hour", "hours")),
    ("d", "time", _f("86400"), ("day", "days")),
    # mass (base kg)
    ("kg", "mass", _f("1"), ("kilogram", "kilograms")),
    ("g", "mass", _f("0.001"), ("gram", "grams")),
    ("mg", "mass", _f("1e-6"), ("milligram", "milligrams")),
    ("μg", "mass", _f("1e-9"), ("ug", "microgram", "micrograms")),
    ("t", "mass", _f("1000"), ("tonne", "tonnes")),
    # volume (base m³)
    ("m³", "volume", _f("1"), ("m3", "m^3", "cubic metre", "cubic meter")),
    ("L", "volume", _f("0.001"), ("l", "litre", "litres", "liter", "liters")),
    ("mL", "volume", _f("1e-6"), ("ml", "millilitre", "millilitres", "milliliter")),
    ("cm³", "volume", _f("1e-6"), ("cm3", "cm^3", "cc")),
    # speed (base m/s)
    ("m/s", "speed", _f("1"), ("m s^-1", "m·s⁻¹")),
    ("km/h", "speed", Fraction(1000, 3600), ("kph", "km h^-1")),
    ("mph", "speed", Fraction(1609344, 3600000), ()),
    # temperature (base K; offsets below)
    ("K", "temperature", _f("1"), ("kelvin",)),
    # frequency (base Hz)
    ("Hz", "frequency", _f("1"), ("hertz",)),
    ("kHz", "frequency", _f("1000"), ()),
    ("MHz", "frequency", _f("1e6"), ()),
    ("GHz", "frequency", _f("1e9"), ()),
    # force, energy, power, pressure, electricity
    ("N", "force", _f("1"), ("newton", "newtons")),
    ("kN", "force", _f("1000"), ()),
    ("J", "energy", _f("1"), ("joule", "joules")),
    ("kJ", "energy", _f("1000"), ()),
    ("MJ", "energy", _f("1e6"), ()),
    ("W", "power", _f("1"), ("watt", "watts")),
    ("kW", "power", _f("1000"), ()),
    ("Pa", "pressure", _f("1"), ("pascal", "pascals")),
    ("kPa", "pressure", _f("1000"), ()),
    ("bar", "pressure", _f("100000"), ()),
    ("A", "current", _f("1"), ("amp", "amps", "ampere", "amperes")),
    ("mA", "current", _f("0.001"), ()),
    ("V", "voltage", _f("1"), ("volt", "volts")),
    ("mV", "voltage", _f("0.001"), ()),
    ("kV", "voltage", _f("1000"), ()),
    ("Ω", "resistance", _f("1"), ("ohm", "ohms")),
    ("kΩ", "resistance", _f("1000"), ("kohm", "kohms")),
]

UNITS: dict[str, Unit] = {}
"""Every known unit by each of its spellings, under NFKC (case-sensitive)."""
_BY_NAME: dict[str, Unit] = {}
"""Spelled-out names (four letters or more), in lower case: "Metres" is metres, but "MM"
is not mm (nor is "Mm", a megametre)."""


def _add(unit: Unit, names: tuple[str, ...]) -> None:
    for name in names:
        folded = unicodedata.normalize("NFKC", name)
        UNITS[folded] = unit
        if len(folded) >= 4 and folded.replace(" ", "").isalpha():
            _BY_NAME[folded.lower()] = unit


for _symbol, _dimension, _factor, _aliases in _TABLE:
    _add(Unit(_symbol, _dimension, _factor), (_symbol, *_aliases))
_add(Unit("°C", "temperature", Fraction(1), Fraction(27315, 100)), ("°C", "degC", "celsius"))
_add(
    Unit("°F", "temperature", Fraction(5, 9), Fraction(27315, 100) - Fraction(160, 9)),
    ("°F", "degF", "fahrenheit"),
)


def normalise_unit(text: str) -> str:
    """``text`` under NFKC with runs of spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def find_unit(text: str) -> Unit | None:
    """The unit ``text`` names, or None."""
    folded = normalise_unit(text)
    return UNITS.get(folded) or _BY_NAME.get(folded.lower())


def known_units() -> frozenset[str]:
    """Every accepted spelling."""
    return frozenset(UNITS)
