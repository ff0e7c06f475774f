#!/usr/bin/env python3
"""Writes bytetext.tsv: a synthetic stand-in for the Long Range Arena's
byte-level text classification (IMDB reviews read as bytes, Tay et al.
2021, §3.2), for dataset=text of the classify objective.

Each line is a label (neg or pos), a tab and a review-like text of 1,000
to 4,400 bytes made of sentences about a film. Most sentences are
neutral; about one in ten carries a word of the label's sentiment and
one in thirty a word of the other, so the evidence is spread over the
whole text. A text longer than seq_len - 1 bytes is cut, as LRA cuts its texts.
The file is deterministic (a fixed linear congruential generator, no
random module), so every run and every Python writes the same bytes.

Usage: python3 bytetext.py > bytetext.tsv
"""

LINES = 48

SUBJECTS = ["the film", "the plot", "the cast", "the script", "the score",
            "the ending", "the director", "the camera work", "the lead",
            "the second half", "the dialogue", "the pacing"]
NEUTRAL = ["was shown on a tuesday evening", "runs for about two hours",
           "is set in a small harbour town", "was shot in the winter",
           "follows a family over three summers", "opens with a long shot of the sea",
           "moves between two cities", "has a few scenes at night",
           "is based on an older novel", "was released in the autumn"]
POSITIVE = ["is wonderful", "is moving", "is brilliant", "is a delight",
            "is superb", "is charming", "is gripping", "is beautiful"]
NEGATIVE = ["is dull", "is clumsy", "is a mess", "is tedious",
            "is awful", "is lifeless", "is forgettable", "is painful"]


class LCG:
    """Numerical Recipes' 32-bit linear congruential generator."""

    def __init__(self, seed):
        self.state = seed & 0xFFFFFFFF

    def next(self, n):
        self.state = (1664525 * self.state + 1013904223) & 0xFFFFFFFF
        return (self.state >> 8) % n


def review(r, label):
    length = 1000 + r.next(3401)
    strong, weak = (POSITIVE, NEGATIVE) if label == "pos" else (NEGATIVE, POSITIVE)
    sentences = []
    size = 0
    while size < length:
        k = r.next(10)
        if k == 0:
            words = strong
        elif k == 1 and r.next(3) == 0:
            words = weak
        else:
            words = NEUTRAL
        s = f"{SUBJECTS[r.next(len(SUBJECTS))]} {words[r.next(len(words))]}."
        s = s[0].upper() + s[1:]
        sentences.append(s)
        size += len(s) + 1
    return " ".join(sentences)


def main():
    r = LCG(2021)
    for i in range(LINES):
        label = "pos" if r.next(2) else "neg"
        print(f"{label}\t{review(r, label)}")


if __name__ == "__main__":
    main()
