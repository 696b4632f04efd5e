//! Bindings for the byte-level BPE tokenizer (`rust/src/bpe/`): argument
//! conversion, the GIL released around the work, errors through `errors`.

use std::path::PathBuf;
use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList};

use crate::bpe::batch::{encode_batch, encode_batch_arrays, SpecialText};
use crate::bpe::{load, save, train, AllowedSpecial, ByteLevelBpe, PieceCounter};
use crate::error::Result;
use crate::parallel::{default_threads, threads_or_default};

use super::arrays::Array;
use super::batch_encoding::{padding, to_dict, truncation, PaddingArg, TruncationArg};
use super::errors::{guarded, guarded_detached, interruptible_detached};

/// Texts longer than this release the GIL while they are encoded.
const DETACH_BYTES: usize = 1 << 14;

/// `None`: every special token allowed; a list: only those.
fn allowed(list: &Option<Vec<String>>) -> AllowedSpecial<'_> {
    match list {
        None => AllowedSpecial::All,
        Some(names) => AllowedSpecial::Some(names),
    }
}

/// The Rust tokenizer behind `ptm_fast.ByteLevelBPETokenizer`.
#[pyclass(frozen, module = "ptm_fast._core", name = "ByteLevelBpe")]
pub struct PyByteLevelBpe {
    inner: ByteLevelBpe,
    /// One Python int per id, made on first use: lists of ids then hold
    /// references to these instead of a new int object per token.
    ints: PyOnceLock<Vec<Py<PyAny>>>,
}

impl From<ByteLevelBpe> for PyByteLevelBpe {
    fn from(inner: ByteLevelBpe) -> Self {
        Self {
            inner,
            ints: PyOnceLock::new(),
        }
    }
}

impl PyByteLevelBpe {
    /// `ids` as a Python list of ints, sharing the cached int objects.
    fn id_list<'py>(&self, py: Python<'py>, ids: &[u32]) -> PyResult<Bound<'py, PyList>> {
        let ints = self.ints.get_or_init(py, || {
            (0..self.inner.vocab_size() as u32)
                .map(|id| match id.into_pyobject(py) {
                    Ok(int) => int.into_any().unbind(),
                    Err(never) => match never {},
                })
                .collect()
        });
        // Every id came from this tokenizer, so it indexes `ints`.
        PyList::new(py, ids.iter().map(|&id| ints[id as usize].bind(py)))
    }

    fn encode_texts(
        &self,
        texts: &[PyBackedStr],
        threads: Option<usize>,
        allowed_special: &Option<Vec<String>>,
        ordinary: bool,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<Vec<Vec<u32>>> {
        let special = if ordinary {
            SpecialText::Ordinary
        } else {
            SpecialText::Allowed(allowed_special.as_deref())
        };
        let threads = threads.unwrap_or_else(default_threads);
        encode_batch(&self.inner, texts, threads, special, keep_going)
    }
}

#[pymethods]
impl PyByteLevelBpe {
    /// Loads tiktoken ranks (`base64-token rank` lines) plus special tokens.
    #[staticmethod]
    fn from_tiktoken(
        py: Python<'_>,
        path: PathBuf,
        special_tokens: Vec<(String, u32)>,
    ) -> PyResult<Self> {
        guarded_detached(py, || load::from_tiktoken(&path, special_tokens)).map(Self::from)
    }

    /// Loads GPT-2's `vocab.json` and `merges.txt`.
    #[staticmethod]
    fn from_files(
        py: Python<'_>,
        vocab: PathBuf,
        merges: PathBuf,
        special_tokens: Vec<(String, u32)>,
    ) -> PyResult<Self> {
        guarded_detached(py, || load::from_files(&vocab, &merges, special_tokens)).map(Self::from)
    }

    /// Loads an HF `tokenizer.json` with a byte-level BPE model.
    #[staticmethod]
    fn from_tokenizer_json(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        guarded_detached(py, || load::from_tokenizer_json(&path)).map(Self::from)
    }

