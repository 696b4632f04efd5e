//! BERT's pretraining data: documents to masked-LM + next-sentence batches,
//! seeded and reproducible, with one call per batch.
//!
//! - [`documents`]: the corpus file format (a sentence per line, a blank
//!   line between documents), streamed.
//! - [`roles`]: what each vocabulary id is to the pipeline (special,
//!   reserved, `##` continuation), read from the WordPiece vocabulary.
//! - [`pairs`]: `[CLS] A [SEP] B [SEP]` examples where B follows A half of
//!   the time and comes from another document otherwise.
//! - [`masking`]: 15% of the non-reserved positions of each example (80%
//!   become `[MASK]`, 10% a random token, 10% stay), optionally whole words.
//! - [`corpus`]: the encoded pairs of a file or of documents, and their
//!   masked batches.

pub mod corpus;
pub mod documents;
pub mod masking;
pub mod pairs;
pub mod roles;

pub use corpus::{Batch, PretrainingCorpus};
pub use masking::MaskingConfig;
pub use roles::TokenRoles;

/// The ids of the special tokens the pipeline writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpecialIds {
    pub cls: u32,
    pub sep: u32,
    pub mask: u32,
    pub pad: u32,
}
