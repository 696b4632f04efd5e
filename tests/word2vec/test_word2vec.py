"""Word2Vec: the Rust pipeline seen from Python, the trainer, the API, files, bad input."""

import math
import re
import subprocess
import sys

import numpy as np
import pytest

import ptm_fast
from ptm_fast import KeyedVectors, Word2Vec, _core, assets

TOPIC_A = ["cat", "dog", "pet", "fur", "paw", "tail", "kitten", "puppy"]
TOPIC_B = ["stock", "bank", "money", "loan", "price", "trade", "market", "profit"]


def topic_sentences(n=3000, seed=0):
    """Two topics that never share a sentence."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        topic = TOPIC_A if k % 2 == 0 else TOPIC_B
        out.append([topic[i] for i in rng.integers(0, len(topic), size=10)])
    return out


def small_model(**kw):
    params = dict(vector_size=16, window=3, min_count=1, epochs=2, workers=1, seed=3, sample=0)
    params.update(kw)
    return Word2Vec(topic_sentences(), **params)


# -- the pipeline -----------------------------------------------------------------


def test_vocab_counts_min_count_max_size_and_stable_ties():
    sentences = [["b", "a", "c", "a"], ["d", "b", "a"], ["e"]]
    model = Word2Vec(vector_size=4, min_count=1)
    model.build_vocab(sentences)
    assert model.wv.index_to_key == ["a", "b", "c", "d", "e"]
    assert list(model.wv.counts) == [3, 2, 1, 1, 1]
    assert model.corpus_total_words == 8
    model = Word2Vec(vector_size=4, min_count=2)
    model.build_vocab(sentences)
    assert model.wv.index_to_key == ["a", "b"]
    model = Word2Vec(vector_size=4, min_count=1, max_vocab_size=3)
    model.build_vocab(sentences)
    assert model.wv.index_to_key == ["a", "b", "c"]


def test_file_and_sentences_give_the_same_vocab_and_the_same_vectors(tmp_path):
    sentences = topic_sentences(800)
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(" ".join(s) for s in sentences) + "\n", encoding="utf-8")
    kw = dict(vector_size=8, window=2, min_count=1, epochs=2, workers=1, seed=5, sample=1e-2)
    a = Word2Vec(sentences, **kw)
    b = Word2Vec(corpus_file=path, **kw)
    assert a.wv.index_to_key == b.wv.index_to_key
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)


def test_subsampling_keep_rates_follow_the_formula():
    # Zipf-like counts; the effective words of one epoch estimate sum(c * keep(c)).
    rng = np.random.default_rng(1)
    words = [f"w{i}" for i in range(200)]
    weights = 1.0 / np.arange(1, 201)
    draws = rng.choice(200, size=200_000, p=weights / weights.sum())
    sentences = [[words[i] for i in draws[k : k + 20]] for k in range(0, len(draws), 20)]
    sample = 1e-3
    model = Word2Vec(vector_size=4, min_count=1, sample=sample, epochs=1, workers=2)
    model.build_vocab(sentences)
    counts = model.wv.counts.astype(float)
    t = sample * counts.sum()
    keep = np.minimum(1.0, (np.sqrt(counts / t) + 1) * t / counts)
    expected = float((counts * keep).sum())
    sd = math.sqrt(float((counts * keep * (1 - keep)).sum()))
    effective, total = model.train(sentences)
    assert total == len(draws)
    assert abs(effective - expected) < 5 * sd + 1, (effective, expected, sd)


def test_noise_draws_follow_count_to_the_075():
    rng = np.random.default_rng(2)
    counts = {f"w{i}": c for i, c in enumerate([4000, 1500, 700, 300, 120, 60, 30, 12])}
    tokens = [w for w, c in counts.items() for _ in range(c)]
    rng.shuffle(tokens)
    sentences = [tokens[k : k + 10] for k in range(0, len(tokens), 10)]
    model = Word2Vec(vector_size=4, min_count=1)
    model.build_vocab(sentences)
    builder = _core.Word2VecCorpusBuilder(model._vocab)
    builder.add(sentences)
    corpus = builder.finish()
    batcher = _core.Word2VecBatcher(
        corpus, model._counts, sg=True, window=2, negative=5, sample=0.0,
        ns_exponent=0.75, seed=1, epochs=1,
    )  # fmt: skip
    batcher.start_epoch(0)
    c = np.array(model._counts, dtype=float)
    p = c**0.75 / (c**0.75).sum()
    observed = np.zeros(len(c))
    expected = np.zeros(len(c))
    while (batch := batcher.next_batch(4096)) is not None:
        targets, negatives = np.asarray(batch[1]), np.asarray(batch[2])
        observed += np.bincount(negatives.ravel(), minlength=len(c))
        # A draw equal to the target is redrawn (up to 8 times), so for target t
        # word i != t comes out with p_i (1 - p_t^9) / (1 - p_t), and t with p_t^9.
        per_target = np.bincount(targets, minlength=len(c)) * negatives.shape[1]
        for t, n in enumerate(per_target):
            q = p * (1 - p[t] ** 9) / (1 - p[t])
            q[t] = p[t] ** 9
            expected += n * q
    assert observed.sum() > 50_000
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    assert chi2 < 24.3, chi2  # 7 degrees of freedom, 0.999 quantile


def test_pairs_stay_in_sentence_and_window_and_batches_are_views():
    words = [f"w{i}" for i in range(100)]
    sentences = [words[10 * s : 10 * s + 3 + s % 7] for s in range(10)]
    model = Word2Vec(vector_size=4, min_count=1)
    model.build_vocab(sentences)
    sid = {model.wv.key_to_index[w]: int(w[1:]) for w in model.wv.index_to_key}
    builder = _core.Word2VecCorpusBuilder(model._vocab)
    builder.add(sentences)
    corpus = builder.finish()
    for sg in (True, False):
        batcher = _core.Word2VecBatcher(
            corpus, model._counts, sg=sg, window=3, negative=2, sample=0.0,
            ns_exponent=0.75, seed=1, epochs=1,
        )  # fmt: skip
        batcher.start_epoch(0)
        n = 0
        while (batch := batcher.next_batch(16)) is not None:
            arrays = [np.asarray(a) for a in batch[:-1]]
            assert all(isinstance(a.base, _core.Array) for a in arrays)  # no copy
            if sg:
                inputs, targets, _ = arrays
                pairs = zip(inputs.tolist(), targets.tolist(), strict=True)
                for x, t in pairs:
                    assert sid[x] // 10 == sid[t] // 10 and 0 < abs(sid[x] - sid[t]) <= 3
            else:
                contexts, lengths, targets, _ = arrays
                for row, length, t in zip(contexts, lengths, targets, strict=True):
                    for x in row[:length]:
                        assert sid[x] // 10 == sid[t] // 10 and 0 < abs(sid[x] - sid[t]) <= 3
                    assert (row[length:] == len(model.wv)).all()
            n += len(arrays[-2])
        assert n > 0


# -- training -----------------------------------------------------------------------


@pytest.mark.parametrize("sg", [0, 1])
def test_related_words_end_closer(sg):
    model = small_model(sg=sg, epochs=3)
    wv = model.wv
    assert wv.similarity("cat", "dog") > wv.similarity("cat", "bank") + 0.3
    top = [w for w, _ in wv.most_similar("money", topn=5)]
    assert set(top) <= set(TOPIC_B)
    assert wv.doesnt_match(["cat", "dog", "pet", "loan"]) == "loan"


def topic_gap(wv, size):
    """Mean similarity to a same-topic word minus that to an other-topic word."""
    gaps = [
        wv.similarity(f"a{i}", f"a{(i + 1) % size}") - wv.similarity(f"a{i}", f"b{i}")
        for i in range(50)
    ]
    return float(np.mean(gaps))


@pytest.mark.parametrize("sg", [0, 1])
def test_two_workers_learn_as_well_as_one(sg):
    # Hogwild needs sparse updates: on a vocabulary this size (not the 16
    # words above, where every update collides) two threads lose nothing.
    size = 1000
    rng = np.random.default_rng(0)
    topics = [[f"a{i}" for i in range(size)], [f"b{i}" for i in range(size)]]
    sentences = [[topics[k % 2][i] for i in rng.integers(0, size, 10)] for k in range(40000)]
    kw = dict(vector_size=16, window=3, min_count=1, epochs=3, seed=1, sample=0, sg=sg)
    one = topic_gap(Word2Vec(sentences, workers=1, **kw).wv, size)
    two = topic_gap(Word2Vec(sentences, workers=2, **kw).wv, size)
    assert one > 0.5
    assert two > one - 0.05


def test_same_seed_same_vectors_with_one_thread():
    a, b, c = small_model(seed=7), small_model(seed=7), small_model(seed=8)
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)
    np.testing.assert_array_equal(a.syn1neg, b.syn1neg)
    assert not np.array_equal(a.wv.vectors, c.wv.vectors)


def test_build_vocab_then_train_and_loss_and_progress_bar(capsys):
    model = Word2Vec(vector_size=8, min_count=1, epochs=1, compute_loss=True, progress=True)
    sentences = topic_sentences(500)
    model.build_vocab(sentences)
    effective, words = model.train(sentences)
    assert words == 5000 and 0 < effective <= words
    assert model.get_latest_training_loss() > 0
    err = capsys.readouterr().err
    assert "words/s" in err and "lr " in err and "loss" in err


def test_real_corpus_related_words_are_closer():
    """Trained on the BBC news articles (about 0.9M words): a few seconds."""
    sentences = [
        s
        for _, text in assets.bbc_news()
        for line in text.splitlines()
        if (s := assets.words_of(line))
    ]
    model = Word2Vec(sentences, vector_size=50, window=5, min_count=5, sg=1, epochs=3, sample=1e-3)
    wv = model.wv
    for a, b, unrelated in [
        ("chelsea", "arsenal", "shares"),
        ("profits", "earnings", "film"),
        ("labour", "tory", "album"),
        ("film", "actor", "bank"),
        ("mobile", "phone", "minister"),
    ]:
        assert wv.similarity(a, b) > wv.similarity(a, unrelated) + 0.1, (a, b, unrelated)


# -- KeyedVectors against gensim -----------------------------------------------------


@pytest.fixture(scope="module")
def trained():
    return small_model(sg=1, epochs=2)


@pytest.mark.parametrize("binary", [False, True])
def test_gensim_loads_ours_and_we_load_gensims(tmp_path, trained, binary):
    gensim_models = pytest.importorskip("gensim.models")
    ours = tmp_path / "ours.vec"
    trained.wv.save_word2vec_format(ours, binary=binary)
    theirs = gensim_models.KeyedVectors.load_word2vec_format(str(ours), binary=binary)
    assert theirs.index_to_key == trained.wv.index_to_key
    np.testing.assert_array_equal(theirs.vectors, trained.wv.vectors)

    g = gensim_models.Word2Vec(topic_sentences(300), vector_size=12, min_count=1, epochs=1)
    path = tmp_path / "gensim.vec"
    g.wv.save_word2vec_format(str(path), binary=binary)
    back = KeyedVectors.load_word2vec_format(path, binary=binary)
    assert back.index_to_key == g.wv.index_to_key
    np.testing.assert_array_equal(back.vectors, g.wv.vectors)


def test_queries_and_evaluations_agree_with_gensim(tmp_path, trained):
    gensim_models = pytest.importorskip("gensim.models")
    path = tmp_path / "v.txt"
    trained.wv.save_word2vec_format(path)
    g = gensim_models.KeyedVectors.load_word2vec_format(str(path))
    ours = trained.wv
    got = ours.most_similar(positive=["cat", "money"], negative=["dog"], topn=5)
    want = g.most_similar(positive=["cat", "money"], negative=["dog"], topn=5)
    assert [w for w, _ in got] == [w for w, _ in want]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in want], atol=1e-5)
    assert ours.similarity("cat", "pet") == pytest.approx(g.similarity("cat", "pet"), abs=1e-5)
    assert ours.doesnt_match(["cat", "dog", "loan"]) == g.doesnt_match(["cat", "dog", "loan"])

    analogies = tmp_path / "analogies.txt"
    analogies.write_text(
        ": animals\ncat kitten dog puppy\ncat dog kitten puppy\npet fur paw tail\n"
        ": money\nbank loan stock trade\nmoney price market profit\nbank unknownword a b\n"
    )
    score, sections = ours.evaluate_word_analogies(analogies)
    g_score, g_sections = g.evaluate_word_analogies(str(analogies))
    assert score == pytest.approx(g_score)
    assert [len(s["correct"]) for s in sections] == [len(s["correct"]) for s in g_sections]
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text(
        "# comment\ncat\tdog\t9\ncat\tbank\t1\nmoney\tloan\t8\npet\tprice\t2\nx\ty\t3\n"
    )
    (r, _), (rho, _), oov = ours.evaluate_word_pairs(pairs)
    g_r, g_rho, g_oov = g.evaluate_word_pairs(str(pairs))
    assert r == pytest.approx(g_r.statistic, abs=1e-5)
    assert rho == pytest.approx(g_rho.statistic, abs=1e-5)
    assert oov == pytest.approx(g_oov)


def test_model_save_load_round_trips_everything(tmp_path, trained):
    path = tmp_path / "m.w2v"
    trained.save(path)
    back = Word2Vec.load(path)
    np.testing.assert_array_equal(back.wv.vectors, trained.wv.vectors)
    np.testing.assert_array_equal(back.syn1neg, trained.syn1neg)
    assert back.wv.index_to_key == trained.wv.index_to_key
    np.testing.assert_array_equal(back.wv.counts, trained.wv.counts)
    for name in Word2Vec._PARAMS:
        assert getattr(back, name) == getattr(trained, name), name
    assert list(tmp_path.iterdir()) == [path]  # no temp file left behind
    back.train(topic_sentences(100), epochs=1)  # trains on
    assert not np.array_equal(back.wv.vectors, trained.wv.vectors)


# -- bad input ---------------------------------------------------------------------


def test_empty_corpus_and_min_count_errors(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        Word2Vec([[]], min_count=1)
    with pytest.raises(ValueError, match="empty"):
        Word2Vec([], min_count=1)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(ValueError, match="empty"):
        Word2Vec(corpus_file=empty)
    with pytest.raises(ValueError, match="min_count=5"):
        Word2Vec([["a", "b"], ["a"]], min_count=5)


def test_wrong_sentence_types_and_parameters():
    with pytest.raises(TypeError, match="restartable"):
        Word2Vec(s for s in topic_sentences(10))
    with pytest.raises(TypeError, match="list of words"):
        Word2Vec(["a sentence as a string"], min_count=1)
    with pytest.raises(ValueError, match="window"):
        Word2Vec(window=0)
    with pytest.raises(ValueError, match="backend"):
        Word2Vec(backend="numpy")
    with pytest.raises(ValueError, match="negative"):
        small_model(negative=1000)
    with pytest.raises(RuntimeError, match="build the vocabulary"):
        Word2Vec().train(topic_sentences(5))
    with pytest.raises(ValueError, match="window must be at most 10000"):
        small_model(window=100_000)
    with pytest.raises(MemoryError):
        _core.FloatMatrix(2**40, 2**40)


def test_unknown_word_raises_key_error_naming_it(trained):
    with pytest.raises(KeyError, match="'zebra'"):
        trained.wv.most_similar(positive=["cat", "zebra"])
    with pytest.raises(KeyError, match="'unicorn'"):
        trained.wv["unicorn"]


@pytest.mark.parametrize("binary", [False, True])
def test_truncated_vector_file_names_the_line(tmp_path, trained, binary):
    path = tmp_path / "v.bin"
    trained.wv.save_word2vec_format(path, binary=binary)
    data = path.read_bytes()
    cut = tmp_path / "cut.bin"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(ValueError, match=r"line \d+"):
        KeyedVectors.load_word2vec_format(cut, binary=binary)
    bad = tmp_path / "bad.txt"
    bad.write_text("3 2\na 1 2\nb 1\nc 1 2\n")
    with pytest.raises(ValueError, match="line 3"):
        KeyedVectors.load_word2vec_format(bad)


def test_bad_utf8_in_corpus_file_names_the_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"a b c\na \xff b\n")
    with pytest.raises(ValueError, match="line 2"):
        Word2Vec(corpus_file=path, min_count=1)


def test_corpus_file_missing():
    with pytest.raises(FileNotFoundError):
        Word2Vec(corpus_file="/no/such/ptm_fast_corpus.txt")


def test_ctrl_c_does_not_crash_the_interpreter():
    code = (
        "import ptm_fast, numpy as np\n"
        "s=[[f'w{i%50}' for i in range(k, k+20)] for k in range(20000)]\n"
        "m=ptm_fast.Word2Vec(vector_size=8, min_count=1, epochs=50)\n"
        "m.build_vocab(s)\n"
        "import threading, _thread\n"
        "threading.Timer(0.3, _thread.interrupt_main).start()\n"
        "try:\n    m.train(s)\nexcept KeyboardInterrupt:\n    print('interrupted')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "interrupted" in done.stdout


def test_public_names_have_docstrings():
    for obj in [ptm_fast.Word2Vec, ptm_fast.KeyedVectors]:
        assert obj.__doc__
        for name, member in vars(obj).items():
            if callable(member) and not name.startswith("_"):
                assert member.__doc__, f"{obj.__name__}.{name}"
    assert re.search("Word2Vec", ptm_fast.word2vec.__doc__)


# -- the torch backend --------------------------------------------------------------


@pytest.mark.parametrize("sg", [1, 0])
def test_torch_backend_learns_the_topics(sg):
    pytest.importorskip("torch")
    # 16 words: a batch repeats each word many times, so keep batches small here.
    model = Word2Vec(
        topic_sentences(1000), vector_size=16, window=3, min_count=1, sg=sg, epochs=3, sample=0,
        backend="torch", batch_size=512 if sg else 64, compute_loss=True, seed=3,
    )  # fmt: skip
    wv = model.wv
    assert wv.similarity("cat", "dog") > wv.similarity("cat", "bank") + 0.3
    assert model.get_latest_training_loss() > 0
    assert model.train_report["backend"] == "torch"


def test_torch_module_loss_matches_the_formula():
    torch = pytest.importorskip("torch")
    from ptm_fast.word2vec.torch_backend import NegativeSamplingWord2Vec

    rng = np.random.default_rng(0)
    module = NegativeSamplingWord2Vec(10, 4)
    inp, out = (
        rng.normal(size=(10, 4)).astype(np.float32),
        rng.normal(size=(10, 4)).astype(np.float32),
    )
    module.load_vectors(inp, out)
    x, t, negs = torch.tensor([1, 2]), torch.tensor([3, 4]), torch.tensor([[5, 6], [7, 8]])
    loss = module(x, t, negs).item()

    def log_sigmoid(z):
        return -np.log1p(np.exp(-z))

    want = 0.0
    for k in range(2):
        h = inp[x[k]]
        want -= log_sigmoid(h @ out[t[k]]) + sum(log_sigmoid(-(h @ out[n])) for n in negs[k])
    assert loss == pytest.approx(want, rel=1e-5)


def test_parameters_are_checked_by_the_shared_checks():
    with pytest.raises(TypeError, match="vector_size must be an int, got float"):
        Word2Vec(vector_size=10.5)
    with pytest.raises(ValueError, match="min_count must be at least 0, got -1"):
        Word2Vec(min_count=-1)
    with pytest.raises(ValueError, match="workers must be at most 1024"):
        Word2Vec(workers=10**6)
    with pytest.raises(ValueError, match="min_alpha must be in"):
        Word2Vec(alpha=0.01, min_alpha=0.02)
    with pytest.raises(ValueError, match="sample must be finite"):
        Word2Vec(sample=float("nan"))


def test_progress_in_a_log_is_a_few_lines_not_one_per_update(capsys):
    model = Word2Vec(vector_size=8, min_count=1, epochs=3, workers=1, progress=True)
    model.build_vocab(topic_sentences(2000))
    model.train(topic_sentences(2000))
    lines = capsys.readouterr().err.splitlines()
    assert 1 <= len(lines) <= 11 and all("words/s" in line for line in lines)
    assert lines[-1].startswith("word2vec cbow (rust) 60000/60000 words"), lines[-1]
