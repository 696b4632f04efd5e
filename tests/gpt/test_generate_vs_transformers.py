"""GPT forward and generate against transformers' GPT2LMHeadModel on the same random weights.

One small random GPT-2 is built and saved by transformers, then loaded by
ptm_fast; every comparison runs both on the same prompts with
``do_sample=False``: logits, loss and hidden states within 1e-4, and the same
token ids for greedy decoding and for beam search over a grid of settings
(with beam scores within 1e-4).
"""

import warnings

import pytest
import torch

from ptm_fast.gpt import GPT, GenerationConfig

transformers = pytest.importorskip("transformers")

VOCAB, POSITIONS = 100, 64
PROMPT_LENGTH = 6


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models: more threads only fight over a busy machine's cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def random_gpt2(n_positions: int = POSITIONS, eos: int | None = None):
    """A seeded random GPT2LMHeadModel; large initial weights give peaked, varied predictions."""
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        n_layer=2, n_head=2, n_embd=32, vocab_size=VOCAB, n_positions=n_positions,
        initializer_range=0.5, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
        bos_token_id=eos, eos_token_id=eos,
    )  # fmt: skip
    return transformers.GPT2LMHeadModel(config).eval()


def prompts(rows: int = 2, length: int = PROMPT_LENGTH, seed: int = 1) -> torch.Tensor:
    return torch.randint(1, VOCAB, (rows, length), generator=torch.Generator().manual_seed(seed))


def pick_eos(reference) -> int:
    """A token the model produces early in row 0 (its 4th) and not before: rows end early."""
    out = reference.generate(prompts(), max_new_tokens=8, do_sample=False, pad_token_id=0)
    generated = out[0, PROMPT_LENGTH:].tolist()
    return next(t for i, t in enumerate(generated) if i >= 3 and t not in generated[:i])


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """(transformers model, ptm_fast model, eos id), the EOS in both configs."""
    reference = random_gpt2()
    eos = pick_eos(reference)
    reference.config.eos_token_id = reference.config.bos_token_id = eos
    reference.generation_config.eos_token_id = reference.generation_config.bos_token_id = eos
    folder = tmp_path_factory.mktemp("gpt2")
    reference.save_pretrained(folder)
    ours = GPT.from_pretrained(folder).eval()
    assert ours.loading_info == {"missing": [], "unexpected": []}
    assert ours.config.eos_token_id == eos
    return reference, ours, eos


def both(pair, input_ids, **kwargs):
    """The same generate call on both models (greedy or beams, never sampled)."""
    reference, ours, eos = pair
    kwargs = {"eos_token_id": eos, "pad_token_id": eos, **kwargs}
    theirs = reference.generate(input_ids, do_sample=False, **kwargs)
    mine = ours.generate(input_ids, **kwargs)
    return mine, theirs


def assert_same_ids(mine, theirs):
    assert mine.shape == theirs.shape, (mine.shape, theirs.shape)
    assert torch.equal(mine, theirs), f"\nours   {mine.tolist()}\ntheirs {theirs.tolist()}"


