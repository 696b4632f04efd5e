"""The references the BPE tests compare against: tiktoken with GPT-2's ranks, HF tokenizers."""

from functools import cache

import tiktoken
import tiktoken.load

from ptm_fast import ByteLevelBPETokenizer, assets

GPT2_PATTERN = assets.GPT2_PATTERN  # tiktoken's "gpt2" pre-tokenizer
SPECIALS = {"<|endoftext|>": 50256}


@cache
def tiktoken_gpt2() -> tiktoken.Encoding:
    ranks = tiktoken.load.load_tiktoken_bpe(str(assets.gpt2_ranks_path()))
    return tiktoken.Encoding(
        name="gpt2", pat_str=GPT2_PATTERN, mergeable_ranks=ranks, special_tokens=SPECIALS
    )


@cache
def ours_gpt2() -> ByteLevelBPETokenizer:
    return ByteLevelBPETokenizer.from_tiktoken(assets.gpt2_ranks_path(), special_tokens=SPECIALS)


@cache
def corpus_lines() -> tuple[str, ...]:
    return tuple(assets.real_corpus_lines())
