//! Bindings for Word2Vec (`rust/src/word2vec/`): the vocabulary, corpora,
//! weight matrices shared with numpy, the native trainer and the batch stream
//! of the torch backend.
//!
//! Arrays cross as everywhere else (`arrays.rs`): batches are [`Array`]s, and
//! the weight matrices, which the trainer writes while numpy views them,
//! expose the same `__array_interface__` over their own buffer.

use std::cell::UnsafeCell;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::arrays::{array_interface, Array};
use super::errors::{guarded, guarded_detached};
use crate::word2vec::batches::{BatchParams, Batcher};
use crate::word2vec::corpus::{FileCorpus, JobSource, MemoryCorpus};
use crate::word2vec::trainer::{self, TrainParams};
use crate::word2vec::Vocab;
use crate::word_count::{count_words_in_file, WordCounter};

/// Words and counts, most frequent first; a word's id is its position.
#[pyclass(frozen, module = "ptm_fast._core")]
pub struct Word2VecVocab {
    inner: Arc<Vocab>,
}

#[pymethods]
impl Word2VecVocab {
    /// A vocabulary from stored words and counts, kept in the given order.
    #[new]
    fn new(words: Vec<String>, counts: Vec<u64>) -> PyResult<Self> {
        guarded(|| {
            Ok(Word2VecVocab {
                inner: Arc::new(Vocab::from_parts(words, counts)?),
            })
        })
    }

    /// Counts a whitespace-tokenized file (streamed) and keeps the words seen
    /// at least `min_count` times, at most `max_size` of them. Returns the
    /// vocabulary and the number of words read.
    #[staticmethod]
    #[pyo3(signature = (path, min_count, max_size=None))]
    fn from_file(
        py: Python<'_>,
        path: PathBuf,
        min_count: u64,
        max_size: Option<usize>,
    ) -> PyResult<(Self, u64)> {
        guarded_detached(py, || {
            let counter = count_words_in_file(&path)?;
            let total = counter.total_words();
            let vocab = Vocab::from_sorted_counts(counter.into_sorted(), min_count, max_size)?;
            Ok((
                Word2VecVocab {
                    inner: Arc::new(vocab),
                },
                total,
            ))
        })
    }

    fn words(&self) -> Vec<String> {
        self.inner.words().to_vec()
    }

    fn counts(&self) -> Vec<u64> {
        self.inner.counts().to_vec()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }
}

/// Counts words of sentences passed from Python, a chunk at a time.
#[pyclass(module = "ptm_fast._core")]
pub struct Word2VecCounter {
    counter: Option<WordCounter>,
}

#[pymethods]
impl Word2VecCounter {
    #[new]
    fn new() -> Self {
        Word2VecCounter {
            counter: Some(WordCounter::new()),
        }
    }

    /// Counts every word of `sentences` (lists of words).
    fn add(&mut self, py: Python<'_>, sentences: Vec<Vec<String>>) -> PyResult<()> {
        let counter = self.counter.as_mut().ok_or_else(|| {
            PyRuntimeError::new_err("this counter was already turned into a vocabulary")
        })?;
        py.detach(|| {
            for sentence in &sentences {
                for word in sentence {
                    counter.add_word(word);
                }
            }
        });
        Ok(())
    }

    /// Words counted so far, repeats included.
    fn total_words(&self) -> u64 {
        self.counter.as_ref().map_or(0, WordCounter::total_words)
    }

    /// The vocabulary of the words counted at least `min_count` times (at most `max_size`).
    #[pyo3(signature = (min_count, max_size=None))]
    fn build(&mut self, min_count: u64, max_size: Option<usize>) -> PyResult<Word2VecVocab> {
        let counter = self.counter.take().ok_or_else(|| {
            PyRuntimeError::new_err("this counter was already turned into a vocabulary")
        })?;
        guarded(|| {
            Ok(Word2VecVocab {
                inner: Arc::new(Vocab::from_sorted_counts(
                    counter.into_sorted(),
                    min_count,
                    max_size,
                )?),
            })
        })
    }
}