def left_padded(pad: int):
    """Three prompts of 3, 6 and 5 tokens, left-padded with ``pad``, and their mask."""
    g = torch.Generator().manual_seed(4)
    rows = [torch.randint(1, VOCAB, (n,), generator=g) for n in (3, 6, 5)]
    ids = torch.full((3, 6), pad, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, row in enumerate(rows):
        ids[i, 6 - len(row) :] = row
        mask[i, 6 - len(row) :] = 1
    return ids, mask


# -- forward ---------------------------------------------------------------------


def test_forward_logits_loss_and_hidden_states_match(pair):
    reference, ours, _ = pair
    ids = prompts(3, 20, seed=2)
    labels = ids.clone()
    labels[0, :5] = -100
    with torch.no_grad():
        mine = ours(ids, labels=labels, output_hidden_states=True)
        theirs = reference(ids, labels=labels, output_hidden_states=True)
    torch.testing.assert_close(mine.logits, theirs.logits, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(mine.loss, theirs.loss, atol=1e-4, rtol=1e-4)
    assert len(mine.hidden_states) == len(theirs.hidden_states) == 3
    for a, b in zip(mine.hidden_states, theirs.hidden_states, strict=True):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)
    assert mine[0] is mine.loss and mine[1] is mine.logits  # outputs[0] is the loss with labels
    assert ours(ids)[0] is not None and torch.equal(ours(ids)[0], ours(ids).logits)


def test_forward_takes_transformers_positional_order_and_tuples(pair):
    reference, ours, _ = pair
    ids = prompts(2, 9, seed=3)
    mask = torch.ones_like(ids)
    types = torch.randint(0, VOCAB, ids.shape, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        # input_ids, past, attention_mask, token_type_ids: GPT-2 adds wte(token_type_ids).
        mine = ours(ids, None, mask, types, return_dict=False)
        theirs = reference(ids, None, mask, types, return_dict=False)
    assert isinstance(mine, tuple) and len(mine) == 2  # logits and the cache, as GPT-2
    torch.testing.assert_close(mine[0], theirs[0], atol=1e-4, rtol=1e-4)


def test_forward_with_the_cache_matches_the_whole_sequence(pair):
    reference, ours, _ = pair
    ids = prompts(2, 12, seed=6)
    with torch.no_grad():
        first = ours(ids[:, :8], use_cache=True)
        rest = ours(ids[:, 8:], past_key_values=first.past_key_values)
        whole = reference(ids).logits
    torch.testing.assert_close(rest.logits, whole[:, 8:], atol=1e-4, rtol=1e-4)
    assert len(rest.past_key_values) == 2 and rest.past_key_values[0].key.shape[2] == 12


def test_targets_keep_the_nanogpt_meaning(pair):
    _, ours, _ = pair
    ids = prompts(2, 10, seed=7)
    with torch.no_grad():
        shifted = ours(ids[:, :-1], targets=ids[:, 1:]).loss
        inside = ours(ids, labels=ids).loss
    torch.testing.assert_close(shifted, inside)
    with pytest.raises(ValueError, match=r"labels \(shifted inside\) or targets"):
        ours(ids, labels=ids, targets=ids)


# -- greedy ----------------------------------------------------------------------


def test_greedy_ids_match_and_rows_end_at_eos(pair):
    mine, theirs = both(pair, prompts(), max_new_tokens=15)
    assert_same_ids(mine, theirs)
    eos = pair[2]
    assert eos in mine[0, PROMPT_LENGTH:].tolist()  # row 0 ended early and was padded


def test_greedy_left_padded_batch_matches(pair):
    ids, mask = left_padded(pad=pair[2])
    mine, theirs = both(pair, ids, attention_mask=mask, max_new_tokens=12)
    assert_same_ids(mine, theirs)


@pytest.mark.parametrize(
    "settings",
    [
        {"max_length": 17},
        {"max_new_tokens": 12, "min_new_tokens": 9},
        {"max_length": 20, "min_length": 16},
        {"max_new_tokens": 12, "bad_words_ids": [[3], [7, 8]]},
        {"max_new_tokens": 12, "repetition_penalty": 1.5},
        {"max_new_tokens": 12, "no_repeat_ngram_size": 2},
    ],
)
def test_greedy_length_and_ban_settings_match(pair, settings):
    if "bad_words_ids" in settings:
        free = pair[1].generate(prompts(), max_new_tokens=12)[0, PROMPT_LENGTH:].tolist()
        settings = {**settings, "bad_words_ids": [[free[1]], free[3:5]]}  # tokens it would make
    mine, theirs = both(pair, prompts(), **settings)
    assert_same_ids(mine, theirs)


# -- beam search -----------------------------------------------------------------


@pytest.mark.parametrize("num_beams", [2, 4])
@pytest.mark.parametrize("early_stopping", [True, False, "never"])
@pytest.mark.parametrize("length_penalty", [0.6, 1.0, 2.0])
@pytest.mark.parametrize("no_repeat_ngram_size", [0, 2])
def test_beam_search_ids_and_scores_match(
    pair, num_beams, early_stopping, length_penalty, no_repeat_ngram_size
):
    settings = dict(
        num_beams=num_beams, early_stopping=early_stopping, length_penalty=length_penalty,
        no_repeat_ngram_size=no_repeat_ngram_size, num_return_sequences=2, max_new_tokens=10,
        return_dict_in_generate=True, output_scores=True,
    )  # fmt: skip
    mine, theirs = both(pair, prompts(), **settings)
    assert_same_ids(mine.sequences, theirs.sequences)
    torch.testing.assert_close(mine.sequences_scores, theirs.sequences_scores, atol=1e-4, rtol=0)
    # The first prompt's beams end at EOS before max_length and are padded; the second's do not.
    ended = (mine.sequences[:, PROMPT_LENGTH:] == pair[2]).any(dim=1)
    assert ended.tolist() == [True, True, False, False]


@pytest.mark.parametrize("num_beams", [2, 4])
def test_beam_search_left_padded_batch_matches(pair, num_beams):
    ids, mask = left_padded(pad=pair[2])
    mine, theirs = both(
        pair, ids, attention_mask=mask, num_beams=num_beams, num_return_sequences=2,
        max_new_tokens=10, no_repeat_ngram_size=2, return_dict_in_generate=True,
        output_scores=True,
    )  # fmt: skip
    assert_same_ids(mine.sequences, theirs.sequences)
    torch.testing.assert_close(mine.sequences_scores, theirs.sequences_scores, atol=1e-4, rtol=0)


@pytest.mark.parametrize(
    "settings",
    [
        {"max_length": 15},
        {"max_new_tokens": 10, "min_new_tokens": 8},
        {"max_length": 18, "min_length": 14},
        {"max_new_tokens": 10, "bad_words_ids": [[5], [9, 11]]},
        {"max_new_tokens": 10, "repetition_penalty": 1.3},
    ],
)
def test_beam_search_length_and_ban_settings_match(pair, settings):
    mine, theirs = both(pair, prompts(), num_beams=3, num_return_sequences=3, **settings)
    assert_same_ids(mine, theirs)


def test_one_beam_is_greedy_bit_for_bit(pair):
    _, ours, eos = pair
    ids, mask = left_padded(pad=eos)
    greedy = ours.generate(ids, attention_mask=mask, max_new_tokens=12, output_scores=True,
                           return_dict_in_generate=True)  # fmt: skip
    one = ours.generate(ids, attention_mask=mask, max_new_tokens=12, num_beams=1,
                        output_scores=True, return_dict_in_generate=True)  # fmt: skip
    assert torch.equal(greedy.sequences, one.sequences)
    assert all(torch.equal(a, b) for a, b in zip(greedy.scores, one.scores, strict=True))


def test_early_stopping_with_one_beam_does_nothing_and_warns(pair):
    _, ours, _ = pair
    plain = ours.generate(prompts(), max_new_tokens=8)
    with pytest.warns(UserWarning, match="only apply to beam search"):
        flagged = ours.generate(prompts(), max_new_tokens=8, early_stopping=True)
    assert torch.equal(plain, flagged)


def test_beam_search_reorders_the_cache_instead_of_recomputing(pair):
    _, ours, _ = pair
    fed = []
    hook = ours.transformer.wte.register_forward_hook(
        lambda m, args, out: fed.append(args[0].shape)
    )
    try:
        cached = ours.generate(prompts(), num_beams=4, max_new_tokens=10, min_new_tokens=10)
    finally:
        hook.remove()
    assert fed[0] == (8, PROMPT_LENGTH)  # the prompt once, for all 2 x 4 beams
    assert all(shape == (8, 1) for shape in fed[1:]) and len(fed) == 10
    uncached = ours.generate(prompts(), num_beams=4, max_new_tokens=10, min_new_tokens=10,
                             use_cache=False)  # fmt: skip
    assert torch.equal(cached, uncached)


def test_generation_config_object_and_keywords_combine(pair):
    _, ours, _ = pair
    config = GenerationConfig(num_beams=3, max_new_tokens=6)
    assert torch.equal(
        ours.generate(prompts(), config, no_repeat_ngram_size=2),
        ours.generate(prompts(), num_beams=3, max_new_tokens=6, no_repeat_ngram_size=2),
    )


# -- the transformers GPT-2 generation script ------------------------------------


def test_issue_generation_call_matches_transformers(tmp_path):
    """``model.generate(input_ids, max_length=100, num_return_sequences=1,
    no_repeat_ngram_size=2, early_stopping=True)``: the EOS and pad ids come
    from the saved config, as a script leaves them."""
    reference = random_gpt2(n_positions=128)
    eos = pick_eos(reference)
    reference.config.eos_token_id = reference.config.bos_token_id = eos
    reference.generation_config.eos_token_id = eos
    reference.save_pretrained(tmp_path)
    model = GPT.from_pretrained(tmp_path)
    input_ids = prompts(1, 8, seed=11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # transformers: "Setting pad_token_id to eos_token_id"
        theirs = reference.generate(input_ids, max_length=100, num_return_sequences=1,
                                    no_repeat_ngram_size=2, early_stopping=True)  # fmt: skip
    with pytest.warns(UserWarning, match="only apply to beam search"):  # as transformers
        output = model.generate(input_ids, max_length=100, num_return_sequences=1,
                                no_repeat_ngram_size=2, early_stopping=True)  # fmt: skip
    assert_same_ids(output, theirs)
