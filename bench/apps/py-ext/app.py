"""Prints statistics of a text and suggests spellings, using textstats."""

import sys

from textstats import closest, count_chars

TEXT = "In 2024 the harbour saw 1,250 ships; most came in spring."
WORDS = ["harbour", "harvest", "spring", "string", "ships", "shape"]


def main(argv):
    text = " ".join(argv) if argv else TEXT
    counts = count_chars(text)
    print("text:", text)
    print("counts:", ", ".join(f"{k}={counts[k]}" for k in sorted(counts)))
    for typo in ("harbor", "sprung", "shps"):
        print(f"did you mean {closest(typo, WORDS)!r} for {typo!r}?")


if __name__ == "__main__":
    main(sys.argv[1:])
