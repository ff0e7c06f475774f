#!/usr/bin/env python3
"""Writes numbers.tsv: the numbers 0..999 in English words, a tab, and in
digits, one per line: a small source<TAB>target file for dataset=text.

Usage: python3 numbers.py > numbers.tsv
"""

ONES = ("zero one two three four five six seven eight nine ten eleven twelve "
        "thirteen fourteen fifteen sixteen seventeen eighteen nineteen").split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def words(n):
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else "-" + ONES[n % 10])
    h = ONES[n // 100] + " hundred"
    return h if n % 100 == 0 else h + " and " + words(n % 100)


for n in range(1000):
    print(f"{words(n)}\t{n}")
