"""GPT: checkpoint parity with transformers, cached and batched generation, decoding rules."""

import pytest
import torch

from ptm_fast.gpt import GPT, GPTConfig
from ptm_fast.gpt.generation import banned_next_tokens

transformers = pytest.importorskip("transformers")


def small_config(**kw) -> GPTConfig:
    values = dict(vocab_size=97, n_positions=48, n_embd=32, n_layer=2, n_head=2,
                  resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)  # fmt: skip
    return GPTConfig(**{**values, **kw})


def hf_model(tmp_path, seed=0, **shape):
    """A random transformers GPT2LMHeadModel, saved to ``tmp_path``."""
    torch.manual_seed(seed)
    values = dict(vocab_size=97, n_positions=48, n_embd=32, n_layer=2, n_head=2,
                  resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)  # fmt: skip
    config = transformers.GPT2Config(**{**values, **shape})
    model = transformers.GPT2LMHeadModel(config).eval()
    model.save_pretrained(tmp_path)
    return model


def test_transformers_checkpoint_loads_with_the_same_logits(tmp_path):
    reference = hf_model(tmp_path)
    ours = GPT.from_pretrained(tmp_path).eval()
    assert ours.loading_info == {"missing": [], "unexpected": []}
    ids = torch.randint(0, 97, (3, 20), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(ours(ids).logits, reference(ids).logits, atol=1e-4, rtol=1e-4)


def test_ours_saved_loads_into_transformers_with_the_same_logits(tmp_path):
    torch.manual_seed(3)
    ours = GPT(small_config()).eval()
    ours.save_pretrained(tmp_path)
    reference = transformers.GPT2LMHeadModel.from_pretrained(str(tmp_path)).eval()
    ids = torch.randint(0, 97, (2, 31), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        torch.testing.assert_close(ours(ids).logits, reference(ids).logits, atol=1e-4, rtol=1e-4)


def test_left_padded_logits_equal_transformers(tmp_path):
    reference = hf_model(tmp_path)
    ours = GPT.from_pretrained(tmp_path).eval()
    ids = torch.randint(0, 97, (2, 12), generator=torch.Generator().manual_seed(5))
    mask = torch.ones_like(ids)
    mask[1, :4] = 0
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        mine = ours(ids, attention_mask=mask).logits
        theirs = reference(ids, attention_mask=mask, position_ids=positions).logits
    real = mask.bool()
    torch.testing.assert_close(mine[real], theirs[real], atol=1e-4, rtol=1e-4)


def test_wrong_shape_names_the_tensor(tmp_path):
    hf_model(tmp_path)
    with pytest.raises(ValueError, match=r"'transformer\.wpe\.weight' has shape \(48, 32\)"):
        GPT.from_pretrained(tmp_path, n_positions=64)


def test_loss_is_the_mean_next_token_nll():
    torch.manual_seed(0)
    model = GPT(small_config()).eval()
    ids = torch.randint(0, 97, (2, 10))
    targets = torch.roll(ids, -1, dims=1)
    targets[:, -1] = -100
    out = model(ids, targets=targets)
    logp = torch.log_softmax(out.logits, -1)
    manual = -logp[:, :-1].gather(-1, targets[:, :-1, None]).mean()
    torch.testing.assert_close(out.loss, manual)


def test_cached_generation_equals_uncached():
    torch.manual_seed(1)
    model = GPT(small_config())
    prompt = torch.randint(0, 97, (2, 5), generator=torch.Generator().manual_seed(3))
    cached = model.generate(prompt, max_new_tokens=15, use_cache=True)
    uncached = model.generate(prompt, max_new_tokens=15, use_cache=False)
    assert torch.equal(cached, uncached)
    assert cached.shape == (2, 20) and torch.equal(cached[:, :5], prompt)


def test_batched_left_padded_generation_equals_one_by_one():
    torch.manual_seed(2)
    model = GPT(small_config())
    g = torch.Generator().manual_seed(4)
    prompts = [torch.randint(0, 97, (n,), generator=g) for n in (3, 7, 5)]
    width = max(len(p) for p in prompts)
    batch = torch.zeros(len(prompts), width, dtype=torch.long)
    mask = torch.zeros_like(batch)
    for row, p in enumerate(prompts):
        batch[row, width - len(p) :] = p
        mask[row, width - len(p) :] = 1
    together = model.generate(batch, max_new_tokens=10, attention_mask=mask)
    for row, p in enumerate(prompts):
        alone = model.generate(p[None], max_new_tokens=10)
        assert torch.equal(together[row, width:], alone[0, len(p) :]), row


def test_no_repeat_ngram_never_repeats_a_bigram():
    torch.manual_seed(0)
    model = GPT(small_config(vocab_size=12))
    out = model.generate(torch.tensor([[1, 2, 3]]), max_new_tokens=40, no_repeat_ngram_size=2)[0]
    bigrams = list(zip(out[:-1].tolist(), out[1:].tolist(), strict=True))
    assert len(bigrams) == len(set(bigrams))


def test_banned_tokens_complete_seen_ngrams():
    assert banned_next_tokens([1, 2, 3, 1, 2], 3) == {3}
    assert banned_next_tokens([5, 5], 2) == {5}
    assert banned_next_tokens([1, 2], 3) == set()


def test_generation_stops_rows_at_eos():
    torch.manual_seed(0)
    model = GPT(small_config())
    prompt = torch.randint(0, 97, (3, 4), generator=torch.Generator().manual_seed(9))
    free = model.generate(prompt, max_new_tokens=12)
    eos = int(free[0, 6])  # the token row 0 produces third
    stopped = model.generate(prompt, max_new_tokens=12, eos_token_id=eos, pad_token_id=0)
    row = stopped[0, 4:].tolist()
    cut = row.index(eos)
    assert all(t == 0 for t in row[cut + 1 :])


def test_sampling_respects_top_k_and_is_seeded():
    torch.manual_seed(0)
    model = GPT(small_config())
    prompt = torch.tensor([[1, 2, 3]])
    first = model.generate(
        prompt, max_new_tokens=20, do_sample=True, top_k=1,
        generator=torch.Generator().manual_seed(0),
    )  # fmt: skip
    greedy = model.generate(prompt, max_new_tokens=20)
    assert torch.equal(first, greedy)  # top_k=1 sampling is greedy
    a = model.generate(prompt, max_new_tokens=20, do_sample=True, top_p=0.9,
                       generator=torch.Generator().manual_seed(5))  # fmt: skip
    b = model.generate(prompt, max_new_tokens=20, do_sample=True, top_p=0.9,
                       generator=torch.Generator().manual_seed(5))  # fmt: skip
    assert torch.equal(a, b)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"input_ids": torch.zeros(1, 0, dtype=torch.long)}, "empty"),
        ({"input_ids": torch.zeros(1, 49, dtype=torch.long)}, "more than the context"),
        ({"max_new_tokens": 100}, "exceed the context"),
        ({"top_p": 0.0}, "top_p"),
        ({"top_p": 1.5}, "top_p"),
        ({"temperature": 0.0}, "temperature"),
    ],
)
def test_bad_generation_arguments(kwargs, message):
    model = GPT(small_config())
    args = {"input_ids": torch.tensor([[1, 2]]), "max_new_tokens": 5, **kwargs}
    with pytest.raises(ValueError, match=message):
        model.generate(**args)


