"""GPT pretraining: block sampling, baselines, and a tiny model that learns."""

import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from ptm_fast.gpt import GPTConfig
from ptm_fast.gpt.pretraining import TokenBlocks, load_tokens, pretrain_gpt, unigram_loss
from ptm_fast.training import EpochBatches, TrainingConfig, TrainingResult


def patterned_tokens(n=6000, vocab=50, seed=0):
    """A token stream with structure to learn: mostly a repeating ramp, some noise."""
    rng = np.random.default_rng(seed)
    tokens = (np.arange(n) % 17).astype(np.uint16)
    noise = rng.random(n) < 0.1
    tokens[noise] = rng.integers(17, vocab, noise.sum())
    return tokens


def test_blocks_are_contiguous_and_targets_shifted():
    tokens = np.arange(1000, dtype=np.uint16)
    blocks = TokenBlocks(tokens, block_size=16, valid_fraction=0.1)
    batch = next(iter(blocks.epoch_batches(4, 3, seed=0)(0)))
    x, y = batch["input_ids"], batch["targets"]
    assert x.shape == (4, 16) and torch.equal(x[:, 1:], y[:, :-1])
    assert torch.equal(y[:, -1], x[:, -1] + 1)  # contiguous in the source
    assert int(x.max()) < 900  # never from the validation tail


def test_sampling_is_deterministic_per_epoch():
    blocks = TokenBlocks(np.arange(5000, dtype=np.uint16), 32)
    batches = blocks.epoch_batches(8, 2, seed=3)
    assert isinstance(batches, EpochBatches) and len(batches) == 2
    first = [b["input_ids"] for b in batches(0)]
    again = [b["input_ids"] for b in batches(0)]
    other = [b["input_ids"] for b in batches(1)]
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not torch.equal(first[0], other[0])


def test_too_small_corpus_is_a_clear_error():
    with pytest.raises(ValueError, match="fewer than one block"):
        TokenBlocks(np.arange(100, dtype=np.uint16), block_size=64, valid_fraction=0.1)


def test_unigram_loss_of_a_uniform_stream_is_log_vocab():
    tokens = np.tile(np.arange(8), 1000)
    assert unigram_loss(tokens, tokens, 8) == pytest.approx(math.log(8), rel=1e-3)


def test_load_tokens_checks_the_size(tmp_path):
    path = tmp_path / "odd.bin"
    path.write_bytes(b"abc")
    with pytest.raises(ValueError, match="not a whole number"):
        load_tokens(path)


def test_a_tiny_gpt_learns_far_below_the_uniform_loss():
    vocab = 50
    blocks = TokenBlocks(patterned_tokens(vocab=vocab), block_size=32, valid_fraction=0.1)
    config = GPTConfig(vocab_size=vocab, n_positions=32, n_embd=32, n_layer=2, n_head=2,
                       resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)  # fmt: skip
    training = TrainingConfig(epochs=1, lr=3e-3, warmup_ratio=0.1, progress=False,
                              schedule="cosine", weight_decay=0.0)  # fmt: skip
    result = pretrain_gpt(blocks, config, training, batch_size=16, steps_per_epoch=120)
    uniform = math.log(vocab)
    assert result.before["val_loss"] > 0.9 * uniform
    assert result.after["val_loss"] < 0.5 * uniform, result.after
    assert result.after["val_loss"] < result.unigram_loss
    assert isinstance(result, TrainingResult) and result.steps == 120
    assert result.tokens_seen == 120 * 16 * 32 and result.examples_seen == 120 * 16
    assert result.after == {k: v for k, v in result.evaluations[-1].items() if k != "epoch"}


def test_packed_file_holds_each_document_then_end_of_text(tmp_path):
    from ptm_fast import ByteLevelBPETokenizer, assets
    from ptm_fast.gpt.pretraining import pack_documents

    bpe = ByteLevelBPETokenizer.from_tiktoken(assets.gpt2_ranks_path(), {"<|endoftext|>": 50256})
    # Blank lines separate documents in the file form, so none inside one.
    documents = [text.replace("\n\n", "\n") for _, text in assets.bbc_news()[:40]]
    tokens = pack_documents(documents, bpe, tmp_path / "bbc.bin")
    expected = []
    for text in documents:
        expected += [*bpe.encode_ordinary(text), 50256]
    assert tokens.dtype == np.uint16 and tokens.tolist() == expected
    corpus = tmp_path / "bbc.txt"
    corpus.write_text("\n\n".join(documents) + "\n", encoding="utf-8")
    bpe.pack_file(corpus, tmp_path / "streamed.bin")
    assert load_tokens(tmp_path / "streamed.bin").tolist() == expected


def test_ctrl_c_stops_packing_a_file_and_leaves_no_output(tmp_path):
    corpus, out = tmp_path / "big.txt", tmp_path / "tokens.bin"
    code = (
        "import sys, threading, _thread\n"
        "from ptm_fast.tokenizers import ByteLevelBPETokenizer\n"
        "corpus, out = sys.argv[1], sys.argv[2]\n"
        "doc = 'a few words of a document, said once more and again. ' * 4\n"
        "with open(corpus, 'w') as f:\n"
        "    for _ in range(400_000):\n"
        "        f.write(doc + '\\n\\n')\n"
        "bpe = ByteLevelBPETokenizer.train(texts=[doc] * 20, vocab_size=300,\n"
        "                                  special_tokens=['<|endoftext|>'])\n"
        "threading.Timer(0.3, _thread.interrupt_main).start()\n"
        "try:\n"
        "    bpe.pack_file(corpus, out, num_threads=1)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(corpus), str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "interrupted" in done.stdout
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.txt"]
