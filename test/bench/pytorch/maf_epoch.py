"""PyTorch reference for the MAF training speed target (docs/sbi-measurements.md).

Times one training epoch of the sbi toolbox's default MAF in plain PyTorch, on the same data
shape as `npm run bench:sbi`: 100,000 pairs (theta 7-D, x 20-D), 10 % held out, batch 200, Adam
5e-4, gradient norm clipped at 5, so 450 steps per epoch. The flow is built as nflows builds it
for sbi: 5 transforms, each a MADE (masked input layer plus a linear context layer, two masked
tanh blocks, masked output layer giving shift and scale, scale = softplus(s) + 1e-3) followed by a
fixed permutation, a standard-normal base, and theta and x z-scored. Only the time per epoch is
measured; the workbench's own estimator is trained by `npm run bench:sbi`.

Usage: python test/bench/pytorch/maf_epoch.py [--epochs 4] [--threads N]
Needs torch. Prints one JSON document: seconds per epoch (training steps only) for every epoch.
"""

import argparse
import json
import time

import torch
from torch import nn
from torch.nn import functional as F

D, E, H, T, BATCH = 7, 20, 50, 5, 200


def hidden_degrees(h, d):
    return torch.arange(h) % max(1, d - 1) + min(1, d - 1)


class MaskedLinear(nn.Linear):
    def __init__(self, in_deg, out_deg, strict):
        super().__init__(len(in_deg), len(out_deg))
        rule = out_deg[:, None] > in_deg[None, :] if strict else out_deg[:, None] >= in_deg[None, :]
        self.register_buffer("mask", rule.float())

    def forward(self, x):
        return F.linear(x, self.weight * self.mask, self.bias)


class Made(nn.Module):
    """nflows' MADE with context and feed-forward blocks: out(tanh(L1(tanh(L0(W u + C c)))))."""

    def __init__(self):
        super().__init__()
        in_deg = torch.arange(1, D + 1)
        hid = hidden_degrees(H, D)
        self.initial = MaskedLinear(in_deg, hid, strict=False)
        self.context = nn.Linear(E, H)
        self.blocks = nn.ModuleList([MaskedLinear(hid, hid, strict=False) for _ in range(2)])
        self.final = MaskedLinear(hid, torch.cat([in_deg, in_deg]), strict=True)

    def forward(self, u, c):
        h = self.initial(u) + self.context(c)
        for b in self.blocks:
            h = torch.tanh(b(h))
        out = self.final(h)
        return out[:, :D], out[:, D:]


class Maf(nn.Module):
    def __init__(self, theta, x):
        super().__init__()
        self.register_buffer("tm", theta.mean(0))
        self.register_buffer("ts", theta.std(0))
        self.register_buffer("xm", x.mean(0))
        self.register_buffer("xs", x.std(0))
        self.mades = nn.ModuleList([Made() for _ in range(T)])
        g = torch.Generator().manual_seed(0)
        self.perms = [torch.randperm(D, generator=g) for _ in range(T)]

    def log_prob(self, theta, x):
        u = (theta - self.tm) / self.ts
        c = (x - self.xm) / self.xs
        logdet = -torch.log(self.ts).sum()
        for made, perm in zip(self.mades, self.perms):
            shift, s = made(u, c)
            scale = F.softplus(s) + 1e-3
            u = u * scale + shift
            logdet = logdet + torch.log(scale).sum(1)
            u = u[:, perm]
        base = -0.5 * (u * u).sum(1) - 0.5 * D * torch.log(torch.tensor(2 * torch.pi))
        return base + logdet


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(42)
    n = 100_000
    A = torch.randn(E, D)
    theta = torch.randn(n, D)
    x = theta @ A.T + 0.1 * torch.randn(n, E)
    train_rows = n - n // 10
    model = Maf(theta[:train_rows], x[:train_rows])
    opt = torch.optim.Adam(model.parameters(), lr=5e-4)
    seconds = []
    for _ in range(a.epochs):
        perm = torch.randperm(train_rows)
        t0 = time.perf_counter()
        for start in range(0, train_rows, BATCH):
            idx = perm[start : start + BATCH]
            loss = -model.log_prob(theta[idx], x[idx]).mean()
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
        seconds.append(time.perf_counter() - t0)
    print(json.dumps({
        "torch": torch.__version__,
        "threads": a.threads,
        "stepsPerEpoch": -(-train_rows // BATCH),
        "secondsPerEpoch": [round(s, 3) for s in seconds],
        "medianAfterFirst": sorted(seconds[1:])[len(seconds[1:]) // 2] if len(seconds) > 1 else seconds[0],
    }))


if __name__ == "__main__":
    main()