    /// Encodes one text; `allowed_special` None allows every special token.
    fn encode<'py>(
        &self,
        py: Python<'py>,
        text: &str,
        allowed_special: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let run = || {
            if let Some(names) = &allowed_special {
                self.inner.check_special_names(names)?;
            }
            self.inner.encode(text, &allowed(&allowed_special))
        };
        let ids = if text.len() > DETACH_BYTES {
            guarded_detached(py, run)
        } else {
            guarded(run)
        }?;
        self.id_list(py, &ids)
    }

    /// Encodes one text with special-token text as plain text.
    fn encode_ordinary<'py>(&self, py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyList>> {
        let ids = if text.len() > DETACH_BYTES {
            guarded_detached(py, || Ok(self.inner.encode_ordinary(text)))
        } else {
            guarded(|| Ok(self.inner.encode_ordinary(text)))
        }?;
        self.id_list(py, &ids)
    }

    /// Encodes many texts on `num_threads` threads with the GIL released;
    /// Ctrl-C stops it between rounds.
    #[pyo3(signature = (texts, num_threads, allowed_special, ordinary))]
    fn encode_batch<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<PyBackedStr>,
        num_threads: Option<usize>,
        allowed_special: Option<Vec<String>>,
        ordinary: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let parts = interruptible_detached(py, |keep_going| {
            self.encode_texts(&texts, num_threads, &allowed_special, ordinary, keep_going)
        })?;
        PyList::new(
            py,
            parts
                .iter()
                .map(|ids| self.id_list(py, ids))
                .collect::<PyResult<Vec<_>>>()?,
        )
    }

    /// Like `encode_batch`, returning `(ids, offsets)` as [`Array`]s: all ids
    /// as uint32, one text after another, and len(texts) + 1 int64 offsets.
    #[pyo3(signature = (texts, num_threads, allowed_special, ordinary))]
    fn encode_batch_flat(
        &self,
        py: Python<'_>,
        texts: Vec<PyBackedStr>,
        num_threads: Option<usize>,
        allowed_special: Option<Vec<String>>,
        ordinary: bool,
    ) -> PyResult<(Array, Array)> {
        let (ids, offsets) = interruptible_detached(py, |keep_going| {
            let parts =
                self.encode_texts(&texts, num_threads, &allowed_special, ordinary, keep_going)?;
            let mut offsets = Vec::with_capacity(parts.len() + 1);
            offsets.push(0i64);
            let mut at = 0i64;
            for part in &parts {
                at += part.len() as i64;
                offsets.push(at);
            }
            Ok((parts.concat(), offsets))
        })?;
        let (n_ids, n_offsets) = (ids.len(), offsets.len());
        Ok((
            Array::uint32(ids, vec![n_ids]),
            Array::int64(offsets, vec![n_offsets]),
        ))
    }

    /// transformers' batch call (special-token text as special tokens, none
    /// added): a dict of flat int64 [`Array`]s and each row's `length`.
    #[pyo3(signature = (texts, pairs, truncation_arg, padding_arg, offsets, num_threads=None))]
    #[allow(clippy::too_many_arguments)]
    fn encode_batch_arrays<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<PyBackedStr>,
        pairs: Option<Vec<PyBackedStr>>,
        truncation_arg: TruncationArg,
        padding_arg: PaddingArg,
        offsets: bool,
        num_threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let threads = threads_or_default(num_threads)?;
        let (cut, pad) = (truncation(&truncation_arg)?, padding(&padding_arg)?);
        let bpe = &self.inner;
        let batch = interruptible_detached(py, |keep_going| {
            encode_batch_arrays(
                bpe,
                &texts,
                pairs.as_deref(),
                cut,
                pad,
                offsets,
                threads,
                keep_going,
            )
        })?;
        to_dict(py, batch)
    }

    /// The bytes of the tokens `ids`, concatenated.
    fn decode_bytes<'py>(&self, py: Python<'py>, ids: Vec<i64>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = guarded(|| self.inner.decode_bytes(&ids))?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// One more than the largest token id.
    #[getter]
    fn vocab_size(&self) -> usize {
        self.inner.vocab_size()
    }

    /// The id of the token with these bytes, or None.
    fn token_to_id(&self, token: &[u8]) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// The bytes of token `id`, or None when no token has it.
    fn id_to_token<'py>(&self, py: Python<'py>, id: i64) -> Option<Bound<'py, PyBytes>> {
        let id = u32::try_from(id).ok()?;
        self.inner.id_to_token(id).map(|b| PyBytes::new(py, b))
    }

    /// The special tokens as (text, id) pairs, in id order.
    fn special_tokens(&self) -> Vec<(String, u32)> {
        self.inner.specials().to_vec()
    }

    /// The merges in rank order, as (left id, right id) pairs.
    fn merges(&self, py: Python<'_>) -> PyResult<Vec<(u32, u32)>> {
        guarded_detached(py, || self.inner.merges())
    }

    /// Writes vocab.json, merges.txt and tokenizer.json into `dir`.
    /// Tokenizes documents into a flat token file (GPT training data); returns its length.
    #[pyo3(signature = (documents, eot_id, path, num_threads=None))]
    fn pack_documents(
        &self,
        py: Python<'_>,
        documents: Vec<String>,
        eot_id: u32,
        path: PathBuf,
        num_threads: Option<usize>,
    ) -> PyResult<u64> {
        let threads = crate::parallel::threads_or_default(num_threads)?;
        interruptible_detached(py, |keep_going| {
            crate::gpt_data::pack_documents(
                &self.inner,
                &documents,
                eot_id,
                &path,
                threads,
                keep_going,
            )
        })
    }

    /// Streams a text file (blank lines between documents) into a flat token file.
    #[pyo3(signature = (input, eot_id, path, num_threads=None))]
    fn pack_file(
        &self,
        py: Python<'_>,
        input: PathBuf,
        eot_id: u32,
        path: PathBuf,
        num_threads: Option<usize>,
    ) -> PyResult<u64> {
        let threads = crate::parallel::threads_or_default(num_threads)?;
        interruptible_detached(py, |keep_going| {
            crate::gpt_data::pack_file(&self.inner, &input, eot_id, &path, threads, keep_going)
        })
    }

    fn save(&self, py: Python<'_>, dir: PathBuf) -> PyResult<Vec<PathBuf>> {
        guarded_detached(py, || save::save(&self.inner, &dir))
    }
}

