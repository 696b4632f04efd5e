"""BERT's CPU inference path (fused QKV, oneDNN linears) gives the training path's states."""

import pytest
import torch

from ptm_fast.bert import BertConfig, BertModel
from ptm_fast.kernels.cpu_inference import inference_linear, onednn_available


def small_bert(act: str = "gelu") -> BertModel:
    torch.manual_seed(0)
    config = BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=4, intermediate_size=64, hidden_act=act)  # fmt: skip
    return BertModel(config).eval()


def both_paths(model, ids, mask):
    fast = model(ids, attention_mask=mask).last_hidden_state  # no grad recorded: the CPU path
    with torch.enable_grad():
        plain = model(ids, attention_mask=mask).last_hidden_state
    assert plain.requires_grad  # so it went the other way
    return fast, plain.detach()


@pytest.mark.parametrize("act", ["gelu", "gelu_new", "relu"])
@torch.no_grad()
def test_the_inference_path_matches_the_training_path(act):
    model = small_bert(act)
    ids = torch.randint(1, 50, (3, 9))
    mask = torch.ones(3, 9, dtype=torch.long)
    mask[1, 4:] = 0
    mask[2, :] = 0  # a row with no real token: zeros from attention, as on the plain path
    fast, plain = both_paths(model, ids, mask)
    torch.testing.assert_close(fast, plain, atol=1e-5, rtol=1e-5)


@torch.no_grad()
def test_the_fused_projection_follows_a_weight_change():
    model = small_bert()
    ids = torch.randint(1, 50, (2, 7))
    before = model(ids).last_hidden_state
    model.encoder.layer[0].attention.self.key.weight.mul_(3.0)  # in place, as an optimizer does
    fast, plain = both_paths(model, ids, None)
    torch.testing.assert_close(fast, plain, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(fast, before)


@torch.no_grad()
def test_inference_linear_is_linear_then_activation():
    assert isinstance(onednn_available(), bool)
    x, w, b = torch.randn(2, 5, 16), torch.randn(8, 16), torch.randn(8)
    torch.testing.assert_close(inference_linear(x, w, b, "relu"), torch.relu(x @ w.T + b))
    torch.testing.assert_close(inference_linear(x, w, None), x @ w.T)
    with torch.enable_grad():  # a graph is wanted: the plain path, and it has a gradient
        w.requires_grad_(True)
        inference_linear(x, w, b, "gelu").sum().backward()
    assert w.grad is not None
