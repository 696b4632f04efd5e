"""The ptm command line: errors reach the user as one clear line, and the commands run."""

import html
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


@pytest.mark.parametrize(
    "argv,message",
    [
        (
            ["gpt", "pretrain", "--batch-size", "0"],
            "argument --batch-size: must be at least 1, got 0",
        ),
        (
            ["gpt", "pretrain", "--max-steps", "-1"],
            "argument --max-steps: must be at least 1, got -1",
        ),
        (
            ["gpt", "pretrain", "--epochs", "two"],
            "argument --epochs: expected an integer, got 'two'",
        ),
        (["gpt", "pretrain", "--lr", "nan"], "argument --lr: must be finite"),
        (
            ["gpt", "generate", "x", "--model", "m", "--top-p", "1.5"],
            "must be at most 1.0, got 1.5",
        ),
        (["count-words", "c.txt", "--top", "0"], "argument --top: must be at least 1, got 0"),
    ],
)
def test_bad_numbers_are_usage_errors_not_tracebacks(argv, message, capsys):
    from ptm_fast.cli import build_parser

    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and message in err and "Traceback" not in err


# A one-layer GPT small enough to pretrain in seconds.
TINY_GPT = ("--layers", "1", "--hidden", "32", "--heads", "2", "--block-size", "16",
            "--batch-size", "2")  # fmt: skip


def one_document_corpus(tmp_path, articles: int) -> tuple:
    """A corpus file of one line (the first BBC articles) and a BPE trained on it."""
    text = " ".join(text for _, text in assets.bbc_news()[:articles]).replace("\n", " ")
    corpus = tmp_path / "one_document.txt"
    corpus.write_text(text + "\n", encoding="utf-8")
    ByteLevelBPETokenizer.train(texts=[text], vocab_size=300).save_pretrained(tmp_path / "bpe")
    return corpus, tmp_path / "bpe"


def test_gpt_pretrain_streams_a_one_document_corpus_file(tmp_path):
    corpus, bpe = one_document_corpus(tmp_path, 3)
    done = ptm("gpt", "pretrain", "--corpus", corpus, "--tokenizer", bpe, *TINY_GPT,
               "--max-steps", "2", "--output", tmp_path / "model")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "validation loss" in done.stdout and (tmp_path / "model" / "config.json").is_file()
    missing = ptm(
        "gpt", "pretrain", "--corpus", tmp_path / "no.txt", "--tokenizer", tmp_path / "bpe"
    )
    assert missing.returncode == 1 and "no.txt" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_gpt_pretrain_writes_a_report_with_its_loss_curves(tmp_path):
    corpus, bpe = one_document_corpus(tmp_path, 6)
    done = ptm("gpt", "pretrain", "--corpus", corpus, "--tokenizer", bpe, *TINY_GPT,
               "--max-steps", "6", "--eval-steps", "2",
               "--report", tmp_path / "report")  # fmt: skip
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert (tmp_path / "report" / "loss.png").read_bytes()[:4] == b"\x89PNG"
    assert "<img src='loss.png'" in page
    final = next(line for line in done.stdout.splitlines() if "validation loss" in line)
    assert html.escape(final) in page  # the figures printed are the page's
    assert f"report: {tmp_path / 'report' / 'index.html'}" in done.stdout
