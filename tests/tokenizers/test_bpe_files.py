"""BPE files: vocab.json/merges.txt and tokenizer.json against HF tokenizers, training, errors."""

import base64
import json
import os

import pytest
import tokenizers

import ptm_fast
from ptm_fast import ByteLevelBPETokenizer, assets

from bpe_reference import corpus_lines, ours_gpt2, tiktoken_gpt2

EOT = "<|endoftext|>"


@pytest.fixture(scope="module")
def gpt2_files(tmp_path_factory):
    """GPT-2's vocab.json / merges.txt / tokenizer.json, written by our save_pretrained()."""
    directory = tmp_path_factory.mktemp("gpt2")
    ours_gpt2().save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def sample():
    return list(corpus_lines()[::7])


def hf_ids(tok, texts):
    return [e.ids for e in tok.encode_batch(texts)]


def test_saved_gpt2_files_give_tiktokens_ids_in_hf(gpt2_files, sample):
    want = tiktoken_gpt2().encode_ordinary_batch(sample)
    hf = tokenizers.ByteLevelBPETokenizer(
        str(gpt2_files / "vocab.json"), str(gpt2_files / "merges.txt")
    )
    assert hf_ids(hf, sample) == want
    assert (
        hf_ids(tokenizers.Tokenizer.from_file(str(gpt2_files / "tokenizer.json")), sample) == want
    )
    merges = (gpt2_files / "merges.txt").read_text(encoding="utf-8").splitlines()
    assert merges[0].startswith("#version") and merges[1] == "Ġ t"
    vocab = json.loads((gpt2_files / "vocab.json").read_text(encoding="utf-8"))
    assert vocab["Ġthe"] == 262 and vocab[EOT] == 50256 and len(vocab) == 50257


def test_from_files_and_tokenizer_json_equal_tiktoken(gpt2_files):
    lines = list(corpus_lines())
    want = tiktoken_gpt2().encode_ordinary_batch(lines, num_threads=2)
    from_files = ByteLevelBPETokenizer.from_files(
        gpt2_files / "vocab.json", gpt2_files / "merges.txt", special_tokens={EOT: 50256}
    )
    assert from_files.encode_ordinary_batch(lines) == want
    from_json = ByteLevelBPETokenizer.from_tokenizer_json(gpt2_files / "tokenizer.json")
    assert from_json.special_tokens == {EOT: 50256}
    assert from_json.encode_ordinary_batch(lines) == want
    text = f"a{EOT} b"
    assert from_json.encode(text, allowed_special="all") == [64, 50256, 275]


@pytest.fixture(scope="module")
def trained():
    lines = iter(corpus_lines())
    return ByteLevelBPETokenizer.train(texts=lines, vocab_size=3000, min_frequency=2)


def test_training_learns_a_full_vocabulary(trained):
    assert trained.vocab_size == 3000
    assert trained.special_tokens == {EOT: 0}
    assert trained.id_to_bytes(1) == b"\x00" and trained.id_to_bytes(256) == b"\xff"
    assert trained.id_to_token(1) == "Ā" and trained.id_to_token(0) == EOT
    assert len(trained.merges()) >= 3000 - 257
    assert trained.token_to_id(b" the") is not None
    text = "The government said on Tuesday that 😀 naïve"
    assert trained.decode(trained.encode(text)) == text
    assert len(trained.encode(" the")) == 1


