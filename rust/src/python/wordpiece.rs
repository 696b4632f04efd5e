//! Bindings for the WordPiece tokenizer (`rust/src/wordpiece/`).
//!
//! Only argument conversion lives here: inputs are extracted first, the GIL
//! is released for the whole call, and results come back either as
//! [`PyEncoding`] objects (which build Python lists only when asked) or, for
//! `encode_batch_numpy`, as one int64 [`Array`].

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::arrays::Array;
use super::batch_encoding::{padding, to_dict, truncation, PaddingArg, TruncationArg};
use super::errors::{guarded, guarded_detached, interruptible_detached};
use crate::error::Error;
use crate::parallel::threads_or_default;
use crate::wordpiece::trainer::{train, TrainerOptions, WordCounts};
use crate::wordpiece::{
    EncodeOptions, Encoding, NormalizerOptions, Padding, Vocab, WordPieceTokenizer,
};

fn normalizer(lowercase: bool, strip_accents: Option<bool>) -> NormalizerOptions {
    NormalizerOptions {
        lowercase,
        strip_accents: strip_accents.unwrap_or(lowercase),
    }
}

fn threads(num_threads: Option<usize>) -> PyResult<usize> {
    Ok(threads_or_default(num_threads)?)
}

/// The Rust WordPiece tokenizer; `ptm_fast.WordPieceTokenizer` wraps it.
#[pyclass(frozen, name = "WordPieceModel", module = "ptm_fast._core")]
pub(crate) struct PyWordPieceModel {
    pub(crate) inner: Arc<WordPieceTokenizer>,
}

/// One encoded text or pair; lists are built from Rust data on each access.
#[pyclass(frozen, name = "Encoding", module = "ptm_fast")]
pub(crate) struct PyEncoding {
    enc: Encoding,
    tokenizer: Arc<WordPieceTokenizer>,
}

#[pymethods]
impl PyEncoding {
    /// Token ids.
    #[getter]
    fn ids(&self) -> Vec<u32> {
        self.enc.ids.clone()
    }

    /// Token strings (`[CLS]`, `hello`, `##ing`, ...).
    #[getter]
    fn tokens(&self) -> Vec<&str> {
        let vocab = self.tokenizer.vocab();
        self.enc
            .ids
            .iter()
            .map(|&id| vocab.id_to_token(id).unwrap_or(""))
            .collect()
    }

    /// 0 for the first text (and `[CLS]`, its `[SEP]`), 1 for the second.
    #[getter]
    fn type_ids(&self) -> Vec<u32> {
        self.enc.type_ids.clone()
    }

    /// 1 for real tokens, 0 for padding.
    #[getter]
    fn attention_mask(&self) -> Vec<u32> {
        self.enc.attention_mask.clone()
    }

    /// `(start, end)` str indices into the text the token came from;
    /// `(0, 0)` for special and padding tokens.
    #[getter]
    fn offsets(&self) -> Vec<(u32, u32)> {
        self.enc.offsets.clone()
    }

    fn __len__(&self) -> usize {
        self.enc.len()
    }

    fn __repr__(&self) -> String {
        format!("Encoding(num_tokens={})", self.enc.len())
    }
}

fn wrap(
    py: Python<'_>,
    encs: Vec<Encoding>,
    tok: &Arc<WordPieceTokenizer>,
) -> PyResult<Vec<Py<PyEncoding>>> {
    encs.into_iter()
        .map(|enc| {
            Py::new(
                py,
                PyEncoding {
                    enc,
                    tokenizer: Arc::clone(tok),
                },
            )
        })
        .collect()
}

fn padding_mode(padding: &str, length: Option<usize>) -> PyResult<Padding> {
    match (padding, length) {
        ("none", _) => Ok(Padding::None),
        ("longest", _) => Ok(Padding::Longest),
        ("fixed", Some(n)) => Ok(Padding::Fixed(n)),
        _ => Err(Error::InvalidArgument(format!("unknown padding {padding:?}")).into()),
    }
}

