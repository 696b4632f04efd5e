//! The arguments and result of the transformers-style batch calls
//! (`crate::batch_encoding`), shared by the WordPiece and BPE bindings.

use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::arrays::Array;
use crate::batch_encoding::{EncodedBatch, Padding, Side, Strategy, Truncation};
use crate::error::Result;

/// `(strategy, max_length, side)`, as the Python layer resolves it.
pub(crate) type TruncationArg = Option<(String, usize, String)>;
/// `(length or None for the longest row, pad_to_multiple_of, side, pad id)`.
pub(crate) type PaddingArg = Option<(Option<usize>, Option<usize>, String, u32)>;

pub(crate) fn truncation(arg: &TruncationArg) -> Result<Option<Truncation>> {
    arg.as_ref()
        .map(|(strategy, max_length, side)| {
            Ok(Truncation {
                strategy: Strategy::from_name(strategy)?,
                max_length: *max_length,
                side: Side::from_name(side)?,
            })
        })
        .transpose()
}

pub(crate) fn padding(arg: &PaddingArg) -> Result<Option<Padding>> {
    arg.as_ref()
        .map(|(length, multiple_of, side, pad_id)| {
            Ok(Padding {
                length: *length,
                multiple_of: *multiple_of,
                side: Side::from_name(side)?,
                pad_id: *pad_id,
            })
        })
        .transpose()
}

/// The batch as a dict of flat int64 [`Array`]s (`offset_mapping` as
/// `(tokens, 2)`, only when filled) plus `length`, the tokens of each row.
pub(crate) fn to_dict(py: Python<'_>, batch: EncodedBatch) -> PyResult<Bound<'_, PyDict>> {
    let flat = |values: Vec<i64>| {
        let n = values.len();
        Array::int64(values, vec![n])
    };
    let d = PyDict::new(py);
    let offsets = batch.offsets;
    let has_offsets = !offsets.is_empty() || batch.input_ids.is_empty();
    d.set_item("input_ids", flat(batch.input_ids))?;
    d.set_item("token_type_ids", flat(batch.token_type_ids))?;
    d.set_item("attention_mask", flat(batch.attention_mask))?;
    d.set_item("special_tokens_mask", flat(batch.special_tokens_mask))?;
    if has_offsets {
        let n = offsets.len() / 2;
        d.set_item("offset_mapping", Array::int64(offsets, vec![n, 2]))?;
    }
    d.set_item("length", flat(batch.lengths))?;
    Ok(d)
}