def test_trained_files_round_trip_through_hf(trained, tmp_path, sample):
    paths = trained.save_pretrained(tmp_path)
    assert isinstance(paths, tuple) and all(isinstance(p, str) for p in paths)
    names = sorted(os.path.basename(p) for p in paths)
    assert names == ["merges.txt", "tokenizer.json", "vocab.json"]
    assert all(os.path.dirname(p) == str(tmp_path) for p in paths)
    assert sorted(p.name for p in tmp_path.iterdir()) == names
    want = trained.encode_ordinary_batch(sample)
    hf = tokenizers.ByteLevelBPETokenizer(
        str(tmp_path / "vocab.json"), str(tmp_path / "merges.txt")
    )
    assert hf_ids(hf, sample) == want
    hf_json = tokenizers.Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
    assert hf_ids(hf_json, sample) == want
    text = f"first{EOT}second"
    assert hf_json.encode(text).ids == trained.encode(text, allowed_special="all")
    again = ByteLevelBPETokenizer.from_tokenizer_json(tmp_path / "tokenizer.json")
    assert again.encode_ordinary_batch(sample) == want
    files = ByteLevelBPETokenizer.from_files(tmp_path / "vocab.json", tmp_path / "merges.txt")
    assert files.encode_ordinary_batch(sample) == want
    trained.save_pretrained(tmp_path)  # overwriting is fine and leaves no temporary files
    assert len(list(tmp_path.iterdir())) == 3
    assert not [p for p in tmp_path.parent.iterdir() if p.name.startswith(f".{tmp_path.name}")]


def test_save_into_a_file_path_fails_cleanly(trained, tmp_path):
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(OSError):
        trained.save_pretrained(blocker)
    with pytest.raises(OSError):
        trained.save_pretrained(blocker / "sub")
    assert blocker.read_text(encoding="utf-8") == "x"


def test_training_from_files_equals_training_from_lines(tmp_path):
    lines = list(corpus_lines()[:3000])
    (tmp_path / "a.txt").write_text("".join(f"{x}\n" for x in lines[:1500]), encoding="utf-8")
    (tmp_path / "b.txt").write_text("".join(f"{x}\n" for x in lines[1500:]), encoding="utf-8")
    kwargs = {"vocab_size": 600, "min_frequency": 2, "special_tokens": []}
    paths = [tmp_path / "a.txt", tmp_path / "b.txt"]
    from_files = ByteLevelBPETokenizer.train(files=paths, **kwargs)
    from_lines = ByteLevelBPETokenizer.train(texts=(f"{x}\n" for x in lines), **kwargs)
    assert from_files.merges() == from_lines.merges()
    assert from_files.special_tokens == {}
    again = ByteLevelBPETokenizer.train(texts=(f"{x}\n" for x in lines), **kwargs)
    assert again.merges() == from_lines.merges()


def test_min_frequency_stops_training():
    few = ByteLevelBPETokenizer.train(texts=iter(["ab ab ab cd"]), vocab_size=1000, min_frequency=3)
    assert few.merges() == [(few.token_to_id(b"a"), few.token_to_id(b"b"))]
    with pytest.raises(ValueError, match="smallest possible vocab_size is 257"):
        ByteLevelBPETokenizer.train(texts=iter(["x"]), vocab_size=100)
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        ByteLevelBPETokenizer.train(texts=iter(["ok", 3]), vocab_size=300)
    with pytest.raises(FileNotFoundError):
        ByteLevelBPETokenizer.train("/nonexistent/corpus.txt", vocab_size=300)


# --- errors -------------------------------------------------------------------


def write_ranks(path, lines):
    good = [f"{base64.b64encode(bytes([b])).decode()} {b}" for b in range(256)]
    path.write_text("\n".join(good + lines) + "\n", encoding="utf-8")
    return path


def test_missing_files_name_the_file(tmp_path):
    missing = tmp_path / "nope.tiktoken"
    with pytest.raises(FileNotFoundError) as info:
        ByteLevelBPETokenizer.from_tiktoken(missing)
    assert info.value.filename == str(missing)
    with pytest.raises(ValueError, match=r"vocab\.json"):  # MissingFileError is both
        ByteLevelBPETokenizer.from_files(tmp_path / "vocab.json", tmp_path / "merges.txt")
    with pytest.raises(ptm_fast.MissingFileError, match=r"tokenizer\.json"):
        ByteLevelBPETokenizer.from_tokenizer_json(tmp_path / "tokenizer.json")
    with pytest.raises(TypeError):
        ByteLevelBPETokenizer.from_tiktoken(3)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("!!!notbase64 256", "bad base64"),
        ("YWI= two", "not an integer"),
        ("YWI= -1", "not an integer"),
        ("YWI= 5", "rank 5 already given on line 6"),
        ("YWI= 256 extra", "3 fields"),
        ("AA== 256", "already given on line 1"),
    ],
)
def test_malformed_ranks_name_file_and_line(tmp_path, line, message):
    path = write_ranks(tmp_path / "bad.tiktoken", [line])
    with pytest.raises(ValueError, match=rf"bad\.tiktoken, line 257: .*{message}"):
        ByteLevelBPETokenizer.from_tiktoken(path)


