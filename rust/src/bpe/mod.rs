//! GPT-2's byte-level BPE, in small stages:
//!
//! - [`split`]: the GPT-2 split pattern, written by hand (the pre-tokenizer);
//! - [`byte_map`]: the bytes <-> printable characters mapping of the file formats;
//! - [`merge`]: the merge model (bytes to ids by lowest-rank merges);
//! - [`offsets`]: where each token lies in its text, for offset mappings;
//! - [`tokenizer`]: encoding with special tokens, decoding;
//! - [`load`] / [`save`]: tiktoken ranks, `vocab.json` + `merges.txt`, `tokenizer.json`;
//! - [`train`]: learning merges from a corpus.

pub mod batch;
pub mod byte_map;
pub mod hash;
pub mod load;
pub mod merge;
pub mod offsets;
pub mod save;
pub mod split;
pub mod tokenizer;
pub mod train;

pub use tokenizer::{AllowedSpecial, ByteLevelBpe, Semantics};
pub use train::{train, PieceCounter};
