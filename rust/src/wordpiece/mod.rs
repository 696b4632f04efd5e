//! BERT's WordPiece tokenizer: normalizer, pre-tokenizer, WordPiece model,
//! post-processor (special tokens, pairs, truncation, padding) and decoder.
