#!/usr/bin/env python3
"""Generate attnlab's PyTorch golden values: kernels/testdata/golden/*.json.

Usage (from the repository root; `make golden` does this):

    /usr/bin/python3 kernels/testdata/gen_golden.py [OUTDIR]

OUTDIR defaults to the golden/ folder beside this script; every case is
rewritten and stale *.json files there are removed. The cases live beside
this file: golden_layers.py (layers, activations, losses, attention) and
golden_training.py (optimisers, clipping, a whole GPT-2 block), on the
helpers in golden_lib.py. The script needs PyTorch (Debian's
python3-torch, 1.13); if the python3 running it lacks torch it re-executes
itself with /usr/bin/python3.

Each case is one JSON file:

    {"op": ..., "source": "PyTorch <version>, kernels/testdata/gen_golden.py",
     "doc": one line on what the case computes,
     "attrs": {name: number or bool},
     "tensors": {name: {"shape": [...], "data": [float32 values]}},
     "ints": {name: {"shape": [...], "data": [ints]}}}

Floats are float32 values written with Python's repr of the equal double,
so they round-trip exactly. A scalar has shape []. For a backward pass the
upstream gradient is random and stored as "dout"; every gradient is named
"d" + the name of what it is the gradient of, exactly as autograd computes
it. Each case seeds torch with a hash of its own name, so adding or
changing one case leaves the others byte-identical.
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:
    import torch  # noqa: F401
except ImportError:
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    sys.exit("gen_golden.py needs PyTorch: apt-get install python3-torch, then run it with /usr/bin/python3")

import golden_lib  # noqa: E402
import golden_layers  # noqa: E402,F401  (registers its cases)
import golden_training  # noqa: E402,F401  (registers its cases)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")
    os.makedirs(out_dir, exist_ok=True)
    written = set()
    for name in golden_lib.CASES:
        text = golden_lib.run_case(name)
        with open(os.path.join(out_dir, name + ".json"), "w") as f:
            f.write(text)
        written.add(name + ".json")
        print("%-24s %7d bytes" % (name, len(text)))
    for f in sorted(os.listdir(out_dir)):
        if f.endswith(".json") and f not in written:
            os.remove(os.path.join(out_dir, f))
            print("removed stale", f)


if __name__ == "__main__":
    main()