/// Counts split-pattern pieces for training, fed texts or files.
#[pyclass(frozen, module = "ptm_fast._core", name = "BpeTrainer")]
pub struct PyBpeTrainer {
    counter: Mutex<PieceCounter>,
}

impl PyBpeTrainer {
    fn with_counter<T>(&self, f: impl FnOnce(&mut PieceCounter) -> T) -> T {
        let mut guard = self.counter.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }
}

#[pymethods]
impl PyBpeTrainer {
    #[new]
    fn new() -> Self {
        Self {
            counter: Mutex::new(PieceCounter::new()),
        }
    }

    /// Counts the pieces of `texts`.
    #[pyo3(signature = (texts, num_threads=None))]
    fn feed(
        &self,
        py: Python<'_>,
        texts: Vec<PyBackedStr>,
        num_threads: Option<usize>,
    ) -> PyResult<()> {
        let threads = crate::parallel::threads_or_default(num_threads)?;
        interruptible_detached(py, |keep_going| {
            self.with_counter(|c| c.add_texts(&texts, threads, keep_going))
        })
    }

    /// Counts the pieces of a UTF-8 text file, line by line (each line with
    /// its newline), as HF `tokenizers` reads training files.
    fn feed_file(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        interruptible_detached(py, |keep_going| {
            self.with_counter(|c| c.add_file(&path, keep_going))
        })
    }

    /// How many distinct pieces were counted.
    fn distinct_pieces(&self) -> usize {
        self.with_counter(|c| c.distinct())
    }

    /// Learns the merges and returns the tokenizer.
    fn train(
        &self,
        py: Python<'_>,
        vocab_size: usize,
        min_frequency: u64,
        special_tokens: Vec<String>,
    ) -> PyResult<PyByteLevelBpe> {
        interruptible_detached(py, |keep_going| {
            self.with_counter(|c| train(c, vocab_size, min_frequency, &special_tokens, keep_going))
        })
        .map(PyByteLevelBpe::from)
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyByteLevelBpe>()?;
    m.add_class::<PyBpeTrainer>()?;
    Ok(())
}
