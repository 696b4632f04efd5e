"""The word2vec, tokenizer, tokenize, bert embed and zero-shot commands, on real data."""

import html
import json
import re
import subprocess
import sys

import numpy as np
import pytest

from ptm_fast import assets


def ptm(*args):
    return subprocess.run(
        [sys.executable, "-m", "ptm_fast", *map(str, args)], capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def news_file(tmp_path_factory):
    """300 real BBC articles, one per line, lowercased words."""
    path = tmp_path_factory.mktemp("data") / "news.txt"
    lines = [" ".join(re.findall(r"[a-z]+", text.lower())) for _, text in assets.bbc_news()[:300]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reviews_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "reviews.txt"
    texts = [text.replace("\n", " ") for _, text in assets.rotten_tomatoes()[:400]]
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    return path


def neighbours(stdout: str) -> list[tuple[str, float]]:
    rows = [line.split("\t") for line in stdout.strip().splitlines()]
    return [(word, float(score)) for score, word in rows]


def test_word2vec_train_similar_and_analogy(news_file, tmp_path):
    from ptm_fast.word2vec import KeyedVectors

    vectors = tmp_path / "vectors.bin"
    done = ptm("word2vec", "train", news_file, "--output", vectors, "--binary", "--sg", "1",
               "--vector-size", "24", "--epochs", "2", "--workers", "1")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "words x 24 dimensions saved" in done.stdout
    loaded = KeyedVectors.load_word2vec_format(vectors, binary=True)
    done = ptm("word2vec", "similar", vectors, "government", "--topn", "5")
    assert done.returncode == 0, done.stderr
    found = neighbours(done.stdout)
    expected = loaded.most_similar("government", topn=5)
    assert [w for w, _ in found] == [w for w, _ in expected]
    assert [s for _, s in found] == pytest.approx([s for _, s in expected], abs=1e-4)
    done = ptm("word2vec", "analogy", vectors, "year", "years", "day", "--topn", "3")
    assert done.returncode == 0, done.stderr
    expected = loaded.most_similar(positive=["years", "day"], negative=["year"], topn=3)
    assert [w for w, _ in neighbours(done.stdout)] == [w for w, _ in expected]


def test_word2vec_errors_are_one_line(news_file, tmp_path):
    done = ptm("word2vec", "train", tmp_path / "missing.txt", "--output", tmp_path / "v.txt")
    assert done.returncode == 1 and "missing.txt" in done.stderr
    assert "Traceback" not in done.stderr
    vectors = tmp_path / "v.txt"
    ptm("word2vec", "train", news_file, "--output", vectors, "--vector-size", "8", "--epochs", "1")
    done = ptm("word2vec", "similar", vectors, "zzzqqq")
    assert done.returncode == 1 and "not in the vocabulary: 'zzzqqq'" in done.stderr
    assert ptm("word2vec", "train", news_file, "--output", vectors, "--sg", "2").returncode == 2


@pytest.mark.parametrize("kind", ["bpe", "wordpiece"])
def test_tokenizer_train_then_tokenize_as_json_lines_and_numpy(kind, reviews_file, tmp_path):
    from ptm_fast.cli_tools import load_tokenizer

    folder = tmp_path / kind
    done = ptm("tokenizer", "train", reviews_file, "--kind", kind, "--vocab-size", "400",
               "--output", folder)  # fmt: skip
    assert done.returncode == 0, done.stderr
    tokenizer = load_tokenizer(str(folder))
    assert tokenizer.vocab_size <= 400
    lines = reviews_file.read_text(encoding="utf-8").splitlines()
    done = ptm("tokenize", folder, reviews_file)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    ids, offsets = tokenizer.encode_batch_flat(lines)
    assert len(rows) == len(lines)
    assert rows[7] == ids[offsets[7] : offsets[8]].tolist()
    done = ptm("tokenize", folder, reviews_file, "--output", tmp_path / "ids.npy")
    assert done.returncode == 0, done.stderr
    assert np.array_equal(np.load(tmp_path / "ids.npy"), ids)
    assert np.array_equal(np.load(tmp_path / "ids.offsets.npy"), offsets)


def test_tokenize_errors_name_the_problem(reviews_file, tmp_path):
    done = ptm("tokenize", tmp_path, reviews_file)
    assert done.returncode == 1 and "holds no vocab.txt" in done.stderr
    done = ptm("tokenize", assets.minilm_dir(), reviews_file, "--output", tmp_path / "ids.txt")
    assert done.returncode == 1 and "expected a .npy file" in done.stderr
    done = ptm("tokenizer", "train", reviews_file, "--kind", "bpe", "--vocab-size", "5",
               "--output", tmp_path / "t")  # fmt: skip
    assert done.returncode == 1 and "vocab_size" in done.stderr
    done = ptm("tokenizer", "train", reviews_file, "--kind", "bpe", "--vocab-size", "300",
               "--limit-alphabet", "30", "--output", tmp_path / "t")  # fmt: skip
    assert done.returncode == 1 and "--limit-alphabet is for --kind wordpiece" in done.stderr


def test_word2vec_train_writes_a_report_with_a_word_map(news_file, tmp_path):
    done = ptm("word2vec", "train", news_file, "--output", tmp_path / "v.txt", "--epochs", "1",
               "--report", tmp_path / "report")  # fmt: skip
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert (tmp_path / "report" / "word-map.png").read_bytes()[:4] == b"\x89PNG"
    for line in done.stdout.splitlines()[:-1]:  # all but the "report: ..." line
        assert html.escape(line) in page, line
    assert "words/s" in page


def test_tokenizer_train_limit_alphabet(reviews_file, tmp_path):
    done = ptm("tokenizer", "train", reviews_file, "--kind", "wordpiece", "--vocab-size", "300",
               "--limit-alphabet", "30", "--output", tmp_path / "wp")  # fmt: skip
    assert done.returncode == 0, done.stderr
    vocab = (tmp_path / "wp" / "vocab.txt").read_text(encoding="utf-8").split("\n")
    assert len({t.removeprefix("##") for t in vocab if len(t.removeprefix("##")) == 1}) == 30


def test_bert_embed_equals_encode(reviews_file, tmp_path):
    from ptm_fast.bert import BertModel

    small = tmp_path / "some.txt"
    lines = reviews_file.read_text(encoding="utf-8").splitlines()[:20]
    small.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "emb.npy"
    done = ptm("bert", "embed", assets.minilm_dir(), small, "--output", out, "--normalize")
    assert done.returncode == 0, done.stderr
    saved = np.load(out)
    expected = BertModel.from_pretrained(assets.minilm_dir()).encode(
        lines, normalize_embeddings=True
    )
    assert saved.shape == (20, 384) and saved.dtype == np.float32
    np.testing.assert_allclose(saved, expected, atol=1e-5)
    assert np.allclose(np.linalg.norm(saved, axis=1), 1.0, atol=1e-5)
    (tmp_path / "empty.txt").write_text("")
    done = ptm("bert", "embed", assets.minilm_dir(), tmp_path / "empty.txt", "--output", out)
    assert done.returncode == 1 and "no lines to embed" in done.stderr


def test_zero_shot_prints_the_likeliest_label(reviews_file, tmp_path):
    import torch

    from ptm_fast import ByteLevelBPETokenizer
    from ptm_fast.gpt import GPT, GPTConfig, zero_shot_classify

    folder = tmp_path / "gpt"
    bpe = ByteLevelBPETokenizer.train(files=[reviews_file], vocab_size=300)
    torch.manual_seed(0)
    config = GPTConfig(vocab_size=bpe.vocab_size, n_positions=64, n_embd=32, n_layer=1, n_head=2)
    GPT(config).save_pretrained(folder)
    bpe.save_pretrained(folder)
    headlines = [text[:60] for _, text in assets.bbc_news()[:5]]
    texts = tmp_path / "headlines.txt"
    texts.write_text("\n".join(h.replace("\n", " ") for h in headlines) + "\n")
    done = ptm("zero-shot", folder, texts, "--labels", "sport, politics,tech")
    assert done.returncode == 0, done.stderr
    printed = [line.split("\t") for line in done.stdout.strip().splitlines()]
    expected = zero_shot_classify(
        GPT.from_pretrained(folder).eval(), bpe,
        texts.read_text().splitlines(), ["sport", "politics", "tech"],
    )  # fmt: skip
    assert len(printed) == 5
    for (label, probability), scores in zip(printed, expected, strict=True):
        assert label == max(scores, key=scores.get)
        assert float(probability) == pytest.approx(scores[label], abs=1e-4)
    done = ptm("zero-shot", folder, texts, "--labels", "sport")
    assert done.returncode == 1 and "at least two labels" in done.stderr


@pytest.mark.parametrize(
    "command",
    [("word2vec", "train"), ("word2vec", "similar"), ("word2vec", "analogy"),
     ("tokenizer", "train"), ("tokenize",), ("bert", "embed"), ("zero-shot",)],
)  # fmt: skip
def test_every_command_has_an_example_in_its_help(command):
    done = ptm(*command, "--help")
    assert done.returncode == 0 and f"example: ptm {' '.join(command)}" in done.stdout
