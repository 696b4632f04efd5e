//! Bindings for the WordPiece tokenizer (`rust/src/wordpiece/`).

use pyo3::prelude::*;

pub(crate) fn register(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
