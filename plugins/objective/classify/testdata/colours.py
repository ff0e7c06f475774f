#!/usr/bin/env python3
"""Writes colours.tsv: a small label<TAB>text file for dataset=text. Each
line names a thing whose usual colour is the label, in a short phrase.

Usage: python3 colours.py > colours.tsv
"""

THINGS = {
    "red": ["tomato", "cherry", "brick", "ruby", "strawberry", "fire truck"],
    "green": ["lime", "leaf", "frog", "emerald", "cucumber", "lawn"],
    "blue": ["sapphire", "blueberry", "sky", "ocean", "bluebird", "denim"],
}
SIZES = ["small", "large", "old", "new", "bright"]
PLACES = ["on the table", "by the door", "in the picture", "near the window"]

for label in sorted(THINGS):
    for thing in THINGS[label]:
        for size in SIZES:
            for place in PLACES:
                print(f"{label}\tthe {size} {thing} {place}")
