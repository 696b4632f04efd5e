"""The ptm command line: errors reach the user as one clear line, and the commands run."""

import subprocess
import sys

import pytest
import torch

from ptm_fast import ByteLevelBPETokenizer, assets
from ptm_fast.gpt import GPT, GPTConfig


def ptm(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "ptm_fast", *map(str, args)], capture_output=True, text=True, cwd=cwd
    )


def test_count_words(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("b a b\nc b a\n", encoding="utf-8")
    done = ptm("count-words", corpus, "--top", "2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["3\tb", "2\ta"]


def test_finetune_errors_name_the_file_and_column(tmp_path):
    model = assets.minilm_dir()
    missing = ptm("bert", "finetune", "--model", model, "--train", tmp_path / "no.csv",
                  "--text-col", "text", "--label-col", "label")  # fmt: skip
    assert missing.returncode == 1 and "no.csv" in missing.stderr
    table = tmp_path / "reviews.csv"
    table.write_text("review,stars\ngreat,5\n", encoding="utf-8")
    wrong = ptm("bert", "finetune", "--model", model, "--train", table,
                "--text-col", "review", "--label-col", "label")  # fmt: skip
    assert wrong.returncode == 1
    assert "no column 'label'" in wrong.stderr and "Traceback" not in wrong.stderr


def test_unknown_demo_step_is_an_error():
    done = ptm("demo", "--only", "nonsense")
    assert done.returncode == 1 and "unknown demo steps" in done.stderr


def test_generate_from_a_saved_model_and_tokenizer(tmp_path):
    texts = [text for _, text in assets.bbc_news()[:50]]
    bpe = ByteLevelBPETokenizer.train(texts=texts, vocab_size=400)
    torch.manual_seed(0)
    config = GPTConfig(vocab_size=bpe.vocab_size, n_positions=64, n_embd=32, n_layer=1, n_head=2,
                       eos_token_id=bpe.special_tokens["<|endoftext|>"])  # fmt: skip
    GPT(config).save_pretrained(tmp_path)
    bpe.save_pretrained(tmp_path)
    done = ptm("gpt", "generate", "The market", "--model", tmp_path, "--max-new-tokens", "5")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("The market")
    too_long = ptm("gpt", "generate", "word " * 80, "--model", tmp_path)
    assert too_long.returncode == 1 and "context" in too_long.stderr


@pytest.mark.parametrize("argv", [["bert"], ["gpt"]])
def test_group_without_action_shows_usage(argv):
    done = ptm(*argv)
    assert done.returncode == 2 and "usage" in done.stderr
