"""BERT training-step speed and memory: ptm_fast's BertForSequenceClassification vs transformers'.

Same config (all-MiniLM-L6-v2's shape by default), same weights, same padded
batch, forward + backward + AdamW step. Each measurement runs in its own
worker process so that peak memory (max RSS on CPU, max allocated on a GPU)
belongs to one model only; workers alternate between the two sides.

Then, unless ``--skip-encode``, sentence embeddings: ``BertModel.encode`` vs
sentence-transformers' ``encode`` on the real all-MiniLM-L6-v2 and 2,000 real
sentences, the same batch size (see ``bench_embeddings.py``).

    python benches/bench_bert.py [--batch 16] [--seq 128] [--steps 5] [--rounds 2]
                                 [--skip-encode] [--sentences 2000] [--encode-batch 32]
"""

from __future__ import annotations

import argparse
import json
import resource
import time

from report import Report, run_worker

# all-MiniLM-L6-v2's shape, written out so the benchmark needs no download
# (the GPU machine has no network). The weights are random: speed only.
MINILM_L6_SHAPE = {
    "vocab_size": 30522, "hidden_size": 384, "num_hidden_layers": 6,
    "num_attention_heads": 12, "intermediate_size": 1536, "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
    "max_position_embeddings": 512, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
    "pad_token_id": 0,
}  # fmt: skip


def build(side: str, seq: int):
    import torch
    import transformers

    from ptm_fast.bert import BertConfig, BertForSequenceClassification

    values = dict(MINILM_L6_SHAPE, num_labels=2, max_position_embeddings=max(seq, 512))
    torch.manual_seed(0)
    ours = BertForSequenceClassification(BertConfig.from_dict(values))
    if side == "ptm_fast":
        return ours
    hf_config = transformers.BertConfig(**values)
    hf_config._attn_implementation = "sdpa"
    theirs = transformers.BertForSequenceClassification(hf_config)
    theirs.load_state_dict(ours.state_dict(), strict=False)
    return theirs


def worker(side: str, batch: int, seq: int, steps: int) -> None:
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = build(side, seq).to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1000, 30000, (batch, seq), generator=g)
    mask = torch.ones(batch, seq, dtype=torch.long)
    lengths = torch.randint(seq // 2, seq + 1, (batch,), generator=g)
    mask[torch.arange(seq)[None, :] >= lengths[:, None]] = 0
    inputs = {
        "input_ids": ids.to(device),
        "attention_mask": mask.to(device),
        "token_type_ids": torch.zeros_like(ids).to(device),
        "labels": torch.randint(0, 2, (batch,), generator=g).to(device),
    }
    autocast = torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda")

    def step():
        with autocast:
            loss = model(**inputs).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for _ in range(2):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    best = float("inf")
    for _ in range(steps):
        start = time.perf_counter()
        step()
        if device == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    if device == "cuda":
        peak_mib = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tokens = int(mask.sum())
    print(json.dumps({"seconds": best, "tokens": tokens, "peak_mib": peak_mib, "device": device}))


def measure(side: str, args) -> dict:
    sizes = ["--batch", str(args.batch), "--seq", str(args.seq), "--steps", str(args.steps)]
    return run_worker(__file__, [side, *sizes])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--steps", type=int, default=5, help="timed steps per worker (best kept)")
    parser.add_argument("--rounds", type=int, default=2, help="workers per side, alternating")
    parser.add_argument("--skip-encode", action="store_true", help="only the training step")
    parser.add_argument("--sentences", type=int, default=2000, help="for encode")
    parser.add_argument("--encode-batch", type=int, default=32, help="encode's batch size")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.batch, args.seq, args.steps)
        return
    training_step(args)
    if not args.skip_encode:
        import bench_embeddings

        encode = {"sentences": args.sentences, "batch": args.encode_batch, "repeats": 1}
        bench_embeddings.compare(argparse.Namespace(rounds=args.rounds, **encode))


def training_step(args: argparse.Namespace) -> None:
    runs: dict[str, list[dict]] = {"ptm_fast": [], "transformers": []}
    for round_index in range(args.rounds):
        order = ["ptm_fast", "transformers"][:: 1 if round_index % 2 == 0 else -1]
        for side in order:
            runs[side].append(measure(side, args))
    best = {side: min(r, key=lambda x: x["seconds"]) for side, r in runs.items()}
    ours, theirs = best["ptm_fast"], best["transformers"]
    report = Report("bert-training-step", reference_name="transformers (sdpa)")
    case = f"MiniLM-L6 shape, batch {args.batch} x {args.seq}, {ours['device']}"
    report.add(case, "speed", "tokens/s", ours["tokens"] / ours["seconds"],
               theirs["tokens"] / theirs["seconds"])  # fmt: skip
    report.add(case, "peak memory", "MiB", ours["peak_mib"], theirs["peak_mib"],
               higher_is_better=False)  # fmt: skip
    report.finish()


if __name__ == "__main__":
    main()
