//! ptm_fast's Rust core: tokenization and the data pipelines for Word2Vec,
//! BERT and GPT.
//!
//! Every algorithm lives in a plain Rust module with its own `cargo test`
//! tests. The `python` module (behind the `python` feature, which maturin
//! turns on) only converts arguments, releases the GIL and maps errors.

pub mod batch_encoding;
pub mod bert_pretraining;
pub mod bpe;
pub mod error;
pub mod gpt_data;
pub mod parallel;
pub mod rng;
pub mod text_lines;
pub mod word2vec;
pub mod word_count;
pub mod wordpiece;

#[cfg(feature = "python")]
mod python;

pub use error::{Error, Result};
