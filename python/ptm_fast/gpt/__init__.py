"""GPT: the decoder-only language model, its generation, pretraining and zero-shot use.

- ``modeling.py`` — :class:`GPTConfig` and :class:`GPT`, in the HF GPT-2 checkpoint layout.
- ``generation.py`` — the decoding rules behind :meth:`GPT.generate`.
- ``pretraining.py`` — packed token files, block sampling, training and perplexity.
- ``zero_shot.py`` — classification by scoring label prompts.

Importing this package imports torch.
"""

from ptm_fast.gpt.modeling import GPT, GPTConfig, GPTOutput
from ptm_fast.gpt.pretraining import GPTPretrainingResult, TokenBlocks, pack_documents, pretrain_gpt
from ptm_fast.gpt.zero_shot import label_scores, zero_shot_classify

__all__ = [
    "GPT",
    "GPTConfig",
    "GPTOutput",
    "GPTPretrainingResult",
    "TokenBlocks",
    "label_scores",
    "pack_documents",
    "pretrain_gpt",
    "zero_shot_classify",
]
