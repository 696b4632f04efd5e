"""GPT speed: ptm_fast's GPT against a plain PyTorch GPT with scaled_dot_product_attention.

The reference is written here in the nanoGPT style with the same architecture
and size (token + position embeddings, pre-LayerNorm blocks, tanh-GELU MLP,
tied LM head); speed does not depend on the weights' values. Measured in
worker processes, alternating sides: training tokens/s and peak memory
(forward + backward + AdamW), generation tokens/s of ptm_fast with and
without the key/value cache, and beam search against greedy decoding: with
the cache reordered per step, ``num_beams`` beams should cost at most
1.3 x num_beams x greedy's time for the same new tokens (timed side by side
in one worker).

    python benches/bench_gpt.py [--layers 6] [--hidden 384] [--block 256] [--batch 8] [--beams 4]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import time
from types import SimpleNamespace

from report import Report, best_of_alternating, run_worker

BEAM_LIMIT = 1.3  # beam search may cost this many times num_beams x greedy


def reference_model(config):
    """nanoGPT-style GPT on F.scaled_dot_product_attention, with ptm_fast's parameter names."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd)
            self.c_proj = nn.Linear(config.n_embd, config.n_embd)

        def forward(self, x):
            b, t, c = x.shape
            q, k, v = self.c_attn(x).split(c, dim=2)
            q, k, v = (
                z.view(b, t, config.n_head, c // config.n_head).transpose(1, 2) for z in (q, k, v)
            )
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.c_proj(y.transpose(1, 2).reshape(b, t, c))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.ln_2 = nn.LayerNorm(config.n_embd), nn.LayerNorm(config.n_embd)
            self.attn = Attention()
            self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd)
            self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd)

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.c_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))

    class Reference(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(config.vocab_size, config.n_embd)
            self.wpe = nn.Embedding(config.n_positions, config.n_embd)
            self.h = nn.ModuleList(Block() for _ in range(config.n_layer))
            self.ln_f = nn.LayerNorm(config.n_embd)

        def forward(self, idx, targets=None):
            pos = torch.arange(idx.shape[1], device=idx.device)
            x = self.wte(idx) + self.wpe(pos)
            for block in self.h:
                x = block(x)
            logits = self.ln_f(x) @ self.wte.weight.t()
            loss = F.cross_entropy(logits.view(-1, logits.shape[-1]).float(), targets.view(-1))
            return SimpleNamespace(logits=logits, loss=loss)

    return Reference()


def worker(side: str, args) -> None:
    import torch

    from ptm_fast.gpt import GPT, GPTConfig

    device = "cuda" if torch.cuda.is_available() else "cpu"
    config = GPTConfig(vocab_size=50257, n_positions=args.block, n_embd=args.hidden,
                       n_layer=args.layers, n_head=args.hidden // 64, resid_pdrop=0.0,
                       embd_pdrop=0.0, attn_pdrop=0.0)  # fmt: skip
    torch.manual_seed(0)
    ours = GPT(config).to(device)
    g = torch.Generator().manual_seed(0)
    idx = torch.randint(0, 50257, (args.batch, args.block), generator=g).to(device)
    targets = torch.roll(idx, -1, dims=1)
    autocast = torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda")
    result = {"device": device}
    if side.startswith("generate"):
        ours.eval()
        prompt = idx[:1, :16]
        new = min(64, args.block - 16)
        # min_new_tokens holds back EOS: every run makes exactly `new` tokens.
        lengths = {"max_new_tokens": new, "min_new_tokens": new}
        if side == "generate-beam":
            with autocast:
                beam_s, greedy_s = best_of_alternating(
                    lambda: ours.generate(prompt, num_beams=args.beams, **lengths),
                    lambda: ours.generate(prompt, **lengths),
                    repeats=args.steps,
                )
            result.update(beam_s=beam_s, greedy_s=greedy_s, tokens_per_s=new / greedy_s)
            print(json.dumps(result))
            return
        start = time.perf_counter()
        with autocast:
            ours.generate(prompt, use_cache=side == "generate-cached", **lengths)
        result["tokens_per_s"] = new / (time.perf_counter() - start)
        print(json.dumps(result))
        return
    model = ours if side == "ptm_fast" else reference_model(config).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def step():
        with autocast:
            loss = model(idx, targets=targets).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    step()
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    best = math.inf
    for _ in range(args.steps):
        start = time.perf_counter()
        step()
        if device == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    result["tokens_per_s"] = idx.numel() / best
    if device == "cuda":
        result["peak_mib"] = torch.cuda.max_memory_allocated() / 2**20
    else:
        result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(side: str, args) -> dict:
    sizes = []
    for name in ("layers", "hidden", "block", "batch", "steps", "beams"):
        sizes += [f"--{name}", str(getattr(args, name))]
    return run_worker(__file__, [side, *sizes])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--hidden", type=int, default=384)
    parser.add_argument("--block", type=int, default=256)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=3, help="timed steps per worker (best kept)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--beams", type=int, default=4, help="num_beams of the beam-search row")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args)
        return
    runs: dict[str, list[dict]] = {}
    sides = ["ptm_fast", "reference", "generate-cached", "generate-uncached", "generate-beam"]
    for round_index in range(args.rounds):
        for side in sides if round_index % 2 == 0 else reversed(sides):
            runs.setdefault(side, []).append(measure(side, args))
    best = {side: max(r, key=lambda x: x["tokens_per_s"]) for side, r in runs.items()}
    device = best["ptm_fast"]["device"]
    case = f"{args.layers}x{args.hidden}, batch {args.batch} x {args.block}, {device}"
    report = Report("gpt", reference_name="nanoGPT-style + SDPA")
    ours, ref = best["ptm_fast"], best["reference"]
    report.add(case, "training", "tokens/s", ours["tokens_per_s"], ref["tokens_per_s"])
    report.add(case, "training peak memory", "MiB", ours["peak_mib"], ref["peak_mib"],
               higher_is_better=False)  # fmt: skip
    report.finish()
    cached, uncached = best["generate-cached"], best["generate-uncached"]
    generation = Report("gpt-generation", reference_name="ptm_fast without cache")
    generation.add(f"{args.layers}x{args.hidden}, 16-token prompt, {device}", "generation",
                   "tokens/s", cached["tokens_per_s"], uncached["tokens_per_s"])  # fmt: skip
    generation.finish()
    # The worse of the rounds: the limit must hold in each.
    beam = max(runs["generate-beam"], key=lambda r: r["beam_s"] / r["greedy_s"])
    budget = args.beams * beam["greedy_s"]
    beams = Report("gpt-beam-search", reference_name="num_beams x greedy")
    beams.add(f"{args.layers}x{args.hidden}, 16-token prompt, {args.beams} beams, {device}",
              "beam search time", "s", beam["beam_s"], budget, higher_is_better=False)  # fmt: skip
    beams.finish()
    ratio = beam["beam_s"] / budget
    verdict = "within" if ratio <= BEAM_LIMIT else "OVER"
    print(
        f"beam search, {args.beams} beams: {beam['beam_s']:.3f} s, greedy {beam['greedy_s']:.3f} s "
        f"for the same new tokens: {ratio:.2f} x (num_beams x greedy), {verdict} the "
        f"{BEAM_LIMIT} x limit"
    )


if __name__ == "__main__":
    main()