class CharTokenizer:
    """One token per character: enough to test the scoring arithmetic."""

    def encode(self, text):
        return [ord(c) % 97 for c in text]


def test_zero_shot_scores_are_the_label_log_likelihoods():
    from ptm_fast.gpt.zero_shot import label_scores, zero_shot_classify

    torch.manual_seed(0)
    model = GPT(small_config()).eval()
    tok = CharTokenizer()
    scores = label_scores(model, tok, "abc", ["xy", "z"], "{text} is {label}.")
    context, label = tok.encode("abc is "), tok.encode("xy.")
    with torch.no_grad():
        logp = torch.log_softmax(model(torch.tensor([context + label])).logits[0], -1)
    expected = sum(logp[len(context) - 1 + i, t] for i, t in enumerate(label))
    assert float(scores[0]) == pytest.approx(float(expected), abs=1e-4)
    result = zero_shot_classify(model, tok, ["abc"], ["xy", "z"], "{text} is {label}.")
    assert sum(result[0].values()) == pytest.approx(1.0)
    assert (result[0]["xy"] > result[0]["z"]) == bool(scores[0] > scores[1])


def test_zero_shot_template_must_hold_both_fields():
    from ptm_fast.gpt.zero_shot import zero_shot_classify

    with pytest.raises(ValueError, match="template"):
        zero_shot_classify(GPT(small_config()), CharTokenizer(), ["a"], ["b", "c"], "{label}")