/// A training corpus: sentences encoded as ids in memory, or a file streamed in jobs.
#[pyclass(frozen, module = "ptm_fast._core")]
pub struct Word2VecCorpus {
    source: Arc<dyn JobSource + Send + Sync>,
    id_bound: usize,
    /// In-vocabulary words per pass (None for a file not counted up front).
    #[pyo3(get)]
    words: Option<u64>,
    /// Words read, in the vocabulary or not (None for a file).
    #[pyo3(get)]
    raw_words: Option<u64>,
}

#[pymethods]
impl Word2VecCorpus {
    /// A corpus streamed from a whitespace-tokenized file, one sentence a line.
    /// `words`: its in-vocabulary words per pass, if known (for the learning rate).
    #[staticmethod]
    #[pyo3(signature = (path, vocab, words=None))]
    fn from_file(path: PathBuf, vocab: &Word2VecVocab, words: Option<u64>) -> PyResult<Self> {
        guarded(|| {
            let corpus = FileCorpus::new(&path, vocab.inner.clone(), words)?;
            Ok(Word2VecCorpus {
                id_bound: corpus.id_bound(),
                source: Arc::new(corpus),
                words,
                raw_words: None,
            })
        })
    }
}

/// Builds an in-memory corpus from chunks of sentences passed from Python.
#[pyclass(module = "ptm_fast._core")]
pub struct Word2VecCorpusBuilder {
    vocab: Arc<Vocab>,
    corpus: Option<MemoryCorpus>,
}

#[pymethods]
impl Word2VecCorpusBuilder {
    #[new]
    fn new(vocab: &Word2VecVocab) -> Self {
        Word2VecCorpusBuilder {
            vocab: vocab.inner.clone(),
            corpus: Some(MemoryCorpus::new()),
        }
    }

    /// Encodes `sentences` (lists of words); words outside the vocabulary are dropped.
    fn add(&mut self, py: Python<'_>, sentences: Vec<Vec<String>>) -> PyResult<()> {
        let vocab = &self.vocab;
        let corpus = self
            .corpus
            .as_mut()
            .ok_or_else(|| PyRuntimeError::new_err("this builder was already finished"))?;
        py.detach(|| {
            for sentence in &sentences {
                corpus.push_sentence(vocab, sentence.iter().map(String::as_str));
            }
        });
        Ok(())
    }

    /// The finished corpus.
    fn finish(&mut self) -> PyResult<Word2VecCorpus> {
        let corpus = self
            .corpus
            .take()
            .ok_or_else(|| PyRuntimeError::new_err("this builder was already finished"))?;
        Ok(Word2VecCorpus {
            id_bound: corpus.id_bound(),
            words: Some(corpus.words()),
            raw_words: Some(corpus.raw_words()),
            source: Arc::new(corpus),
        })
    }
}

/// A float32 `rows x cols` matrix owned by Rust; `numpy.asarray(m)` views it.
#[pyclass(frozen, module = "ptm_fast._core")]
pub struct FloatMatrix {
    data: UnsafeCell<Box<[f32]>>,
    #[pyo3(get)]
    rows: usize,
    #[pyo3(get)]
    cols: usize,
    training: AtomicBool,
}

// Shared across threads on purpose: numpy views and the lock-free trainer
// write the same memory (see `trainer`); the Box itself never moves or resizes.
unsafe impl Sync for FloatMatrix {}

impl FloatMatrix {
    fn ptr(&self) -> *mut f32 {
        // SAFETY: reading the Box's pointer; the allocation lives as long as self.
        unsafe { (*self.data.get()).as_mut_ptr() }
    }
}

#[pymethods]
impl FloatMatrix {
    /// A zero-filled matrix.
    #[new]
    fn new(rows: usize, cols: usize) -> PyResult<Self> {
        let too_large = || {
            pyo3::exceptions::PyMemoryError::new_err(format!(
                "cannot allocate a {rows} x {cols} float32 matrix"
            ))
        };
        let n = rows.checked_mul(cols).ok_or_else(too_large)?;
        let mut data: Vec<f32> = Vec::new();
        data.try_reserve_exact(n).map_err(|_| too_large())?;
        data.resize(n, 0.0);
        Ok(FloatMatrix {
            data: UnsafeCell::new(data.into_boxed_slice()),
            rows,
            cols,
            training: AtomicBool::new(false),
        })
    }

