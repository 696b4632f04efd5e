"""Ctrl-C during a long batch or training call: KeyboardInterrupt within a round.

Each case runs in a fresh interpreter, as the GPT packing test does, so that a
signal can never reach pytest itself: a timer thread calls
``_thread.interrupt_main()`` 0.3 s into a call that would take several seconds
uninterrupted, and the child reports how long after the signal the
KeyboardInterrupt came and whether the tokenizer (or trainer) still works.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

CHILD = r'''
import json, sys, threading, time, _thread
import numpy as np
from ptm_fast import ByteLevelBPETokenizer, WordPieceTokenizer, _core, assets


def random_lines(size, seed=0):
    """``size`` bytes of random letters, one in eight a space, in lines of 1000: words
    that are nearly all distinct and rarely whole tokens, so slow to encode, count and
    merge (about 5-20 MB/s)."""
    rng = np.random.default_rng(seed)
    chars = rng.integers(ord("a"), ord("z") + 1, size=size, dtype=np.uint8)
    chars[rng.random(size) < 0.125] = ord(" ")
    text = chars.tobytes().decode()
    return [text[i : i + 1000] for i in range(0, size, 1000)]


LINES = random_lines(2_000_000)
# 80 MB in texts of 10 KB: seconds of encoding on two threads.
TEXTS = ["".join(LINES[:10])] * 8_000
SMALL = ["Hello, world!", "a second text", LINES[0]]


def interrupted(call, after=0.3):
    """Run ``call`` with a SIGINT (interrupt_main) ``after`` seconds in."""
    fired = []

    def fire():
        fired.append(time.perf_counter())
        _thread.interrupt_main()

    timer = threading.Timer(after, fire)
    start = time.perf_counter()
    timer.start()
    try:
        call()
    except KeyboardInterrupt:
        raised = time.perf_counter()
        timer.join()
        return {"interrupted": True, "ran": raised - start, "latency": raised - fired[0]}
    timer.cancel()
    return {"interrupted": False, "ran": time.perf_counter() - start}


def big_file(path):
    """80 MB of text lines: seconds of counting for either trainer."""
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(40):
            f.write("\n".join(LINES) + "\n")
    return path


def wordpiece():
    return WordPieceTokenizer.from_pretrained(assets.minilm_dir())


def bpe():
    eot = {"<|endoftext|>": 50256}
    return ByteLevelBPETokenizer.from_tiktoken(assets.gpt2_ranks_path(), special_tokens=eot)


def case(name, tmp):
    if name == "wordpiece_encode_batch":
        tok = wordpiece()
        before = [e.ids for e in tok.encode_batch(SMALL)]
        report = interrupted(lambda: tok.encode_batch(TEXTS, num_threads=2))
        works = [e.ids for e in tok.encode_batch(SMALL, num_threads=2)] == before
    elif name == "wordpiece_encode_batch_numpy":
        tok = wordpiece()
        before = tok.encode_batch_numpy(SMALL, max_length=64)["input_ids"].tolist()
        report = interrupted(lambda: tok.encode_batch_numpy(TEXTS, max_length=64, num_threads=2))
        after = tok.encode_batch_numpy(SMALL, max_length=64, num_threads=2)["input_ids"]
        works = after.tolist() == before
    elif name == "bpe_encode_batch":
        tok = bpe()
        before = tok.encode_batch(SMALL)
        report = interrupted(lambda: tok.encode_batch(TEXTS, num_threads=2))
        works = tok.encode_batch(SMALL, num_threads=2) == before
    elif name == "bpe_encode_batch_flat":
        tok = bpe()
        before = [a.tolist() for a in tok.encode_batch_flat(SMALL)]
        report = interrupted(lambda: tok.encode_batch_flat(TEXTS, num_threads=2))
        works = [a.tolist() for a in tok.encode_batch_flat(SMALL, num_threads=2)] == before
    elif name in ("wordpiece_call", "bpe_call"):  # the transformers-style call
        tok = wordpiece() if name == "wordpiece_call" else bpe()
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        kwargs = dict(padding=True, truncation=True, max_length=64, return_tensors="np")
        before = tok(SMALL, **kwargs)["input_ids"].tolist()
        report = interrupted(lambda: tok(TEXTS, **kwargs))
        works = tok(SMALL, **kwargs)["input_ids"].tolist() == before
    elif name == "bpe_train_counting":
        path = big_file(tmp + "/corpus.txt")
        report = interrupted(lambda: ByteLevelBPETokenizer.train(path, vocab_size=1000))
        small = ByteLevelBPETokenizer.train(texts=SMALL * 5, vocab_size=300)
        works = small.decode(small.encode(LINES[1])) == LINES[1]
    elif name == "bpe_train_merging":
        trainer = _core.BpeTrainer()
        trainer.feed(random_lines(4_000_000, seed=1), 2)
        pieces = trainer.distinct_pieces()
        report = interrupted(lambda: trainer.train(60_000, 2, ["<|endoftext|>"]))
        small = ByteLevelBPETokenizer(trainer.train(300, 2, ["<|endoftext|>"]))
        works = trainer.distinct_pieces() == pieces and small.vocab_size == 300
    elif name == "wordpiece_train_counting":
        path = big_file(tmp + "/corpus.txt")
        train = lambda: WordPieceTokenizer.train(path, vocab_size=1000, num_threads=2)
        report = interrupted(train)
        small = WordPieceTokenizer.train(texts=["hello world"] * 5, vocab_size=60)
        works = small.encode("hello world").tokens == ["[CLS]", "hello", "world", "[SEP]"]
    elif name == "wordpiece_train_merging":
        counts = _core.WordPieceWordCounts(True, None)
        counts.add_texts(random_lines(4_000_000, seed=1), 2)
        words = len(counts)
        report = interrupted(lambda: counts.train(60_000, 2, ["[UNK]"]))
        works = len(counts) == words and len(counts.train(100, 2, ["[UNK]"])) == 100
    else:
        raise ValueError(name)
    report["works_after"] = works
    return report


print(json.dumps(case(sys.argv[1], sys.argv[2])))
'''

CASES = [
    "wordpiece_encode_batch",
    "wordpiece_encode_batch_numpy",
    "bpe_encode_batch",
    "bpe_encode_batch_flat",
    "wordpiece_call",
    "bpe_call",
    "bpe_train_counting",
    "bpe_train_merging",
    "wordpiece_train_counting",
    "wordpiece_train_merging",
]


@pytest.mark.parametrize("name", CASES)
def test_ctrl_c_stops_the_call_promptly_and_the_tokenizer_still_works(name, tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", CHILD, name, str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["interrupted"], f"the call finished in {report['ran']:.1f} s: make it longer"
    assert report["latency"] < 2.0, report
    assert report["works_after"], report
