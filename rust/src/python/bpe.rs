//! Bindings for the byte-level BPE tokenizer (`rust/src/bpe/`): argument
//! conversion, the GIL released around the work, errors through `errors`.

use std::path::PathBuf;
use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyByteArray, PyBytes, PyList};

use crate::bpe::batch::map_balanced;
use crate::bpe::{load, save, train, AllowedSpecial, ByteLevelBpe, PieceCounter};
use crate::error::{Error, Result};
use crate::parallel::{default_threads, map_ordered};

use super::errors::{guarded, guarded_detached};

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

    fn check_allowed(&self, list: &Option<Vec<String>>) -> Result<()> {
        for name in list.iter().flatten() {
            if !self.inner.specials().iter().any(|(s, _)| s == name) {
                return Err(Error::InvalidArgument(format!(
                    "allowed_special names {name:?}, which is not a special token of this tokenizer"
                )));
            }
        }
        Ok(())
    }

    fn encode_texts(
        &self,
        texts: &[PyBackedStr],
        threads: Option<usize>,
        allowed_special: &Option<Vec<String>>,
        ordinary: bool,
    ) -> Result<Vec<Vec<u32>>> {
        self.check_allowed(allowed_special)?;
        let threads = threads.unwrap_or_else(default_threads);
        let allowed = allowed(allowed_special);
        let results = map_balanced(texts, threads, |text| {
            if ordinary {
                Ok(self.inner.encode_ordinary(text))
            } else {
                self.inner.encode(text, &allowed)
            }
        });
        results
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                r.map_err(|e| match e {
                    Error::InvalidArgument(message) => {
                        Error::InvalidArgument(format!("texts[{i}]: {message}"))
                    }
                    other => other,
                })
            })
            .collect()
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
            self.check_allowed(&allowed_special)?;
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

    /// Encodes many texts on `num_threads` threads with the GIL released.
    #[pyo3(signature = (texts, num_threads, allowed_special, ordinary))]
    fn encode_batch<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<PyBackedStr>,
        num_threads: Option<usize>,
        allowed_special: Option<Vec<String>>,
        ordinary: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let parts = guarded_detached(py, || {
            self.encode_texts(&texts, num_threads, &allowed_special, ordinary)
        })?;
        PyList::new(
            py,
            parts
                .iter()
                .map(|ids| self.id_list(py, ids))
                .collect::<PyResult<Vec<_>>>()?,
        )
    }

    /// Like `encode_batch`, returning `(ids, offsets)` as little-endian
    /// bytearrays (writable buffers for numpy): all ids as uint32, and
    /// len(texts) + 1 int64 offsets.
    #[pyo3(signature = (texts, num_threads, allowed_special, ordinary))]
    fn encode_batch_flat<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<PyBackedStr>,
        num_threads: Option<usize>,
        allowed_special: Option<Vec<String>>,
        ordinary: bool,
    ) -> PyResult<(Bound<'py, PyByteArray>, Bound<'py, PyByteArray>)> {
        let (ids, offsets) = guarded_detached(py, || {
            let parts = self.encode_texts(&texts, num_threads, &allowed_special, ordinary)?;
            let total: usize = parts.iter().map(Vec::len).sum();
            let mut ids = Vec::with_capacity(total * 4);
            let mut offsets = Vec::with_capacity((parts.len() + 1) * 8);
            let mut at = 0i64;
            offsets.extend_from_slice(&at.to_le_bytes());
            for part in &parts {
                for id in part {
                    ids.extend_from_slice(&id.to_le_bytes());
                }
                at += part.len() as i64;
                offsets.extend_from_slice(&at.to_le_bytes());
            }
            Ok((ids, offsets))
        })?;
        Ok((PyByteArray::new(py, &ids), PyByteArray::new(py, &offsets)))
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
        let threads = num_threads.unwrap_or_else(crate::parallel::default_threads);
        guarded_detached(py, || {
            crate::gpt_data::pack_documents(&self.inner, &documents, eot_id, &path, threads)
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
        let threads = num_threads.unwrap_or_else(crate::parallel::default_threads);
        guarded_detached(py, || {
            crate::gpt_data::pack_file(&self.inner, &input, eot_id, &path, threads)
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
    fn feed(&self, py: Python<'_>, texts: Vec<PyBackedStr>) -> PyResult<()> {
        guarded_detached(py, || {
            let threads = default_threads().min(texts.len().div_ceil(1024)).max(1);
            let chunk = texts.len().div_ceil(threads).max(1);
            let chunks: Vec<&[PyBackedStr]> = texts.chunks(chunk).collect();
            let parts = map_ordered(&chunks, threads, |part| {
                let mut counter = PieceCounter::new();
                for text in part.iter() {
                    counter.add_text(text);
                }
                counter
            });
            self.with_counter(|c| parts.into_iter().for_each(|p| c.merge_from(p)));
            Ok(())
        })
    }

    /// Counts the pieces of a UTF-8 text file, line by line (each line with
    /// its newline), as HF `tokenizers` reads training files.
    fn feed_file(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        guarded_detached(py, || {
            let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            let text = std::str::from_utf8(&bytes).map_err(|e| {
                let before = &bytes[..e.valid_up_to()];
                Error::InvalidUtf8 {
                    path: path.clone(),
                    line: before.iter().filter(|&&b| b == b'\n').count() as u64 + 1,
                    column: e.valid_up_to()
                        - before
                            .iter()
                            .rposition(|&b| b == b'\n')
                            .map_or(0, |i| i + 1),
                }
            })?;
            self.with_counter(|c| text.split_inclusive('\n').for_each(|line| c.add_text(line)));
            Ok(())
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
        guarded_detached(py, || {
            self.with_counter(|c| train(c, vocab_size, min_frequency, &special_tokens))
        })
        .map(PyByteLevelBpe::from)
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyByteLevelBpe>()?;
    m.add_class::<PyBpeTrainer>()?;
    Ok(())
}
