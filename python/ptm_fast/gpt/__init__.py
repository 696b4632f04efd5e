"""GPT: the decoder-only language model, its generation, pretraining and zero-shot use.

- ``modeling.py`` — :class:`GPTConfig` and :class:`GPT`, in the HF GPT-2 checkpoint layout.
- ``generation.py`` — :class:`GenerationConfig`, the checks and logits rules of generation.
- ``decoding.py`` / ``beam_search.py`` — greedy and sampled decoding; beam search.
- ``streamers.py`` — :class:`TextStreamer` and :class:`TextIteratorStreamer`.
- ``pretraining.py`` — packed token files, block sampling, training and perplexity.
- ``zero_shot.py`` — classification by scoring label prompts.

Importing this package imports torch.
"""

from ptm_fast.gpt.generation import GenerationConfig
from ptm_fast.gpt.modeling import GPT, GPTConfig, GPTOutput
from ptm_fast.gpt.pretraining import GPTPretrainingResult, TokenBlocks, pack_documents, pretrain_gpt
from ptm_fast.gpt.streamers import TextIteratorStreamer, TextStreamer
from ptm_fast.gpt.zero_shot import label_scores, zero_shot_classify

__all__ = [
    "GPT",
    "GPTConfig",
    "GPTOutput",
    "GPTPretrainingResult",
    "GenerationConfig",
    "TextIteratorStreamer",
    "TextStreamer",
    "TokenBlocks",
    "label_scores",
    "pack_documents",
    "pretrain_gpt",
    "zero_shot_classify",
]
