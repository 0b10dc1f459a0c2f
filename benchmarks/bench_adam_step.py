"""One Adam step on a one-million-parameter MLP: ours against torch.optim.Adam(foreach=False),
and against the source text's per-parameter, out-of-place version.

usage: python benchmarks/bench_adam_step.py [--quick]
"""

import argparse

import torch
from _timing import interleaved_medians, verdict

from optim_helpers import Adam


class TextAdam:
    """The source text's style: dict state keyed by parameter, out-of-place arithmetic."""

    def __init__(self, params, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        self.params, self.lr, self.beta1, self.beta2, self.eps = list(params), lr, beta1, beta2, eps
        self.m = {p: torch.zeros_like(p) for p in self.params}
        self.v = {p: torch.zeros_like(p) for p in self.params}
        self.t = {p: 0 for p in self.params}

    @torch.no_grad()
    def step(self):
        for p in self.params:
            self.t[p] += 1
            self.m[p] = self.beta1 * self.m[p] + (1 - self.beta1) * p.grad
            self.v[p] = self.beta2 * self.v[p] + (1 - self.beta2) * p.grad**2
            m_hat = self.m[p] / (1 - self.beta1 ** self.t[p])
            v_hat = self.v[p] / (1 - self.beta2 ** self.t[p])
            p += -self.lr * m_hat / (torch.sqrt(v_hat) + self.eps)


def mlp_with_gradients(seed):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(784, 1024), torch.nn.ReLU(), torch.nn.Linear(1024, 200))
    for p in model.parameters():
        p.grad = torch.randn_like(p)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeats = 30 if args.quick else 200
    models = {name: mlp_with_gradients(0) for name in ("ours", "torch", "text")}
    n_params = sum(p.numel() for p in models["ours"].parameters())
    optimizers = {
        "ours": Adam(models["ours"].parameters(), lr=1e-3),
        "torch": torch.optim.Adam(models["torch"].parameters(), lr=1e-3, foreach=False),
        "text": TextAdam(models["text"].parameters(), lr=1e-3),
    }
    t = interleaved_medians({name: opt.step for name, opt in optimizers.items()}, repeats=repeats, warmup=3)
    same = all(torch.allclose(a, b, rtol=1e-5, atol=1e-7) for a, b in
               zip(models["ours"].parameters(), models["torch"].parameters()))
    print(f"Adam.step() on an MLP with {n_params:,} parameters, {torch.get_num_threads()} threads "
          f"(median of {repeats}, interleaved)")
    for name, label in [("torch", "torch.optim.Adam(foreach=False)"), ("ours", "optim_helpers.Adam"),
                        ("text", "source text's version")]:
        print(f"  {label:32} {t[name] * 1e3:7.2f} ms   {t[name] / t['torch']:5.2f}x torch")
    print(f"  parameters after {repeats + 3} steps equal torch's: {same}")
    print(verdict("ours <= 1.2x torch.optim.Adam(foreach=False)", t["ours"] <= 1.2 * t["torch"]))


if __name__ == "__main__":
    main()
