//! BERT's pretraining data: sentence pairs for next-sentence prediction and
//! masked-LM masking, both seeded and reproducible.
//!
//! Input is token ids, already WordPiece-encoded without special tokens:
//! documents made of sentences. `pairs` builds `[CLS] A [SEP] B [SEP]`
//! examples where B follows A half of the time and comes from another
//! document otherwise; `masking` picks 15% of the non-special positions of
//! each example (80% become `[MASK]`, 10% a random token, 10% stay).

pub mod masking;
pub mod pairs;

/// The ids of the special tokens the pipeline writes.
#[derive(Debug, Clone, Copy)]
pub struct SpecialIds {
    pub cls: u32,
    pub sep: u32,
    pub mask: u32,
    pub pad: u32,
}
