"""Golden cases for optimisers, gradient clipping and a whole GPT-2 block (see gen_golden.py)."""
import math

import torch
import torch.nn.functional as F

from golden_lib import case, randn, leaf, result

# ---- optimisers -------------------------------------------------------------

STEPS = 5


def run_optimizer(make, params, no_decay=()):
    """Step make(groups) STEPS times with fixed random gradients; record everything."""
    leaves = {n: torch.nn.Parameter(p.clone()) for n, p in params.items()}
    groups = [{"params": [leaves[n] for n in leaves if n not in no_decay]}]
    if no_decay:
        groups.append({"params": [leaves[n] for n in no_decay], "weight_decay": 0.0})
    opt = make(groups)
    t = {n: p.clone() for n, p in params.items()}
    grads = {n: [] for n in params}
    after = {n: [] for n in params}
    for s in range(STEPS):
        for n, p in leaves.items():
            g = randn(p.shape, std=0.5 + 0.3 * s)
            g.view(-1)[0] = 0.0  # only weight decay moves this element
            g.view(-1)[1] = 1e-9  # a gradient far below eps's scale
            p.grad = g
            grads[n].append(g.clone())
        opt.step()
        for n, p in leaves.items():
            after[n].append(p.detach().clone())
    for n, p in leaves.items():
        t[n + "_grads"] = torch.stack(grads[n])
        t[n + "_after"] = torch.stack(after[n])
        for k, v in opt.state[p].items():
            if torch.is_tensor(v) and v.shape == p.shape:
                t[n + "_" + k] = v
    return t


OPT_DOC = ("%d steps on the parameters named below, starting from their stored values; <name>_grads (steps, ...) is the "
           "gradient given at each step, <name>_after (steps, ...) the parameter after each step" % STEPS)


def sgd(nesterov, wd):
    attrs = {"lr": 0.1, "momentum": 0.9, "nesterov": nesterov, "weight_decay": wd, "steps": STEPS}
    t = run_optimizer(lambda g: torch.optim.SGD(g, lr=0.1, momentum=0.9, nesterov=nesterov, weight_decay=wd),
                      {"weight": randn(2, 5)})
    return result("sgd", "torch.optim.SGD(lr=0.1, momentum=0.9, nesterov=%s, weight_decay=%g): %s: weight (2, 5); "
                  "weight_momentum_buffer after the last step" % (nesterov, wd, OPT_DOC), t, attrs=attrs)


@case
def sgd_momentum():
    return sgd(False, 0.0)


@case
def sgd_nesterov():
    return sgd(True, 0.01)


@case
def adamw():
    attrs = {"lr": 1e-2, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.1, "bias_weight_decay": 0.0, "steps": STEPS}
    t = run_optimizer(lambda g: torch.optim.AdamW(g, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1),
                      {"weight": randn(3, 4), "bias": randn(4, std=0.1)}, no_decay=("bias",))
    return result("adamw", "torch.optim.AdamW(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1): %s: weight (3, 4) "
                  "with decay, bias (4) in a group with weight_decay 0; <name>_exp_avg and <name>_exp_avg_sq after the "
                  "last step" % OPT_DOC, t, attrs=attrs)


def clip(max_norm):
    ga, gb = randn(3, 4, std=2.0), randn(5, std=2.0)
    a, b = torch.nn.Parameter(torch.zeros(3, 4)), torch.nn.Parameter(torch.zeros(5))
    a.grad, b.grad = ga.clone(), gb.clone()
    norm = torch.nn.utils.clip_grad_norm_([a, b], max_norm)
    return result("clip_grad_norm", "torch.nn.utils.clip_grad_norm_([a, b], max_norm=%g): grad_a (3, 4) and grad_b (5) "
                  "before, norm (the global L2 norm before clipping), clipped_a and clipped_b after" % max_norm,
                  {"grad_a": ga, "grad_b": gb, "norm": norm, "clipped_a": a.grad, "clipped_b": b.grad},
                  attrs={"max_norm": max_norm})


@case
def clip_grad_norm():
    return clip(1.0)


@case
def clip_grad_norm_noclip():
    return clip(100.0)


# ---- a whole GPT-2 block ----------------------------------------------------

