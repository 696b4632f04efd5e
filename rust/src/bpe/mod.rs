//! GPT-2's byte-level BPE: the split pattern, bytes to ranks, merges by
//! lowest rank, special tokens, decoding, loaders and training.
