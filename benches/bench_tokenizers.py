"""Tokenizer throughput: ptm_fast against HF tokenizers (WordPiece) and tiktoken (GPT-2 BPE).

On the same ~10 MB real corpus (BBC news, Wikipedia pages, Rotten Tomatoes
reviews; one line per paragraph or review), at 1 and 2 threads, best of
several runs in alternating order. Each measurement runs in a fresh worker
process because HF tokenizers fixes its thread pool size on first use; the
workers also hash every id they produce, and the table says whether ours and
the reference produced the very same ids.

The third table times the call transformers users write,
``tok(texts, padding=True, truncation=True, max_length=128, return_tensors="np")``,
with ptm_fast's ``BertTokenizer`` and transformers' ``BertTokenizerFast`` (HF
tokenizers underneath); a call takes no thread count, so the worker limits
itself to that many cores (CPU affinity) for both.

    python benches/bench_tokenizers.py [--repeats 3] [--threads 1 2]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from array import array
from pathlib import Path

from report import Report, run_worker

CORPUS_CACHE = Path(__file__).resolve().parents[1] / "target" / "bench" / "corpus_lines.json"


def corpus_lines() -> list[str]:
    if not CORPUS_CACHE.is_file():
        from ptm_fast import assets

        CORPUS_CACHE.parent.mkdir(parents=True, exist_ok=True)
        CORPUS_CACHE.write_text(json.dumps(assets.real_corpus_lines()), encoding="utf-8")
    return json.loads(CORPUS_CACHE.read_text(encoding="utf-8"))


def ids_digest(batches) -> tuple[int, str]:
    digest = hashlib.sha256()
    count = 0
    for ids in batches:
        digest.update(array("I", ids).tobytes() + b"|")
        count += len(ids)
    return count, digest.hexdigest()[:16]


TRANSFORMERS_CALL = {"padding": True, "truncation": True, "max_length": 128, "return_tensors": "np"}


def unpadded_rows(out) -> list[list[int]]:
    """The ids of each row of a padded call's result, padding left out."""
    ids, mask = out["input_ids"], out["attention_mask"].astype(bool)
    return [row[keep].tolist() for row, keep in zip(ids, mask, strict=True)]


def make_encoder(tool: str, threads: int):
    """A callable encoding a list of lines, and one turning its result into id lists."""
    from ptm_fast import assets

    if tool.endswith("-call"):
        # The call has no thread count: both sides get `threads` cores and use them all.
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:threads])
        if tool == "ptm_fast-call":
            from ptm_fast import BertTokenizer as Tok
        else:
            from transformers import BertTokenizerFast as Tok
        tok = Tok.from_pretrained(str(assets.minilm_dir()))
        return lambda lines: tok(lines, **TRANSFORMERS_CALL), unpadded_rows

    if tool == "ptm_fast-wordpiece":
        from ptm_fast import WordPieceTokenizer

        tok = WordPieceTokenizer.from_pretrained(assets.minilm_dir())
        return (
            lambda lines: tok.encode_batch(lines, num_threads=threads),
            lambda out: (e.ids for e in out),
        )
    if tool == "hf-wordpiece":
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(assets.minilm_dir() / "tokenizer.json"))
        tok.no_truncation()
        tok.no_padding()
        return tok.encode_batch, lambda out: (e.ids for e in out)
    if tool == "ptm_fast-bpe":
        from ptm_fast import ByteLevelBPETokenizer

        bpe = ByteLevelBPETokenizer.from_tiktoken(
            assets.gpt2_ranks_path(), special_tokens={"<|endoftext|>": 50256}
        )
        return lambda lines: bpe.encode_batch(lines, num_threads=threads), lambda out: out
    if tool == "tiktoken-bpe":
        import tiktoken
        from tiktoken.load import load_tiktoken_bpe

        enc = tiktoken.Encoding(
            name="gpt2",
            pat_str=assets.GPT2_PATTERN,
            mergeable_ranks=load_tiktoken_bpe(str(assets.gpt2_ranks_path())),
            special_tokens={"<|endoftext|>": 50256},
        )
        return lambda lines: enc.encode_ordinary_batch(lines, num_threads=threads), lambda out: out
    raise ValueError(f"unknown tool {tool!r}")


def worker(tool: str, threads: int, repeats: int) -> None:
    """Time one tool in this process; print one JSON line."""
    lines = corpus_lines()
    encode, to_ids = make_encoder(tool, threads)
    out = encode(lines[:2000])  # warm-up: caches, thread start, lazy imports
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        out = encode(lines)
        best = min(best, time.perf_counter() - start)
    tokens, digest = ids_digest(to_ids(out))
    print(json.dumps({"seconds": best, "tokens": tokens, "digest": digest}))


def measure(tool: str, threads: int, repeats: int) -> dict:
    env = dict(os.environ)
    # HF tokenizers sizes its pool from this variable; 1 thread means no pool.
    env["RAYON_NUM_THREADS"] = env["RAYON_RS_NUM_CPUS"] = str(threads)
    env["TOKENIZERS_PARALLELISM"] = "true" if threads > 1 else "false"
    return run_worker(__file__, [tool, "--threads", str(threads), "--repeats", str(repeats)], env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per worker")
    parser.add_argument("--rounds", type=int, default=2, help="workers per side, alternating")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.threads[0], args.repeats)
        return

    lines = corpus_lines()
    megabytes = sum(len(line.encode("utf-8")) for line in lines) / 1e6
    print(f"corpus: {len(lines)} lines, {megabytes:.2f} MB of real text")
    pairs = [
        ("WordPiece (bert-base-uncased)", "ptm_fast-wordpiece", "hf-wordpiece", "HF tokenizers"),
        ("GPT-2 BPE", "ptm_fast-bpe", "tiktoken-bpe", "tiktoken"),
        (
            "BertTokenizer call (padding, truncation 128, numpy)",
            "ptm_fast-call",
            "hf-call",
            "transformers BertTokenizerFast",
        ),
    ]
    for title, ours, reference, reference_name in pairs:
        report = Report(f"tokenizers-{ours.split('-')[1]}", reference_name=reference_name)
        for threads in args.threads:
            results: dict[str, list[dict]] = {ours: [], reference: []}
            for round_index in range(args.rounds):
                order = (ours, reference) if round_index % 2 == 0 else (reference, ours)
                for tool in order:
                    results[tool].append(measure(tool, threads, args.repeats))
            best = {tool: min(runs, key=lambda r: r["seconds"]) for tool, runs in results.items()}
            same = best[ours]["digest"] == best[reference]["digest"]
            report.add(
                f"{title}, {threads} thread{'s' if threads > 1 else ''}",
                "throughput",
                "MB/s",
                megabytes / best[ours]["seconds"],
                megabytes / best[reference]["seconds"],
                extra={
                    "threads": threads,
                    "tokens_ours": best[ours]["tokens"],
                    "tokens_reference": best[reference]["tokens"],
                    "identical_ids": same,
                },
            )
            print(
                f"{title}, {threads} thread(s): {best[ours]['tokens']} tokens; "
                f"ids identical to the reference: {'yes' if same else 'NO'}"
            )
        report.finish()


if __name__ == "__main__":
    main()
