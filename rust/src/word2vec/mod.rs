//! Word2Vec with negative sampling: the data pipeline and the native trainer.
//!
//! The stages, one file each:
//! - [`vocab`]: the vocabulary (counts, `min_count`, `max_vocab_size`).
//! - [`sampling`]: frequent-word subsampling and the noise distribution.
//! - [`corpus`]: sentences as word ids, in memory or streamed from a file,
//!   cut into jobs of about [`corpus::JOB_WORDS`] words.
//! - [`batches`]: skip-gram pairs, CBOW contexts and negatives as flat
//!   arrays (what the torch backend trains on).
//! - [`kernels`]: the vector loops (dot, axpy) and the sigmoid tables.
//! - [`trainer`]: the multi-threaded lock-free trainer.
//!
//! Everything random is drawn from [`crate::rng::Rng`] seeded by `(seed, epoch, job)`,
//! so a job's pairs and negatives do not depend on which thread trains it.

pub mod batches;
pub mod corpus;
pub mod kernels;
pub mod sampling;
pub mod trainer;
pub mod vocab;

pub use corpus::{FileCorpus, JobSource, MemoryCorpus};
pub use sampling::{NoiseTable, Subsampler};
pub use trainer::{train, Matrix, Progress, TrainParams, TrainReport};
pub use vocab::Vocab;
