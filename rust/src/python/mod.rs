//! PyO3 bindings: the private module `ptm_fast._core`.
//!
//! Functions here only convert arguments and results, release the GIL around
//! long work and route failures through `errors`; the algorithms live in the
//! plain Rust modules. Keep `python/ptm_fast/_core.pyi` in step with this file.

mod arrays;
mod batch_encoding;
mod bert_pretraining;
mod bpe;
mod errors;
mod word2vec;
mod wordpiece;

use std::path::PathBuf;

use pyo3::prelude::*;

use crate::word_count::{count_words_in_file as count_file, WordCounter};
use crate::wordpiece::pre_tokenizer::pre_tokenize as split_words;
use errors::{guarded, guarded_detached, missing_file_error, InternalError};

/// WordPiece's pre-tokenizer on raw text; offsets are `str` indices.
#[pyfunction]
fn pre_tokenize(text: &str) -> PyResult<Vec<(String, (usize, usize))>> {
    guarded(|| {
        Ok(split_words(text)
            .into_iter()
            .map(|p| (p.text.to_owned(), (p.start, p.end)))
            .collect())
    })
}

/// Counts whitespace-separated words of a UTF-8 file, streaming it.
#[pyfunction]
fn count_words_in_file(py: Python<'_>, path: PathBuf) -> PyResult<Vec<(String, u64)>> {
    guarded_detached(py, || Ok(count_file(&path)?.into_sorted()))
}

/// Counts whitespace-separated words of the given lines.
#[pyfunction]
fn count_words(py: Python<'_>, lines: Vec<String>) -> PyResult<Vec<(String, u64)>> {
    guarded_detached(py, || {
        let mut counter = WordCounter::new();
        for line in &lines {
            counter.add_line(line);
        }
        Ok(counter.into_sorted())
    })
}

/// Panics on purpose, so tests can prove a panic reaches Python as an exception.
#[pyfunction]
fn _panic_for_tests(py: Python<'_>, message: String) -> PyResult<()> {
    guarded_detached(py, || -> crate::Result<()> { panic!("{message}") })
}

#[pymodule]
#[pyo3(name = "_core")]
fn core_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("InternalError", m.py().get_type::<InternalError>())?;
    m.add("MissingFileError", missing_file_error(m.py())?)?;
    m.add_function(wrap_pyfunction!(pre_tokenize, m)?)?;
    m.add_function(wrap_pyfunction!(count_words_in_file, m)?)?;
    m.add_function(wrap_pyfunction!(count_words, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    arrays::register(m)?;
    wordpiece::register(m)?;
    bert_pretraining::register(m)?;
    bpe::register(m)?;
    word2vec::register(m)?;
    Ok(())
}