    /// Fills the matrix with small random values (uniform in [-1, 1) / cols), keyed by `seed`.
    fn init_random(&self, seed: u64) {
        // SAFETY: a plain write pass over the owned buffer.
        let data = unsafe { std::slice::from_raw_parts_mut(self.ptr(), self.rows * self.cols) };
        trainer::init_input_vectors(data, self.cols, seed);
    }

    #[getter]
    fn __array_interface__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        array_interface(py, self.ptr() as usize, &[self.rows, self.cols], "<f4")
    }
}

/// Marks a matrix as being trained for the life of the guard.
struct TrainingGuard<'a>(&'a FloatMatrix);

impl<'a> TrainingGuard<'a> {
    fn take(m: &'a FloatMatrix) -> PyResult<Self> {
        m.training
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .map_err(|_| {
                PyRuntimeError::new_err("this model is already being trained in another thread")
            })?;
        Ok(TrainingGuard(m))
    }
}

impl Drop for TrainingGuard<'_> {
    fn drop(&mut self) {
        self.0.training.store(false, Ordering::Release);
    }
}

/// Trains `syn0` (input vectors) and `syn1` (output vectors) on `corpus` with
/// the GIL released. `progress(words_done, words_total, alpha, seconds)` is
/// called about every `report_seconds` on the calling thread; returning
/// False stops training. Returns a dict of what was done.
#[pyfunction]
#[pyo3(signature = (corpus, counts, syn0, syn1, *, sg, window, negative, alpha, min_alpha,
    epochs, threads, seed, sample, ns_exponent, compute_loss, progress=None, report_seconds=1.0))]
#[allow(clippy::too_many_arguments)]
fn word2vec_train<'py>(
    py: Python<'py>,
    corpus: &Word2VecCorpus,
    counts: Vec<u64>,
    syn0: &FloatMatrix,
    syn1: &FloatMatrix,
    sg: bool,
    window: usize,
    negative: usize,
    alpha: f32,
    min_alpha: f32,
    epochs: usize,
    threads: usize,
    seed: u64,
    sample: f64,
    ns_exponent: f64,
    compute_loss: bool,
    progress: Option<Py<PyAny>>,
    report_seconds: f64,
) -> PyResult<Bound<'py, PyDict>> {
    if std::ptr::eq(syn0, syn1) {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "syn0 and syn1 must be different matrices",
        ));
    }
    for (name, m) in [("syn0", syn0), ("syn1", syn1)] {
        if m.rows != counts.len() {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "{name} has {} rows but the vocabulary has {} words",
                m.rows,
                counts.len()
            )));
        }
    }
    let _g0 = TrainingGuard::take(syn0)?;
    let _g1 = TrainingGuard::take(syn1)?;
    let params = TrainParams {
        sg,
        window,
        negative,
        alpha,
        min_alpha,
        epochs,
        threads,
        seed,
        sample,
        ns_exponent,
        compute_loss,
    };
    let (p0, p1, dim) = (syn0.ptr() as usize, syn1.ptr() as usize, syn0.cols);
    if syn1.cols != dim {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "syn0 and syn1 differ in width",
        ));
    }
    let rows = counts.len();
    let source = corpus.source.clone();
    let id_bound = corpus.id_bound;
    let every = Duration::from_secs_f64(report_seconds.clamp(0.01, 3600.0));
    let callback_error: Mutex<Option<PyErr>> = Mutex::new(None);
    let report = guarded_detached(py, || {
        // SAFETY: both buffers are rows x dim (checked above), owned by
        // objects the caller holds for the whole call, and flagged as training.
        let s0 = unsafe { std::slice::from_raw_parts_mut(p0 as *mut f32, rows * dim) };
        let s1 = unsafe { std::slice::from_raw_parts_mut(p1 as *mut f32, rows * dim) };
        let mut on_progress = |p: &trainer::Progress| -> bool {
            Python::attach(|py| {
                let outcome = py.check_signals().and_then(|_| match &progress {
                    Some(f) => f
                        .call1(py, (p.words_done, p.words_total, p.alpha, p.seconds))
                        .map(|r| !r.bind(py).is(pyo3::types::PyBool::new(py, false))),
                    None => Ok(true),
                });
                match outcome {
                    Ok(go_on) => go_on,
                    Err(e) => {
                        callback_error
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .get_or_insert(e);
                        false
                    }
                }
            })
        };
        trainer::train(
            source.as_ref(),
            id_bound,
            &counts,
            s0,
            s1,
            dim,
            &params,
            every,
            &mut on_progress,
        )
    })?;
    if let Some(err) = callback_error
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
    {
        return Err(err);
    }
    let d = PyDict::new(py);
    d.set_item("words", report.words)?;
    d.set_item("effective_words", report.effective_words)?;
    d.set_item("examples", report.examples)?;
    d.set_item("loss", report.loss)?;
    d.set_item("seconds", report.seconds)?;
    d.set_item("stopped", report.stopped)?;
    Ok(d)
}

