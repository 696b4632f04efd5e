"""Fine-tunes a tiny BERT on two tasks (one head per step) and saves the weights.

Run directly (one process) or under torchrun (several); tests/bert/test_multitask.py
compares the two. Usage: python multitask_ddp_worker.py BASE_FOLDER OUT.pt
"""

import os
import sys

import torch
from multitask_fixtures import quick_config, two_tasks

from ptm_fast.bert import finetune_multitask


def main(folder: str, out: str) -> None:
    result = finetune_multitask(
        folder, two_tasks()[:2], quick_config(), batch_size=4, load_best_model_at_end=False
    )
    if int(os.environ.get("RANK", "0")) == 0:
        torch.save(result.model.state_dict(), out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