#[pymethods]
impl PyWordPieceModel {
    /// Reads `vocab.txt`.
    #[staticmethod]
    #[pyo3(signature = (path, lowercase=true, strip_accents=None))]
    fn from_file(
        py: Python<'_>,
        path: PathBuf,
        lowercase: bool,
        strip_accents: Option<bool>,
    ) -> PyResult<Self> {
        let tok = guarded_detached(py, || {
            WordPieceTokenizer::from_file(&path, normalizer(lowercase, strip_accents))
        })?;
        Ok(PyWordPieceModel {
            inner: Arc::new(tok),
        })
    }

    /// Builds a tokenizer from tokens in id order.
    #[staticmethod]
    #[pyo3(signature = (tokens, lowercase=true, strip_accents=None))]
    fn from_tokens(
        tokens: Vec<String>,
        lowercase: bool,
        strip_accents: Option<bool>,
    ) -> PyResult<Self> {
        let tok = guarded(|| {
            let vocab = Vocab::from_tokens(tokens, |line, message| {
                Error::InvalidArgument(format!("token {line}: {message}"))
            })?;
            WordPieceTokenizer::new(vocab, normalizer(lowercase, strip_accents))
        })?;
        Ok(PyWordPieceModel {
            inner: Arc::new(tok),
        })
    }

    #[pyo3(signature = (text, pair=None, add_special_tokens=true, max_length=None))]
    fn encode(
        &self,
        py: Python<'_>,
        text: &str,
        pair: Option<&str>,
        add_special_tokens: bool,
        max_length: Option<usize>,
    ) -> PyResult<PyEncoding> {
        let opts = EncodeOptions {
            add_special_tokens,
            max_length,
        };
        // Short texts: releasing the GIL would cost more than it gives.
        let enc = if text.len() + pair.map_or(0, str::len) < 4096 {
            guarded(|| self.inner.encode(text, pair, opts))?
        } else {
            guarded_detached(py, || self.inner.encode(text, pair, opts))?
        };
        Ok(PyEncoding {
            enc,
            tokenizer: Arc::clone(&self.inner),
        })
    }

    #[pyo3(signature = (texts, pairs=None, add_special_tokens=true, max_length=None, padding="none", pad_length=None, num_threads=None))]
    #[allow(clippy::too_many_arguments)]
    fn encode_batch(
        &self,
        py: Python<'_>,
        texts: Vec<String>,
        pairs: Option<Vec<String>>,
        add_special_tokens: bool,
        max_length: Option<usize>,
        padding: &str,
        pad_length: Option<usize>,
        num_threads: Option<usize>,
    ) -> PyResult<Vec<Py<PyEncoding>>> {
        let padding = padding_mode(padding, pad_length)?;
        let threads = threads(num_threads)?;
        let opts = EncodeOptions {
            add_special_tokens,
            max_length,
        };
        let encs = interruptible_detached(py, |keep_going| {
            self.inner
                .encode_batch(&texts, pairs.as_deref(), opts, padding, threads, keep_going)
        })?;
        wrap(py, encs, &self.inner)
    }

    /// Returns one int64 [`Array`] of shape `(3, len(texts), length)`: input
    /// ids, token type ids and attention mask.
    #[pyo3(signature = (texts, length, pairs=None, add_special_tokens=true, num_threads=None))]
    fn encode_batch_numpy(
        &self,
        py: Python<'_>,
        texts: Vec<String>,
        length: usize,
        pairs: Option<Vec<String>>,
        add_special_tokens: bool,
        num_threads: Option<usize>,
    ) -> PyResult<Array> {
        let threads = threads(num_threads)?;
        let values = texts
            .len()
            .checked_mul(length)
            .and_then(|x| x.checked_mul(3))
            .ok_or_else(|| Error::InvalidArgument("batch too large".into()))?;
        let tok = &self.inner;
        let n = texts.len();
        let out = interruptible_detached(py, |keep_going| {
            let mut out = vec![0i64; values];
            tok.encode_batch_matrix(
                &texts,
                pairs.as_deref(),
                add_special_tokens,
                length,
                threads,
                &mut out,
                keep_going,
            )?;
            Ok(out)
        })?;
        Ok(Array::int64(out, vec![3, n, length]))
    }

