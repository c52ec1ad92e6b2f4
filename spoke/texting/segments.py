"""How long a text is for the carrier: characters, encoding, segments, and the hard limit.

One function, `measure`, used by the Script section (at save and in the preview) and by the
reply box (its counter and the server's refusal), so both count the same way.

A text that uses only the GSM 03.38 alphabet travels as GSM-7: 160 septets in one segment,
153 per segment once it is split (the rest carries the reassembly header). The extension
table's characters ({ } [ ] ~ ^ | \\ € and form feed) take two septets each. One character
outside the alphabet turns the whole text into UCS-2: 70 UTF-16 units alone, 67 per segment
when split, an emoji outside the BMP counting two units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_CHARACTERS = 1600  # Twilio's limit for one message body; we refuse longer, never cut.

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

# (characters in a single segment, characters per segment when split)
_LIMITS = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True)
class SmsLength:
    """What a text costs: its characters, encoding and segments, and whether it is too long."""

    characters: int
    encoding: str
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int

    @property
    def too_long(self) -> bool:
        return self.characters > MAX_CHARACTERS

    @property
    def refusal(self) -> str:
        """Why a text this long is refused, or "" when it is not."""
        if not self.too_long:
            return ""
        return (
            f"Keep the text to {MAX_CHARACTERS:,} characters; this one has "
            f"{self.characters:,}. Carriers cut longer texts."
        )

    @property
    def summary(self) -> str:
        """E.g. "171 / 1,600 characters · 2 segments (GSM-7)"."""
        plural = "segment" if self.segments == 1 else "segments"
        return (
            f"{self.characters:,} / {MAX_CHARACTERS:,} characters · "
            f"{self.segments} {plural} ({self.encoding})"
        )


def measure(text: str) -> SmsLength:
    """Count `text`'s characters, encoding and segments as a carrier would."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        encoding = "GSM-7"
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
    else:
        encoding = "UCS-2"
        units = len(text.encode("utf-16-le")) // 2
    single, split = _LIMITS[encoding]
    if units == 0:
        segments = 0
    elif units <= single:
        segments = 1
    else:
        segments = math.ceil(units / split)
    return SmsLength(characters=len(text), encoding=encoding, units=units, segments=segments)
