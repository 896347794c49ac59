"""Word error rate, for tests and ``bench/captions.py``: how far a transcript is from what was said.

Both texts are normalised first so that style is not counted as error: lower case, no
punctuation, hyphenated words split, and whole numbers spelt out ("10" and "ten" match).
"""

from __future__ import annotations

import re

_ONES = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
    "eighteen", "nineteen",
]  # fmt: skip
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def spell_number(n: int) -> str:
    """``n`` (0 to 999,999) in English words, as people say it ("one hundred five")."""
    if not 0 <= n <= 999_999:
        raise ValueError("only 0 to 999,999 are spelt")
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {spell_number(rest)}" if rest else "")
    thousands, rest = divmod(n, 1000)
    return f"{spell_number(thousands)} thousand" + (f" {spell_number(rest)}" if rest else "")


def normalise(text: str) -> list[str]:
    """The words of ``text`` as compared."""
    words: list[str] = []
    for raw in re.split(r"[\s\-]+", text.lower()):
        token = re.sub(r"[^a-z0-9']", "", raw.replace(",", "")).strip("'")
        if not token:
            continue
        if token.isdigit() and len(token) <= 6:
            words.extend(spell_number(int(token)).split())
        else:
            words.append(token)
    return words


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(substitutions + deletions + insertions, words in the reference)."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, start=1):
        current = [i]
        for j, other in enumerate(hyp, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != other))
            )
        previous = current
    return previous[-1], len(ref)


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Errors per reference word (can exceed 1 when the hypothesis adds words)."""
    errors, total = word_errors(reference, hypothesis)
    return errors / total if total else float(errors > 0)
