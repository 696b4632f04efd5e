//! Bindings for the byte-level BPE tokenizer (`rust/src/bpe/`).

use pyo3::prelude::*;

pub(crate) fn register(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
