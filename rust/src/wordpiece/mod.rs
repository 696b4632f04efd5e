//! BERT's WordPiece tokenizer: normalizer, pre-tokenizer, WordPiece model,
//! post-processor (special tokens, pairs, truncation, padding), decoder and
//! trainer, each in its own file; `tokenizer.rs` runs the pipeline.

mod chars;
pub mod decoder;
pub mod model;
pub mod normalizer;
pub mod post_processor;
pub mod pre_tokenizer;
pub mod tokenizer;
pub mod trainer;
mod unicode_tables;
pub mod vocab;

pub use model::Token;
pub use normalizer::NormalizerOptions;
pub use post_processor::Encoding;
pub use tokenizer::{EncodeOptions, Padding, WordPieceTokenizer, SPECIAL_TOKENS};
pub use vocab::Vocab;
