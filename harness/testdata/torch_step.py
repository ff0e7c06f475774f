"""Times PyTorch on attnlab's reference training step, as the yardstick for
BenchmarkTrialStep (harness/bench_test.go).

The model is the one the benchmark trains: a decoder-only GPT with 2 layers,
d_model 128, 4 heads, causal softmax attention, GELU (tanh) MLP 4x, pre-LN,
learned positions, tied LM head, byte vocabulary (256), seq 256, batch 8; one
step is forward, cross-entropy, backward, gradient clipping and AdamW.

    OMP_NUM_THREADS=1 python3 harness/testdata/torch_step.py --threads 1

PyTorch's step depends heavily on malloc: fresh pages cost a fault each.
glibc keeps freed memory when told to, so run it twice and quote both:

    MALLOC_MMAP_THRESHOLD_=4294967296 MALLOC_TRIM_THRESHOLD_=68719476736 \
    MALLOC_TOP_PAD_=1073741824 python3 harness/testdata/torch_step.py

It prints the median and the quartiles of the step time in milliseconds.
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.out = nn.Linear(4 * d, d)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        # (B, H, T, C/H)
        q = q.view(B, T, self.heads, C // self.heads).transpose(1, 2)
        k = k.view(B, T, self.heads, C // self.heads).transpose(1, 2)
        v = v.view(B, T, self.heads, C // self.heads).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / (C // self.heads) ** 0.5)
        mask = torch.ones(T, T, dtype=torch.bool).tril()
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + self.proj(y)
        return x + self.out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, vocab=256, seq=256, d=128, heads=4, layers=2):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(seq, d)
        self.blocks = nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.lnf = nn.LayerNorm(d)

    def forward(self, idx):
        T = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for b in self.blocks:
            x = b(x)
        return self.lnf(x) @ self.wte.weight.t()  # tied head


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = GPT()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)
    idx = torch.randint(0, 256, (8, 256))
    tgt = torch.randint(0, 256, (8, 256))
    times = []
    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        logits = model(idx)
        loss = F.cross_entropy(logits.view(-1, 256), tgt.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if i >= a.warmup:
            times.append((time.perf_counter() - t0) * 1e3)
    q = statistics.quantiles(times, n=4)
    print(f"torch {torch.__version__} threads {a.threads}: step median {statistics.median(times):.1f} ms "
          f"(quartiles {q[0]:.1f}-{q[2]:.1f}, {a.steps} steps)")


if __name__ == "__main__":
    main()
