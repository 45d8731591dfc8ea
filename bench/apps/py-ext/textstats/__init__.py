"""textstats: small statistics about text, with the hot loops in C."""

from textstats._speedups import count_chars, levenshtein

__all__ = ["count_chars", "levenshtein", "closest"]


def closest(word, candidates):
    """Return the candidate with the smallest edit distance to word (the first on a tie)."""
    return min(candidates, key=lambda c: levenshtein(word, c))
