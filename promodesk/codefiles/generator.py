"""Random promo codes: cryptographically random, never the same twice in a run.

Characters come from `secrets.token_bytes`, mapped onto the alphabet with `bytes.translate`
(C speed). Bytes at or above the largest multiple of the alphabet's size are dropped rather than
wrapped, so every character is equally likely (no modulo bias). "The same twice" means what the
checker means by a repeat: the same code, the same apart from case, or a look-alike (the same
skeleton); the default alphabet has no look-alikes at all.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from promodesk.codefiles.analysis import URL_SAFE_ASCII
from promodesk.domain.codes import skeletons

# Upper-case letters and digits without 0/O and 1/I/L: nothing to misread on a printed coupon.
SAFE = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
ALPHABETS: dict[str, str] = {
    "safe": SAFE,
    "upper-digits": "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    "upper": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "digits": "0123456789",
    "hex": "0123456789ABCDEF",
}
CUSTOM_PREFIX = "custom:"
# Each run keeps a fingerprint of every code it made (~90 MB per million codes).
MAX_COUNT = 2_000_000
MAX_LENGTH = 255


def alphabet_named(name: str) -> str:
    """`safe`, `upper-digits`, `upper`, `digits`, `hex`, or `custom:CHARACTERS`."""
    if name.startswith(CUSTOM_PREFIX):
        return name.removeprefix(CUSTOM_PREFIX)
    try:
        return ALPHABETS[name]
    except KeyError:
        raise ValueError(
            f"unknown alphabet {name!r}: use {', '.join(ALPHABETS)} or custom:CHARACTERS"
        ) from None


@dataclass(frozen=True)
class CodeSpec:
    count: int
    length: int = 8
    prefix: str = ""
    suffix: str = ""
    alphabet: str = SAFE

    @property
    def possible(self) -> int:
        """How many codes a customer can tell apart (0/O or 1/l/I count once)."""
        distinct: int = len(set(skeletons(list(self.alphabet))))
        return int(distinct**self.length)

    def problems(self) -> list[str]:
        """What is wrong with the request, in words ([] when it can be generated)."""
        found = []
        if self.count < 1:
            found.append("the count must be at least 1")
        elif self.count > MAX_COUNT:
            found.append(f"at most {MAX_COUNT:,} codes per run")
        if self.length < 1:
            found.append("the length must be at least 1")
        elif len(self.prefix) + self.length + len(self.suffix) > MAX_LENGTH:
            found.append(
                f"prefix, code and suffix together must be at most {MAX_LENGTH} characters"
            )
        letters = set(self.alphabet)
        if len(letters) < 2:
            found.append("the alphabet needs at least 2 different characters")
        if len(letters) != len(self.alphabet):
            found.append("the alphabet repeats characters (that would make some more likely)")
        for what, text in (
            ("alphabet", self.alphabet),
            ("prefix", self.prefix),
            ("suffix", self.suffix),
        ):
            bad = sorted({c for c in text if c not in URL_SAFE_ASCII})
            if bad:
                found.append(
                    f"the {what} may only use letters, digits and - . _ ~ (found "
                    f"{', '.join(repr(c) for c in bad[:5])})"
                )
        if not found and self.count * 2 > self.possible:
            found.append(
                f"only {self.possible:,} different codes of {self.length} characters can be made "
                f"from this alphabet: ask for at most {self.possible // 2:,}, or make them longer"
            )
        return found


class CodeGenerator:
    """Draws codes; never returns one that repeats (or looks like) an earlier one of this
    generator. Hashes of skeletons are kept, not the codes: a hash collision only costs a
    redraw, never a repeat."""

    def __init__(self, spec: CodeSpec) -> None:
        problems = spec.problems()
        if problems:
            raise ValueError("; ".join(problems))
        self.spec = spec
        size = len(spec.alphabet)
        keep_below = 256 - 256 % size
        self._table = bytes(
            ord(spec.alphabet[value % size]) if value < keep_below else 0 for value in range(256)
        )
        self._dropped = bytes(range(keep_below, 256))
        self._accepted = keep_below / 256
        self._seen: set[int] = set()

    def _characters(self, count: int) -> str:
        found = b""
        while len(found) < count:
            missing = count - len(found)
            raw = secrets.token_bytes(int(missing / self._accepted) + 16)
            found += raw.translate(self._table, self._dropped)
        return found[:count].decode("ascii")

    def draw(self, count: int) -> list[str]:
        """`count` new codes."""
        spec = self.spec
        fresh: list[str] = []
        while len(fresh) < count:
            if len(self._seen) + count - len(fresh) > spec.possible:
                raise ValueError(
                    f"no {count - len(fresh):,} more different codes of {spec.length} characters "
                    f"can be made from this alphabet (the workspace already has many of the "
                    f"{spec.possible:,} possible): make them longer"
                )
            wanted = count - len(fresh)
            characters = self._characters(wanted * spec.length)
            step = spec.length
            codes = [
                f"{spec.prefix}{characters[start : start + step]}{spec.suffix}"
                for start in range(0, wanted * step, step)
            ]
            hashes = list(map(hash, skeletons(codes)))
            if self._seen.isdisjoint(hashes) and len(set(hashes)) == len(hashes):
                self._seen.update(hashes)
                fresh.extend(codes)
                continue
            for code, value in zip(codes, hashes, strict=True):
                if value not in self._seen:
                    self._seen.add(value)
                    fresh.append(code)
        return fresh
