"""Golden cases for layers, activations, losses and attention (see gen_golden.py)."""
import math

import torch
import torch.nn.functional as F

from golden_lib import case, randn, leaf, fwd_bwd, result

# ---- layers -----------------------------------------------------------------

@case
def linear():
    inp, w, b = leaf(randn(2, 3, 7)), leaf(randn(5, 7, std=0.4)), leaf(randn(5, std=0.1))
    return result("linear", "out = inp @ weight.T + bias; inp (B=2, T=3, C=7), weight (OC=5, C), bias (OC)",
                  fwd_bwd(F.linear(inp, w, b), inp=inp, weight=w, bias=b))


@case
def linear_nobias():
    inp, w = leaf(randn(2, 3, 7)), leaf(randn(5, 7, std=0.4))
    return result("linear", "out = inp @ weight.T; inp (B=2, T=3, C=7), weight (OC=5, C), no bias",
                  fwd_bwd(F.linear(inp, w), inp=inp, weight=w))


@case
def embedding():
    ids = torch.randint(0, 11, (2, 3))
    ids[1, 2] = ids[0, 0]  # a repeated id: its gradient rows accumulate
    ids[1, 1] = 10  # the last row of the table
    wte = leaf(randn(11, 7))
    return result("embedding", "out[b,t] = wte[ids[b,t]]; ids (B=2, T=3) in [0, V=11), wte (V, C=7)",
                  fwd_bwd(F.embedding(ids, wte), wte=wte), ints={"ids": ids})


@case
def position_learned():
    inp, wpe = leaf(randn(2, 3, 7)), leaf(randn(5, 7))
    return result("position_add", "out = inp + wpe[:T]; inp (B=2, T=3, C=7), wpe (maxT=5, C); dwpe rows >= T are 0",
                  fwd_bwd(inp + wpe[:3], inp=inp, wpe=wpe))


@case
def position_sinusoidal():
    T, C = 7, 10
    pos = torch.arange(T, dtype=torch.float64)[:, None]
    freq = torch.pow(10000.0, torch.arange(0, C, 2, dtype=torch.float64) / C)
    pe = torch.zeros(T, C, dtype=torch.float64)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(pos / freq), torch.cos(pos / freq)
    return result("position_sinusoidal",
                  "Vaswani et al. 2017 sec. 3.5: out[p,2i] = sin(p/10000^(2i/C)), out[p,2i+1] = cos(same); "
                  "T=7, C=10; computed in float64, rounded to float32",
                  {"out": pe.float()}, attrs={"base": 10000.0})


@case
def layernorm():
    eps = 1e-5
    inp = leaf(randn(2, 3, 10, std=2.0, mean=0.5))
    w, b = leaf(randn(10, std=0.1, mean=1.0)), leaf(randn(10, std=0.1))
    t = fwd_bwd(F.layer_norm(inp, (10,), w, b, eps), inp=inp, weight=w, bias=b)
    x = inp.detach()
    t["mean"] = x.mean(-1)
    t["rstd"] = torch.rsqrt(x.var(-1, unbiased=False) + eps)
    return result("layernorm", "out = (inp - mean)*rstd*weight + bias over the last dim C=10, rstd = 1/sqrt(biased var + eps); "
                  "inp (B=2, T=3, C); mean and rstd (B, T) as llm.c caches them", t, attrs={"eps": eps})


@case
def rmsnorm():
    eps = 1e-6
    inp, w = leaf(randn(2, 3, 10, std=2.0, mean=0.5)), leaf(randn(10, std=0.1, mean=1.0))
    rstd = torch.rsqrt(inp.pow(2).mean(-1, keepdim=True) + eps)
    t = fwd_bwd(inp * rstd * w, inp=inp, weight=w)
    t["rstd"] = rstd.detach().squeeze(-1)
    return result("rmsnorm", "out = inp * rsqrt(mean(inp^2) + eps) * weight over the last dim C=10 (Zhang and Sennrich 2019); "
                  "inp (B=2, T=3, C); rstd (B, T)", t, attrs={"eps": eps})


def activation(op, fn, doc, inp=None):
    inp = leaf(randn(2, 3, 7, std=3.0) if inp is None else inp)
    return result(op, doc + "; inp (B=2, T=3, C=7)", fwd_bwd(fn(inp), inp=inp))


@case
def gelu_tanh():
    return activation("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"),
                      "out = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), F.gelu(approximate='tanh')")


