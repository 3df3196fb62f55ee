"""One spelling per person and per department (issue 14, item 1: the part case_api owns).

Employee ids, assignees and token subjects are compared by **key**: Unicode NFKC, trimmed, inner
whitespace collapsed, case-folded (``" EMP-1101 "`` and ``"emp-1101"`` are one person). Departments
are mapped through an alias table to one canonical name (the registry's spelling): ``"Parks"``,
``"parks"`` and ``"Parks and Recreation"`` are one department, ``"police"`` is ``"Police"``. A
department the table does not know keeps its trimmed spelling and is reported as unmapped by
``civicsocial cases canonicalise`` (add an alias, run it again).

Pure rules, no I/O. The directory that should own these (SCIM, policy_api's registry) does not
exist yet; when it does, ``DEPARTMENTS`` is loaded from it instead of being kept here."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Department:
    name: str  # canonical (English, the registry's spelling): what cases store
    name_es: str
    aliases: tuple[str, ...] = ()


DEPARTMENTS: tuple[Department, ...] = (
    Department("Police", "Policía", ("APD", "Albuquerque Police", "Albuquerque Police Department",
                                     "Police Department")),
    Department("Fire", "Bomberos", ("Fire Rescue", "Albuquerque Fire Rescue", "AFR", "Fire Department")),
    Department("Transit", "Tránsito", ("ABQ Ride", "ABQRide", "Transit Department")),
    Department("Parks and Recreation", "Parques y Recreación", ("Parks", "Parks & Recreation", "Parks and Rec",
                                                                 "Parks & Rec", "Recreation")),
    Department("Animal Welfare", "Bienestar Animal", ("Animal Welfare Department", "AWD")),
    Department("Solid Waste", "Residuos Sólidos", ("Solid Waste Management", "SWMD")),
    Department("Libraries", "Bibliotecas", ("Library", "Albuquerque Public Library", "ABC Library")),
    Department("Senior Affairs", "Asuntos de Personas Mayores", ("Department of Senior Affairs", "DSA")),
    Department("Arts & Culture", "Artes y Cultura", ("Arts and Culture", "Cultural Services")),
    Department("Mayor's Office", "Oficina del Alcalde", ("Mayors Office", "Office of the Mayor", "Mayor")),
    Department("Transparency", "Transparencia", ()),
)


def person_key(value: str | None) -> str | None:
    """The comparison key of an employee id, an assignee or a token subject (None stays None)."""
    if value is None:
        return None
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())
    key = " ".join(folded.split())  # NFKC after casefold too: applying the key again changes nothing
    return key or None


def _alias_key(value: str) -> str:
    # "&" and "and" are one spelling; punctuation other than the apostrophe is ignored
    text = " ".join(unicodedata.normalize("NFKC", value).replace("&", " and ").split()).casefold()
    return " ".join("".join(ch for ch in text if ch.isalnum() or ch in " '").split())


ALIASES: dict[str, str] = {}
for _d in DEPARTMENTS:
    for _spelling in (_d.name, _d.name_es, *_d.aliases):
        ALIASES[_alias_key(_spelling)] = _d.name


@dataclass(frozen=True)
class Mapped:
    value: str | None
    known: bool


def map_department(value: str | None) -> Mapped:
    """The canonical name of a department spelling; unknown spellings keep their trimmed text."""
    if value is None or not value.strip():
        return Mapped(None, True)
    name = ALIASES.get(_alias_key(value))
    if name is not None:
        return Mapped(name, True)
    return Mapped(" ".join(unicodedata.normalize("NFKC", value).split()), False)


def department(value: str | None) -> str | None:
    return map_department(value).value


def display(name: str, lang: str = "en") -> str:
    for d in DEPARTMENTS:
        if d.name == name:
            return d.name_es if lang == "es" else d.name
    return name
