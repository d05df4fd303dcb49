"""Status words → named flags, through the bit maps kept as data (``StatusBitMap``)."""

from __future__ import annotations

import re

from .models import StatusBitMap

_FAMILY = re.compile(r"^(battery)(\d+)(_\w+)$")


def word_family(word: str) -> str:
    """``battery7_alarm`` → ``battery{n}_alarm`` (maps of indexed words are stored once)."""
    match = _FAMILY.match(word)
    return f"{match.group(1)}{{n}}{match.group(3)}" if match else word


def bit_map_for(*, device_type: str, manufacturer: str = "", model: str = "", word: str) -> dict:
    """The most specific map: (type, manufacturer, model) → (type, manufacturer) → type default."""
    family = word_family(word)
    candidates = StatusBitMap.objects.filter(device_type=device_type, word__in={word, family})
    best, best_score = None, -1
    for entry in candidates:
        if entry.manufacturer and entry.manufacturer.lower() != manufacturer.lower():
            continue
        if entry.model and entry.model.lower() != model.lower():
            continue
        score = (2 if entry.model else 0) + (1 if entry.manufacturer else 0) + (entry.word == word)
        if score > best_score:
            best, best_score = entry, score
    return best.bits if best else {}


def decode_word(value: float | int | None, bits: dict) -> list[dict]:
    """Set bits of ``value`` as ``[{bit, name, category}]``; unmapped bits are named ``BIT<n>``."""
    if value is None:
        return []
    number = int(value)
    flags = []
    bit = 0
    while number >> bit:
        if number >> bit & 1:
            entry = bits.get(str(bit), {})
            name, category = entry.get("name", f"BIT{bit}"), entry.get("category", "fault")
            flags.append({"bit": bit, "name": name, "category": category})
        bit += 1
    return flags


def word_as_binary(value: float | int | None, width: int = 16) -> str:
    """Seed 003's rendering: ``"0000000000000101"`` (bit 0 rightmost)."""
    return format(int(value or 0), f"0{width}b")