/// Skip-gram pairs or CBOW contexts with their negatives, in batches (the torch backend's input).
#[pyclass(frozen, module = "ptm_fast._core")]
pub struct Word2VecBatcher {
    inner: Mutex<Batcher>,
    sg: bool,
    window: usize,
    negative: usize,
}

#[pymethods]
impl Word2VecBatcher {
    #[new]
    #[pyo3(signature = (corpus, counts, *, sg, window, negative, sample, ns_exponent, seed, epochs))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        corpus: &Word2VecCorpus,
        counts: Vec<u64>,
        sg: bool,
        window: usize,
        negative: usize,
        sample: f64,
        ns_exponent: f64,
        seed: u64,
        epochs: usize,
    ) -> PyResult<Self> {
        guarded(|| {
            let params = BatchParams {
                sg,
                window,
                negative,
                seed,
                epochs,
            };
            let batcher = Batcher::new(
                corpus.source.clone(),
                corpus.id_bound,
                &counts,
                sample,
                ns_exponent,
                params,
            )?;
            Ok(Word2VecBatcher {
                inner: Mutex::new(batcher),
                sg,
                window,
                negative,
            })
        })
    }

    /// Starts epoch `epoch` (0-based) from the start of the corpus.
    fn start_epoch(&self, py: Python<'_>, epoch: usize) -> PyResult<()> {
        guarded_detached(py, || {
            self.inner
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .start_epoch(epoch)
        })
    }

    /// The next batch, or None at the end of the epoch. Skip-gram:
    /// `(inputs[n], targets[n], negatives[n, k], progress)`; CBOW:
    /// `(contexts[n, 2 * window], context_lengths[n], targets[n], negatives[n, k], progress)`.
    fn next_batch<'py>(&self, py: Python<'py>, batch_size: usize) -> PyResult<Option<Py<PyAny>>> {
        let batch = guarded_detached(py, || {
            self.inner
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .next_batch(batch_size)
        })?;
        let Some(b) = batch else { return Ok(None) };
        let n = b.len();
        let negatives = Array::int64(b.negatives, vec![n, self.negative]);
        let targets = Array::int64(b.targets, vec![n]);
        let tuple = if self.sg {
            let inputs = Array::int64(b.inputs, vec![n]);
            (inputs, targets, negatives, b.progress)
                .into_pyobject(py)?
                .into_any()
                .unbind()
        } else {
            let contexts = Array::int64(b.contexts, vec![n, 2 * self.window]);
            let lengths = Array::int64(b.context_lengths, vec![n]);
            (contexts, lengths, targets, negatives, b.progress)
                .into_pyobject(py)?
                .into_any()
                .unbind()
        };
        Ok(Some(tuple))
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Word2VecVocab>()?;
    m.add_class::<Word2VecCounter>()?;
    m.add_class::<Word2VecCorpus>()?;
    m.add_class::<Word2VecCorpusBuilder>()?;
    m.add_class::<FloatMatrix>()?;
    m.add_class::<Word2VecBatcher>()?;
    m.add_function(wrap_pyfunction!(word2vec_train, m)?)?;
    // The trainer's limits, so that Python checks arguments against the same numbers.
    m.add(
        "WORD2VEC_MAX_NEGATIVE",
        crate::word2vec::trainer::MAX_NEGATIVE,
    )?;
    m.add(
        "WORD2VEC_MAX_WINDOW",
        crate::word2vec::corpus::MAX_SENTENCE_WORDS,
    )?;
    Ok(())
}