    /// transformers' batch call: a dict of flat int64 [`Array`]s (input
    /// ids, type ids, attention and special-tokens masks, offsets when
    /// asked) and each row's `length`.
    #[pyo3(signature = (texts, pairs, add_special_tokens, truncation_arg, padding_arg, offsets, num_threads=None))]
    #[allow(clippy::too_many_arguments)]
    fn encode_batch_arrays<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<String>,
        pairs: Option<Vec<String>>,
        add_special_tokens: bool,
        truncation_arg: TruncationArg,
        padding_arg: PaddingArg,
        offsets: bool,
        num_threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let threads = threads(num_threads)?;
        let (cut, pad) = (truncation(&truncation_arg)?, padding(&padding_arg)?);
        let tok = &self.inner;
        let batch = interruptible_detached(py, |keep_going| {
            tok.encode_batch_arrays(
                &texts,
                pairs.as_deref(),
                add_special_tokens,
                cut,
                pad,
                offsets,
                threads,
                keep_going,
            )
        })?;
        to_dict(py, batch)
    }

    #[pyo3(signature = (ids, skip_special_tokens=true))]
    fn decode(&self, ids: Vec<i64>, skip_special_tokens: bool) -> PyResult<String> {
        guarded(|| {
            let ids: Vec<u32> = ids
                .into_iter()
                .filter_map(|id| u32::try_from(id).ok())
                .collect();
            Ok(self.inner.decode(&ids, skip_special_tokens))
        })
    }

    #[getter]
    fn vocab_size(&self) -> usize {
        self.inner.vocab().len()
    }

    #[getter]
    fn lowercase(&self) -> bool {
        self.inner.normalizer().lowercase
    }

    #[getter]
    fn strip_accents(&self) -> bool {
        self.inner.normalizer().strip_accents
    }

    fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.vocab().token_to_id(token)
    }

    fn id_to_token(&self, id: i64) -> Option<&str> {
        u32::try_from(id)
            .ok()
            .and_then(|id| self.inner.vocab().id_to_token(id))
    }

    /// All tokens in id order.
    fn tokens(&self) -> Vec<String> {
        self.inner.vocab().tokens().to_vec()
    }
}

/// Word counts for training a WordPiece vocabulary.
#[pyclass(name = "WordPieceWordCounts", module = "ptm_fast._core")]
pub(crate) struct PyWordCounts {
    counts: WordCounts,
    normalizer: NormalizerOptions,
}

#[pymethods]
impl PyWordCounts {
    #[new]
    #[pyo3(signature = (lowercase=true, strip_accents=None))]
    fn new(lowercase: bool, strip_accents: Option<bool>) -> Self {
        PyWordCounts {
            counts: WordCounts::default(),
            normalizer: normalizer(lowercase, strip_accents),
        }
    }

    #[pyo3(signature = (texts, num_threads=None))]
    fn add_texts(
        &mut self,
        py: Python<'_>,
        texts: Vec<String>,
        num_threads: Option<usize>,
    ) -> PyResult<()> {
        let threads = threads(num_threads)?;
        let opts = self.normalizer;
        let part = interruptible_detached(py, |keep_going| {
            WordCounts::from_texts(&texts, opts, threads, keep_going)
        })?;
        self.counts.merge(part);
        Ok(())
    }

    #[pyo3(signature = (path, num_threads=None))]
    fn add_file(
        &mut self,
        py: Python<'_>,
        path: PathBuf,
        num_threads: Option<usize>,
    ) -> PyResult<()> {
        let threads = threads(num_threads)?;
        let opts = self.normalizer;
        let part = interruptible_detached(py, |keep_going| {
            WordCounts::from_file(&path, opts, threads, keep_going)
        })?;
        self.counts.merge(part);
        Ok(())
    }

    fn __len__(&self) -> usize {
        self.counts.len()
    }

    /// Learns the vocabulary; returns its tokens in id order.
    #[pyo3(signature = (vocab_size, min_frequency, special_tokens, limit_alphabet=None))]
    fn train(
        &self,
        py: Python<'_>,
        vocab_size: usize,
        min_frequency: u64,
        special_tokens: Vec<String>,
        limit_alphabet: Option<usize>,
    ) -> PyResult<Vec<String>> {
        let opts = TrainerOptions {
            vocab_size,
            min_frequency,
            special_tokens,
            limit_alphabet,
        };
        let counts = &self.counts;
        interruptible_detached(py, |keep_going| train(counts, &opts, keep_going))
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyWordPieceModel>()?;
    m.add_class::<PyEncoding>()?;
    m.add_class::<PyWordCounts>()?;
    Ok(())
}
