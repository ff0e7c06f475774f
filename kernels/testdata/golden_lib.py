"""Shared helpers for gen_golden.py: torch settings, the case registry, and the
JSON encoder. Imported only by gen_golden.py, after it made sure torch exists.
"""
import json
import zlib

import torch

torch.set_default_dtype(torch.float32)
torch.set_num_threads(1)  # one thread: reductions in a fixed order
SOURCE = "PyTorch %s, kernels/testdata/gen_golden.py" % torch.__version__
CASES = {}


def case(fn):
    """Register fn as the case named after it."""
    CASES[fn.__name__] = fn
    return fn


def randn(*shape, std=1.0, mean=0.0):
    return torch.randn(*shape) * std + mean


def leaf(x):
    return x.detach().clone().requires_grad_(True)


def fwd_bwd(out, **leaves):
    """Backpropagate a random dout through out; return inputs, out, dout and grads."""
    dout = torch.randn(out.shape)
    out.backward(dout)
    t = dict(leaves)
    t["out"], t["dout"] = out, dout
    t.update(("d" + k, v.grad) for k, v in leaves.items())
    return t


def result(op, doc, tensors, attrs=None, ints=None):
    return {"op": op, "doc": doc, "attrs": attrs or {}, "tensors": tensors, "ints": ints or {}}


def encode(r):
    """One JSON document, one tensor per line, floats via repr (exact)."""
    def enc(v):
        return json.dumps(v, allow_nan=False)

    def block(items, as_float):
        rows = []
        for n, t in items.items():
            t = t.detach()
            data = [float(v) if as_float else int(v) for v in t.reshape(-1).tolist()]
            rows.append("  %s: %s" % (enc(n), enc({"shape": list(t.shape), "data": data})))
        return "{\n" + ",\n".join(rows) + "\n }" if rows else "{}"

    for n, t in r["tensors"].items():
        assert t.dtype == torch.float32, (n, t.dtype)
    head = ['"op": ' + enc(r["op"]), '"source": ' + enc(SOURCE), '"doc": ' + enc(r["doc"]), '"attrs": ' + enc(r["attrs"])]
    body = ['"tensors": ' + block(r["tensors"], True), '"ints": ' + block(r["ints"], False)]
    return "{\n " + ",\n ".join(head + body) + "\n}\n"


def run_case(name):
    """Seed torch with a hash of the case's name, run it and encode the result."""
    torch.manual_seed(zlib.crc32(name.encode()))
    return encode(CASES[name]())