def test_channel_form_scores_the_text_given_the_label():
    from ptm_fast.gpt.zero_shot import label_scores

    torch.manual_seed(0)
    model = GPT(small_config()).eval()
    tok = CharTokenizer()
    scores = label_scores(model, tok, "abc", ["xy", "z"], "{label}: {text}")
    context, text = tok.encode("z: "), tok.encode("abc")
    with torch.no_grad():
        logp = torch.log_softmax(model(torch.tensor([context + text])).logits[0], -1)
    expected = sum(logp[len(context) - 1 + i, t] for i, t in enumerate(text))
    assert float(scores[1]) == pytest.approx(float(expected), abs=1e-4)


def test_calibration_subtracts_the_content_free_scores():
    from ptm_fast.gpt.zero_shot import label_scores, zero_shot_classify

    torch.manual_seed(0)
    model = GPT(small_config()).eval()
    tok, template = CharTokenizer(), "{text} is {label}."
    raw = label_scores(model, tok, "abc", ["xy", "z"], template)
    prior = label_scores(model, tok, "N/A", ["xy", "z"], template)
    probs = torch.softmax(raw - prior, 0)
    result = zero_shot_classify(model, tok, ["abc"], ["xy", "z"], template, calibrate=True)[0]
    assert result["xy"] == pytest.approx(float(probs[0]), abs=1e-5)


def test_gpt2_with_head_size_12_loads_with_the_same_logits_on_cpu(tmp_path):
    # n_embd=48 over 4 heads: head size 12, which only the torch attention path takes.
    reference = hf_model(tmp_path, seed=7, vocab_size=61, n_positions=64, n_embd=48, n_head=4)
    ours = GPT.from_pretrained(tmp_path).eval()
    assert ours.loading_info == {"missing": [], "unexpected": []}
    assert ours.config.n_embd // ours.config.n_head == 12
    g = torch.Generator().manual_seed(11)
    ids = torch.randint(0, 61, (3, 40), generator=g)
    mask = torch.ones_like(ids)
    mask[1, :9] = 0  # left padding
    mask[2, :25] = 0
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        torch.testing.assert_close(ours(ids).logits, reference(ids).logits, atol=1e-5, rtol=1e-5)
        mine = ours(ids, attention_mask=mask).logits
        theirs = reference(ids, attention_mask=mask, position_ids=positions).logits
    real = mask.bool()
    torch.testing.assert_close(mine[real], theirs[real], atol=1e-5, rtol=1e-5)


def test_sampling_returns_several_draws_per_prompt():
    torch.manual_seed(0)
    model = GPT(small_config())
    prompt = torch.tensor([[1, 2, 3], [4, 5, 6]])
    draws = model.generate(prompt, max_new_tokens=8, do_sample=True, num_return_sequences=3,
                           generator=torch.Generator().manual_seed(1))  # fmt: skip
    assert draws.shape == (6, 11)
    assert torch.equal(draws[:3, :3], prompt[:1].expand(3, 3))  # each prompt's draws together
    assert len({tuple(row) for row in draws[:3, 3:].tolist()}) > 1


def test_bad_settings_are_refused_before_the_model_runs():
    model = GPT(small_config())
    calls = []
    hook = model.register_forward_pre_hook(lambda *args: calls.append(1))
    try:
        for bad in ({"num_beams": 2, "num_return_sequences": 3}, {"nmu_beams": 2},
                    {"bad_words_ids": [[1], [200]]}, {"max_length": 2}):  # fmt: skip
            with pytest.raises((ValueError, TypeError)):
                model.generate(torch.tensor([[1, 2]]), **bad)
    finally:
        hook.remove()
    assert calls == []


def test_forward_names_what_it_cannot_do():
    model = GPT(small_config()).eval()
    ids = torch.tensor([[1, 2, 3]])
    with pytest.raises(TypeError, match=r"second argument is past_key_values.*labels="):
        model(ids, ids)  # the nanoGPT-style positional targets
    with pytest.raises(ValueError, match="encoder_hidden_states"):
        model(ids, encoder_hidden_states=torch.zeros(1, 3, 32))
    with pytest.raises(ValueError, match="output_attentions"):
        model(ids, output_attentions=True)
    last = model(ids, logits_to_keep=1, use_cache=False)
    assert last.logits.shape == (1, 1, 97) and "past_key_values" not in last
    torch.testing.assert_close(last.logits[:, 0], model(ids).logits[:, -1])