@case
def gpt2_block():
    # One pre-LN transformer block as in GPT-2, llm.c and nanoGPT, then the
    # final layernorm, an untied LM head and the loss. B=2, T=5, C=8, H=2
    # heads of D=4, V=11, layernorm eps 1e-5. Linear weights are (out, in)
    # and every linear computes y = x W^T (+ b).
    #   ln1      = layernorm(x; ln1_weight, ln1_bias)                  (B, T, C)
    #   qkv      = ln1 W_qkv^T + b_qkv                                 (B, T, 3C)
    #   q, k, v  = qkv[..., 0:C], qkv[..., C:2C], qkv[..., 2C:3C]      (B, T, C) each
    #   heads:     (B, T, C) viewed as (B, T, H, D), transposed to (B, H, T, D)
    #   att      = softmax(q k^T / sqrt(D) + causal mask)              (B, H, T, T)
    #   atty     = att v, transposed back to (B, T, H, D), viewed as   (B, T, C)
    #   res1     = x + (atty W_attproj^T + b_attproj)                  (B, T, C)
    #   ln2      = layernorm(res1; ln2_weight, ln2_bias)               (B, T, C)
    #   fch      = ln2 W_fc^T + b_fc                                   (B, T, 4C)
    #   fch_gelu = gelu_tanh(fch)                                      (B, T, 4C)
    #   block_out= res1 + (fch_gelu W_fcproj^T + b_fcproj)             (B, T, C)
    #   lnf      = layernorm(block_out; lnf_weight, lnf_bias)          (B, T, C)
    #   logits   = lnf W_lm_head^T  (no bias)                          (B, T, V)
    #   loss     = mean cross-entropy over targets != -100 (one ignored)
    B, T, C, H, V = 2, 5, 8, 2, 11
    D, eps = C // H, 1e-5
    x = leaf(randn(B, T, C))
    shapes = {"ln1_weight": (C,), "ln1_bias": (C,), "qkv_weight": (3 * C, C), "qkv_bias": (3 * C,),
              "attproj_weight": (C, C), "attproj_bias": (C,), "ln2_weight": (C,), "ln2_bias": (C,),
              "fc_weight": (4 * C, C), "fc_bias": (4 * C,), "fcproj_weight": (C, 4 * C), "fcproj_bias": (C,),
              "lnf_weight": (C,), "lnf_bias": (C,), "lm_head_weight": (V, C)}
    p = {}
    for n, s in shapes.items():
        if n.startswith("ln") and n.endswith("weight"):
            p[n] = leaf(randn(*s, std=0.1, mean=1.0))
        elif n.endswith("bias"):
            p[n] = leaf(randn(*s, std=0.1))
        else:
            p[n] = leaf(randn(*s, std=1.0 / math.sqrt(s[1])))
    targets = torch.randint(0, V, (B, T))
    targets[1, 3] = -100
    inter = {}

    def keep(name, t):
        t.retain_grad()
        inter[name] = t
        return t

    ln1 = keep("ln1", F.layer_norm(x, (C,), p["ln1_weight"], p["ln1_bias"], eps))
    qkv = keep("qkv", F.linear(ln1, p["qkv_weight"], p["qkv_bias"]))
    q, k, v = (u.view(B, T, H, D).transpose(1, 2) for u in qkv.split(C, dim=2))  # (B, H, T, D)
    causal = torch.zeros(T, T).masked_fill(torch.ones(T, T).tril() == 0, float("-inf"))
    att = keep("att", torch.softmax(q @ k.transpose(-2, -1) * (1.0 / math.sqrt(D)) + causal, dim=-1))
    atty = keep("atty", (att @ v).transpose(1, 2).contiguous().view(B, T, C))
    res1 = keep("res1", x + F.linear(atty, p["attproj_weight"], p["attproj_bias"]))
    ln2 = keep("ln2", F.layer_norm(res1, (C,), p["ln2_weight"], p["ln2_bias"], eps))
    fch = keep("fch", F.linear(ln2, p["fc_weight"], p["fc_bias"]))
    fch_gelu = keep("fch_gelu", F.gelu(fch, approximate="tanh"))
    block_out = keep("block_out", res1 + F.linear(fch_gelu, p["fcproj_weight"], p["fcproj_bias"]))
    lnf = keep("lnf", F.layer_norm(block_out, (C,), p["lnf_weight"], p["lnf_bias"], eps))
    logits = keep("logits", F.linear(lnf, p["lm_head_weight"]))
    loss = F.cross_entropy(logits.view(-1, V), targets.view(-1), ignore_index=-100)
    loss.backward()
    t = {"x": x}
    t.update(p)
    t.update(inter)
    t["loss"] = loss
    t["dx"] = x.grad
    t.update(("d" + n, u.grad) for n, u in p.items())
    t.update(("d" + n, inter[n].grad) for n in ("block_out", "logits"))
    return result("gpt2_block", "one pre-LN GPT-2 block (B=2, T=5, C=8, H=2, causal) + lnf + LM head (V=11, no bias) + "
                  "mean cross-entropy; see the comment in gen_golden.py for the exact architecture; "
                  "intermediates ln1 qkv att atty res1 ln2 fch fch_gelu block_out lnf logits; gradients for dloss = 1",
                  t, attrs={"B": B, "T": T, "C": C, "H": H, "V": V, "eps": eps, "ignore_index": -100},
                  ints={"targets": targets})
