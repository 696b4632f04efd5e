"""Kernel speed and memory on a GPU: ptm_fast's Triton attention and FFN against torch.

Attention: TFLOP/s and peak memory of forward, backward and both, bf16, for
sequence lengths 512 to 16k (16k tokens per batch), head_dim 64 and 128,
causal and not, against torch's scaled_dot_product_attention with its flash
backend and against plain eager attention, all measured in this run.
FFN: forward and forward+backward at BERT-base and GPT-2-medium sizes against
torch's addmm + gelu + addmm.

Needs CUDA; elsewhere it says so and exits 0. ``--smoke`` runs the whole
script on tiny fp32 shapes on the CPU (kernels under TRITON_INTERPRET=1), to
check the script itself before spending GPU time on it.

    python benches/bench_kernels.py [--quick] [--results benches/RESULTS.md]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date

from report import Report

# Overridden by --smoke: tiny fp32 shapes on the CPU.
SETTINGS = {"device": "cuda", "dtype": "bfloat16", "smoke": False}


def gpu_or_exit():
    try:
        import torch
    except ImportError:
        print("bench_kernels: torch is not installed; nothing to measure")
        sys.exit(0)
    if not torch.cuda.is_available():
        print("bench_kernels: no CUDA GPU here; the kernel benchmark runs only on a GPU")
        sys.exit(0)
    return torch


def timed(fn, torch):
    """(milliseconds, peak extra MiB) of fn; None when it runs out of memory."""
    if SETTINGS["smoke"]:
        start = time.perf_counter()
        fn()
        return (time.perf_counter() - start) * 1e3, 0.0
    import triton.testing

    try:
        fn()
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        fn()
        torch.cuda.synchronize()
        peak = (torch.cuda.max_memory_allocated() - base) / 2**20
        ms = triton.testing.do_bench(fn, warmup=25, rep=100)
        return ms, peak
    except torch.cuda.OutOfMemoryError:
        torch.cuda.empty_cache()
        return None


def attention_providers(torch):
    from torch.nn.attention import SDPBackend, sdpa_kernel

    from ptm_fast.kernels import attention, attention_reference

    def sdpa_flash(q, k, v, causal):
        with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
            return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal)

    return {
        "ptm_fast": lambda q, k, v, causal: attention(q, k, v, causal=causal, backend="triton"),
        "sdpa-flash": sdpa_flash,
        "eager": lambda q, k, v, causal: attention_reference(q, k, v, causal=causal),
    }


def measure_modes(torch, forward, grad) -> dict:
    """Timings of forward, backward alone and both for one provider on one input."""
    measured = {"fwd": timed(forward, torch)}
    out = forward() if measured["fwd"] else None
    if out is None:
        measured["bwd"] = None
    else:
        measured["bwd"] = timed(lambda: out.backward(grad, retain_graph=True), torch)
    measured["fwd+bwd"] = timed(lambda: forward().backward(grad), torch)
    return measured


def attention_case(torch, op, shape, causal) -> dict:
    device, dtype = SETTINGS["device"], getattr(torch, SETTINGS["dtype"])
    q, k, v = (torch.randn(shape, device=device, dtype=dtype, requires_grad=True) for _ in range(3))
    grad = torch.randn(shape, device=device, dtype=dtype)
    return measure_modes(torch, lambda: op(q, k, v, causal), grad)


def tflops(flops: float, result) -> float:
    return flops / (result[0] * 1e-3) / 1e12


def bench_attention(torch, quick: bool) -> Report:
    report = Report("kernels-attention", reference_name="SDPA flash")
    providers = attention_providers(torch)
    seqs = [512, 2048, 16384] if quick else [512, 1024, 2048, 4096, 8192, 16384]
    total_tokens, width = 16384, 2048
    if SETTINGS["smoke"]:
        seqs, total_tokens, width = [48], 96, 256
    for head_dim in (64, 128):
        heads = width // head_dim
        for causal in (False, True):
            for seq in seqs:
                batch = max(1, total_tokens // seq)
                shape = (batch, heads, seq, head_dim)
                fwd_flops = 4 * batch * heads * seq * seq * head_dim / (2 if causal else 1)
                flops = {"fwd": fwd_flops, "bwd": 2.5 * fwd_flops, "fwd+bwd": 3.5 * fwd_flops}
                results = {
                    name: attention_case(torch, op, shape, causal) for name, op in providers.items()
                }
                for mode, mode_flops in flops.items():
                    ours, ref, eager = (
                        results[p][mode] for p in ("ptm_fast", "sdpa-flash", "eager")
                    )
                    if ours is None or ref is None:
                        continue
                    report.add(
                        f"d={head_dim} {'causal' if causal else 'full'} N={seq} {mode}",
                        "speed", "TFLOP/s", tflops(mode_flops, ours), tflops(mode_flops, ref),
                        extra={
                            "seq": seq, "head_dim": head_dim, "causal": causal, "mode": mode,
                            "peak_mib_ours": round(ours[1], 1),
                            "peak_mib_sdpa": round(ref[1], 1),
                            "tflops_eager": round(tflops(mode_flops, eager), 1) if eager else "OOM",
                            "peak_mib_eager": round(eager[1], 1) if eager else "OOM",
                        },
                    )  # fmt: skip
    return report


def ffn_case(torch, tokens, d_model, d_ff, activation) -> dict:
    from ptm_fast.kernels import ffn, ffn_reference

    device, dtype = SETTINGS["device"], getattr(torch, SETTINGS["dtype"])

    def param(*shape, std=0.02):
        return (torch.randn(*shape, device=device, dtype=dtype) * std).requires_grad_()

    x = param(tokens, d_model, std=1.0)
    weights = [param(d_model, d_ff), param(d_ff), param(d_ff, d_model), param(d_model)]
    grad = torch.randn(tokens, d_model, device=device, dtype=dtype)
    ops = {
        "ours": lambda: ffn(x, *weights, activation=activation, backend="triton"),
        "torch": lambda: ffn_reference(x, *weights, activation=activation),
    }
    return {name: measure_modes(torch, op, grad) for name, op in ops.items()}


def bench_ffn(torch) -> Report:
    report = Report("kernels-ffn", reference_name="torch addmm+gelu+addmm")
    sizes = [("BERT-base", 768, 3072, "gelu"), ("GPT-2-medium", 1024, 4096, "gelu_tanh")]
    token_counts = (4096, 16384)
    if SETTINGS["smoke"]:
        sizes, token_counts = [("tiny", 32, 64, "gelu"), ("tiny-tanh", 32, 64, "gelu_tanh")], (40,)
    for title, d_model, d_ff, activation in sizes:
        for tokens in token_counts:
            results = ffn_case(torch, tokens, d_model, d_ff, activation)
            fwd_flops = 2 * 2 * tokens * d_model * d_ff
            for mode, factor in (("fwd", 1.0), ("fwd+bwd", 3.0)):
                ours, ref = results["ours"][mode], results["torch"][mode]
                mode_flops = fwd_flops * factor
                report.add(
                    f"{title} tokens={tokens} {mode}",
                    "speed", "TFLOP/s", tflops(mode_flops, ours), tflops(mode_flops, ref),
                    extra={"peak_mib_ours": round(ours[1], 1), "peak_mib_torch": round(ref[1], 1)},
                )  # fmt: skip
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer sequence lengths")
    parser.add_argument("--results", help="append the tables to this markdown file")
    parser.add_argument("--smoke", action="store_true", help="tiny shapes on the CPU")
    args = parser.parse_args()
    if args.smoke:
        os.environ.setdefault("TRITON_INTERPRET", "1")
        SETTINGS.update(device="cpu", dtype="float32", smoke=True)
        import torch
    else:
        torch = gpu_or_exit()
    import triton

    where = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU smoke run"
    header = (
        f"{where}, torch {torch.__version__}, triton {triton.__version__}, "
        f"{date.today().isoformat()}"
    )
    print(header)
    reports = [bench_attention(torch, args.quick), bench_ffn(torch)]
    for report in reports:
        report.finish()
    if args.results:
        with open(args.results, "a", encoding="utf-8") as f:
            f.write(f"\n## Kernels (GPU): {header}\n\n")
            for report in reports:
                f.write(f"### {report.name} (ratio: ptm_fast / {report.reference_name})\n\n")
                f.write("```\n" + report.table() + "\n```\n\n")


if __name__ == "__main__":
    main()
