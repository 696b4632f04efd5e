//! Bindings for BERT's pretraining data (`rust/src/bert_pretraining/`): a
//! corpus built from a file or from documents with a `WordPieceModel`, and
//! one call per masked batch, arrays out.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;

use super::arrays::Array;
use super::errors::guarded_detached;
use super::wordpiece::PyWordPieceModel;
use crate::bert_pretraining::documents::read_documents as read_document_file;
use crate::bert_pretraining::{MaskingConfig, PretrainingCorpus};
use crate::error::{Error, Result};
use crate::parallel::threads_or_default as threads;
use crate::wordpiece::WordPieceTokenizer;

fn row_indices(rows: Vec<i64>) -> Result<Vec<usize>> {
    rows.into_iter()
        .map(|r| {
            usize::try_from(r)
                .map_err(|_| Error::InvalidArgument(format!("row {r} is out of range")))
        })
        .collect()
}

/// Documents of a corpus file (one sentence per line, a blank line between
/// documents), as lists of sentences.
#[pyfunction]
fn read_documents(py: Python<'_>, path: PathBuf) -> PyResult<Vec<Vec<String>>> {
    guarded_detached(py, || {
        let mut documents: Vec<Vec<String>> = Vec::new();
        read_document_file(&path, |d, sentence| {
            if d == documents.len() {
                documents.push(Vec::new());
            }
            documents[d].push(sentence.to_owned());
            Ok(())
        })?;
        Ok(documents)
    })
}

/// Encoded next-sentence pairs; `batch` masks rows of them in one call.
#[pyclass(frozen, name = "BertPretrainingCorpus", module = "ptm_fast._core")]
pub(crate) struct PyPretrainingCorpus {
    inner: Arc<PretrainingCorpus>,
}

impl PyPretrainingCorpus {
    /// Runs `make` with the GIL released on the tokenizer's Rust model.
    fn build(
        py: Python<'_>,
        tokenizer: &PyWordPieceModel,
        make: impl FnOnce(&WordPieceTokenizer) -> Result<PretrainingCorpus> + Send,
    ) -> PyResult<Self> {
        let tok = Arc::clone(&tokenizer.inner);
        let corpus = guarded_detached(py, || make(&tok))?;
        Ok(Self {
            inner: Arc::new(corpus),
        })
    }
}

#[pymethods]
impl PyPretrainingCorpus {
    /// Streams a corpus file and encodes it with `tokenizer`.
    #[staticmethod]
    #[pyo3(signature = (path, tokenizer, max_length, seed, num_threads=None))]
    fn from_file(
        py: Python<'_>,
        path: PathBuf,
        tokenizer: &PyWordPieceModel,
        max_length: usize,
        seed: u64,
        num_threads: Option<usize>,
    ) -> PyResult<Self> {
        Self::build(py, tokenizer, |tok| {
            PretrainingCorpus::from_file(tok, &path, max_length, seed, threads(num_threads)?)
        })
    }

    /// Encodes documents given as lists of sentences.
    #[staticmethod]
    #[pyo3(signature = (documents, tokenizer, max_length, seed, num_threads=None))]
    fn from_documents(
        py: Python<'_>,
        documents: Vec<Vec<String>>,
        tokenizer: &PyWordPieceModel,
        max_length: usize,
        seed: u64,
        num_threads: Option<usize>,
    ) -> PyResult<Self> {
        Self::build(py, tokenizer, |tok| {
            let threads = threads(num_threads)?;
            PretrainingCorpus::from_documents(tok, &documents, max_length, seed, threads)
        })
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// The longest pair, special tokens included.
    #[getter]
    fn max_length(&self) -> usize {
        self.inner.max_length()
    }

    /// The ids of `[CLS]`, `[SEP]`, `[MASK]` and `[PAD]`, by token.
    fn special_ids(&self) -> HashMap<&'static str, u32> {
        let s = self.inner.roles().special;
        HashMap::from([
            ("[CLS]", s.cls),
            ("[SEP]", s.sep),
            ("[MASK]", s.mask),
            ("[PAD]", s.pad),
        ])
    }

    /// The ids never masked nor drawn as replacements, as an int64 array.
    fn reserved_ids(&self) -> Array {
        let ids: Vec<i64> = self
            .inner
            .roles()
            .reserved_ids()
            .into_iter()
            .map(i64::from)
            .collect();
        let n = ids.len();
        Array::int64(ids, vec![n])
    }

    /// The next-sentence label of every pair (0: B follows A, 1: random B).
    fn next_sentence_labels(&self) -> Array {
        let labels = self.inner.next_sentence_labels();
        let n = labels.len();
        Array::int64(labels, vec![n])
    }

    /// How often each vocabulary id occurs in the pairs `rows` (reserved ids: 0).
    fn token_counts(&self, py: Python<'_>, rows: Vec<i64>) -> PyResult<Array> {
        let corpus = &self.inner;
        let counts = guarded_detached(py, || corpus.token_counts(&row_indices(rows)?))?;
        let n = counts.len();
        Ok(Array::int64(counts, vec![n]))
    }

    /// The pairs `rows`, trimmed to the longest of them and masked with
    /// `seed`: a dict of int64 arrays `input_ids`, `token_type_ids`,
    /// `attention_mask`, `labels` (-100 where nothing is predicted), all
    /// `rows x width`, and `next_sentence_label` (`rows`).
    #[pyo3(signature = (rows, seed, probability=0.15, whole_word=false, num_threads=None))]
    fn batch(
        &self,
        py: Python<'_>,
        rows: Vec<i64>,
        seed: u64,
        probability: f64,
        whole_word: bool,
        num_threads: Option<usize>,
    ) -> PyResult<HashMap<&'static str, Array>> {
        let corpus = &self.inner;
        let masking = MaskingConfig {
            probability,
            whole_word,
        };
        let b = guarded_detached(py, || {
            corpus.batch(&row_indices(rows)?, seed, masking, threads(num_threads)?)
        })?;
        let shape = vec![b.rows, b.width];
        Ok(HashMap::from([
            ("input_ids", Array::int64(b.input_ids, shape.clone())),
            (
                "token_type_ids",
                Array::int64(b.token_type_ids, shape.clone()),
            ),
            (
                "attention_mask",
                Array::int64(b.attention_mask, shape.clone()),
            ),
            ("labels", Array::int64(b.labels, shape)),
            (
                "next_sentence_label",
                Array::int64(b.next_sentence_label, vec![b.rows]),
            ),
        ]))
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(read_documents, m)?)?;
    m.add_class::<PyPretrainingCorpus>()?;
    Ok(())
}