def test_ranks_need_every_byte_and_free_special_ids(tmp_path):
    path = tmp_path / "short.tiktoken"
    path.write_text("YQ== 0\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"short\.tiktoken.*0x00"):
        ByteLevelBPETokenizer.from_tiktoken(path)
    path = write_ranks(tmp_path / "ok.tiktoken", ["YWI= 256"])
    with pytest.raises(ValueError, match="256"):
        ByteLevelBPETokenizer.from_tiktoken(path, special_tokens={EOT: 256})
    small = ByteLevelBPETokenizer.from_tiktoken(path, special_tokens={EOT: 257})
    assert small.encode("abab") == [256, 256]


def bad_merges(tmp_path, merges_text, vocab=None):
    vocab_path = tmp_path / "vocab.json"
    merges_path = tmp_path / "merges.txt"
    vocab_path.write_text(json.dumps(vocab or small_vocab()), encoding="utf-8")
    merges_path.write_text(merges_text, encoding="utf-8")
    return vocab_path, merges_path


def small_vocab():
    from ptm_fast._core import ByteLevelBpe  # noqa: F401 (the core is importable)

    chars = byte_chars()
    vocab = {chars[b]: b for b in range(256)}
    vocab["ab"] = 256
    return vocab


def byte_chars():
    keep = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    out, extra = {}, 0
    for b in range(256):
        if b in keep:
            out[b] = chr(b)
        else:
            out[b] = chr(256 + extra)
            extra += 1
    return out


def test_small_files_load(tmp_path):
    vocab, merges = bad_merges(tmp_path, "#version: 0.2\na b\n")
    bpe = ByteLevelBPETokenizer.from_files(vocab, merges)
    assert bpe.encode("ab abab") == [256, 32, 256, 256]


@pytest.mark.parametrize(
    ("merges", "line", "message"),
    [
        ("#version: 0.2\na b c\n", 2, "3 parts"),
        ("#version: 0.2\nab\n", 2, "1 parts"),
        ("#version: 0.2\na b\nq zz\n", 3, '"zz" is not in the vocabulary'),
        ("a b\nb a\n", 2, "merge of"),
    ],
)
def test_malformed_merges_name_file_and_line(tmp_path, merges, line, message):
    vocab, merges_path = bad_merges(tmp_path, merges)
    with pytest.raises(ValueError, match=rf"merges\.txt, line {line}: .*{message}"):
        ByteLevelBPETokenizer.from_files(vocab, merges_path)


def test_malformed_vocab(tmp_path):
    vocab, merges = bad_merges(tmp_path, "a b\n")
    vocab.write_text('{"a": 1,\n "b": }', encoding="utf-8")
    with pytest.raises(ValueError, match=r"vocab\.json, line 2: invalid JSON"):
        ByteLevelBPETokenizer.from_files(vocab, merges)
    vocab.write_text('{"a": "one"}', encoding="utf-8")
    with pytest.raises(ValueError, match=r"vocab\.json.*not a valid integer"):
        ByteLevelBPETokenizer.from_files(vocab, merges)
    vocab.write_text('{"a": 1, "b": 1}', encoding="utf-8")
    with pytest.raises(ValueError, match=r"vocab\.json.*same id 1"):
        ByteLevelBPETokenizer.from_files(vocab, merges)


def test_tokenizer_json_must_be_byte_level_bpe(tmp_path, gpt2_files):
    data = json.loads((gpt2_files / "tokenizer.json").read_text(encoding="utf-8"))
    path = tmp_path / "tokenizer.json"
    wordpiece = {**data, "model": {**data["model"], "type": "WordPiece"}}
    path.write_text(json.dumps(wordpiece), encoding="utf-8")
    with pytest.raises(ValueError, match="WordPiece, not BPE"):
        ByteLevelBPETokenizer.from_tokenizer_json(path)
    whitespace = {**data, "pre_tokenizer": {"type": "Whitespace"}}
    path.write_text(json.dumps(whitespace), encoding="utf-8")
    with pytest.raises(ValueError, match="not ByteLevel"):
        ByteLevelBPETokenizer.from_tokenizer_json(path)
    broken = {**data, "model": {**data["model"], "merges": ["Ġ t", "Ġ t x"]}}
    path.write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(ValueError, match=r"tokenizer\.json, line 2"):
        ByteLevelBPETokenizer.from_tokenizer_json(path)
    pairs = {**data, "model": {**data["model"], "merges": [["Ġ", "t"], ["h", "e"]]}}
    path.write_text(json.dumps(pairs), encoding="utf-8")
    assert ByteLevelBPETokenizer.from_tokenizer_json(path).encode(" t he") == [256, 220, 258]


def test_ranks_asset_is_gpt2():
    assert assets.gpt2_ranks_path().name == "gpt2.tiktoken"


def test_files_trained_by_hf_load_with_hfs_ids(tmp_path, sample):
    hf = tokenizers.ByteLevelBPETokenizer()
    hf.train_from_iterator(
        corpus_lines()[:4000], vocab_size=1500, min_frequency=2, special_tokens=[EOT, "<pad>"]
    )
    hf.save(str(tmp_path / "tokenizer.json"))
    hf.save_model(str(tmp_path))
    want = hf_ids(hf, sample)
    from_json = ByteLevelBPETokenizer.from_tokenizer_json(tmp_path / "tokenizer.json")
    assert from_json.special_tokens == {EOT: 0, "<pad>": 1}
    assert from_json.encode_ordinary_batch(sample) == want
    text = f"one<pad>two{EOT}"
    assert from_json.encode(text, allowed_special="all") == hf.encode(text).ids
    from_files = ByteLevelBPETokenizer.from_files(
        tmp_path / "vocab.json", tmp_path / "merges.txt", special_tokens={EOT: 0, "<pad>": 1}
    )
    assert from_files.encode_ordinary_batch(sample) == want


def test_from_pretrained_reads_every_form(gpt2_files, tmp_path):
    want = ours_gpt2().encode(f"Hello{EOT} world", allowed_special="all")
    ranks = ByteLevelBPETokenizer.from_pretrained(assets.gpt2_ranks_path(), {EOT: 50256})
    folder = ByteLevelBPETokenizer.from_pretrained(gpt2_files)
    json_file = ByteLevelBPETokenizer.from_pretrained(gpt2_files / "tokenizer.json")
    for name in ("vocab.json", "merges.txt"):
        (tmp_path / name).write_bytes((gpt2_files / name).read_bytes())
    files = ByteLevelBPETokenizer.from_pretrained(tmp_path, {EOT: 50256})
    for tok in (ranks, folder, json_file, files):
        assert tok.encode(f"Hello{EOT} world", allowed_special="all") == want
        assert tok.special_tokens == {EOT: 50256}
    (tmp_path / "merges.txt").unlink()
    with pytest.raises(ptm_fast.MissingFileError, match=r"merges\.txt"):
        ByteLevelBPETokenizer.from_pretrained(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ptm_fast.MissingFileError, match=r"no tokenizer\.json"):
        ByteLevelBPETokenizer.from_pretrained(tmp_path / "empty")
    with pytest.raises(ptm_fast.MissingFileError):
        ByteLevelBPETokenizer.from_pretrained(tmp_path / "nothing.tiktoken")