@case
def gelu_erf():
    return activation("gelu_erf", F.gelu, "out = 0.5 x (1 + erf(x / sqrt(2))), F.gelu(approximate='none')")


@case
def relu():
    return activation("relu", F.relu, "out = max(x, 0)")


@case
def silu():
    return activation("silu", F.silu, "out = x * sigmoid(x)")


@case
def softplus():
    x = randn(2, 3, 7, std=3.0)
    x.view(-1)[:8] = torch.tensor([25.0, 20.5, 20.0, 19.5, -19.5, -21.0, -25.0, -40.0])
    return activation("softplus", lambda v: F.softplus(v, beta=1, threshold=20),
                      "out = log1p(exp(x)), or x where x > threshold = 20 (beta 1); the first 8 inputs probe |x| near and past 20",
                      inp=x)


@case
def softmax():
    x = randn(2, 3, 11, std=3.0)
    x[1, 2] += 80.0  # exp would overflow without the max subtraction
    return activation("softmax", lambda v: F.softmax(v, dim=-1), "softmax over the last dim V=11; row (1,2) is offset by +80", inp=x)


@case
def log_softmax():
    x = randn(2, 3, 11, std=3.0)
    x[1, 2] += 80.0
    return activation("log_softmax", lambda v: F.log_softmax(v, dim=-1), "log_softmax over the last dim V=11; row (1,2) is offset by +80", inp=x)


@case
def cross_entropy():
    V = 11
    logits = leaf(randn(2, 3, V, std=2.0))
    targets = torch.randint(0, V, (2, 3))
    targets[0, 1] = targets[1, 2] = -100
    loss = F.cross_entropy(logits.view(-1, V), targets.view(-1), ignore_index=-100)
    loss.backward()
    losses = F.cross_entropy(logits.detach().view(-1, V), targets.view(-1), ignore_index=-100, reduction="none")
    return result("cross_entropy",
                  "loss = mean over non-ignored rows of -log_softmax(logits)[target]; logits (B=2, T=3, V=11); "
                  "targets (B, T) with two -100 (ignored); losses (B, T) per row (0 where ignored); dlogits for dloss = 1",
                  {"logits": logits, "loss": loss, "losses": losses.view(2, 3), "dlogits": logits.grad},
                  attrs={"ignore_index": -100}, ints={"targets": targets})


@case
def residual_add():
    a, b = leaf(randn(2, 3, 7)), leaf(randn(2, 3, 7))
    return result("residual_add", "out = a + b; (B=2, T=3, C=7)", fwd_bwd(a + b, a=a, b=b))


# ---- attention --------------------------------------------------------------

def attention(mask_kind):
    B, H, T, D = 2, 3, 5, 4
    q, k, v = (leaf(randn(B, H, T, D)) for _ in range(3))
    scale = 1.0 / math.sqrt(D)
    mask = torch.zeros(B, 1, T, T)
    attrs, ints = {"scale": scale, "causal": mask_kind == "causal"}, {}
    if mask_kind == "causal":
        mask = mask.masked_fill(torch.ones(T, T).tril() == 0, float("-inf"))
    elif mask_kind == "padding":
        lengths = torch.tensor([4, 2])
        keep = (torch.arange(T)[None, :] < lengths[:, None]).long()  # (B, T): 1 = real key, 0 = padding
        mask = mask.masked_fill(keep[:, None, None, :] == 0, float("-inf"))
        ints = {"mask": keep, "lengths": lengths}
    att = torch.softmax(q @ k.transpose(-2, -1) * scale + mask, dim=-1)  # (B, H, T, T)
    t = fwd_bwd(att @ v, q=q, k=k, v=v)
    t["att"] = att
    doc = {"nomask": "no mask",
           "causal": "causal: query i attends to keys j <= i",
           "padding": "key padding: ints mask (B, T) is 1 for real keys and 0 for padding (lengths 4 and 2); "
                      "every query row, padded or not, attends to the real keys of its batch"}[mask_kind]
    return result("attention", "out = softmax(q k^T * scale + mask) v, q, k, v (B=2, H=3, T=5, D=4), scale 1/sqrt(D); "
                  + doc + "; att (B, H, T, T) are the probabilities", t, attrs=attrs, ints=ints)


@case
def attention_nomask():
    return attention("nomask")


@case
def attention_causal():
    return attention("causal")


@case
def attention_padding():
    return attention("padding")
