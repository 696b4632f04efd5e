//! Bindings for BERT's pretraining data (`rust/src/bert_pretraining/`).
//!
//! Arrays cross as `bytes` of little-endian int64 (Python wraps them with
//! `np.frombuffer`): abi3 for Python 3.10 has no buffer protocol to share
//! memory, and one memcpy per call is cheap next to the work.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::errors::{guarded, guarded_detached};
use crate::bert_pretraining::masking::{mask_tokens, MaskingConfig};
use crate::bert_pretraining::pairs::build_pairs;
use crate::bert_pretraining::SpecialIds;
use crate::error::Error;
use crate::parallel::map_ordered;
use crate::rng::SplitMix64;

fn int64_bytes<'py>(py: Python<'py>, values: &[i64]) -> Bound<'py, PyBytes> {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    PyBytes::new(py, &bytes)
}

fn read_int64(bytes: &[u8], what: &str) -> Result<Vec<i64>, Error> {
    if bytes.len() % 8 != 0 {
        return Err(Error::InvalidArgument(format!(
            "{what}: {} bytes is not a whole number of int64 values",
            bytes.len()
        )));
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().expect("chunks of 8")))
        .collect())
}

type PairArrays<'py> = (
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    usize,
);

/// Sentence pairs padded to `max_length`: (input_ids, token_type_ids,
/// next_sentence_label, count) as int64 bytes.
#[pyfunction]
#[pyo3(signature = (documents, max_length, cls_id, sep_id, mask_id, pad_id, seed))]
#[allow(clippy::too_many_arguments)]
fn bert_pretraining_pairs<'py>(
    py: Python<'py>,
    documents: Vec<Vec<Vec<u32>>>,
    max_length: usize,
    cls_id: u32,
    sep_id: u32,
    mask_id: u32,
    pad_id: u32,
    seed: u64,
) -> PyResult<PairArrays<'py>> {
    let special = SpecialIds {
        cls: cls_id,
        sep: sep_id,
        mask: mask_id,
        pad: pad_id,
    };
    let (ids, types, labels, count) = guarded_detached(py, || {
        let examples = build_pairs(&documents, max_length, special, seed)?;
        let mut ids = vec![i64::from(pad_id); examples.len() * max_length];
        let mut types = vec![0i64; examples.len() * max_length];
        let mut labels = Vec::with_capacity(examples.len());
        for (row, ex) in examples.iter().enumerate() {
            let start = row * max_length;
            for (k, (&id, &ty)) in ex.input_ids.iter().zip(&ex.token_type_ids).enumerate() {
                ids[start + k] = i64::from(id);
                types[start + k] = i64::from(ty);
            }
            labels.push(i64::from(ex.next_sentence_label));
        }
        Ok((ids, types, labels, examples.len()))
    })?;
    Ok((
        int64_bytes(py, &ids),
        int64_bytes(py, &types),
        int64_bytes(py, &labels),
        count,
    ))
}

/// Masks rows of `width` int64 ids; returns (masked ids, labels) as int64 bytes.
///
/// Positions holding `[CLS]`, `[SEP]` or `[PAD]` are never masked.
/// `is_continuation` has one byte per vocabulary id (1 for `##` pieces).
/// Row r uses its own stream seeded from (seed, r), so results do not depend
/// on the thread count.
#[pyfunction]
#[pyo3(signature = (input_ids, width, is_continuation, cls_id, sep_id, mask_id, pad_id, probability, first_random_id, whole_word, seed, num_threads=None))]
#[allow(clippy::too_many_arguments)]
fn bert_mask_tokens<'py>(
    py: Python<'py>,
    input_ids: &[u8],
    width: usize,
    is_continuation: &[u8],
    cls_id: u32,
    sep_id: u32,
    mask_id: u32,
    pad_id: u32,
    probability: f64,
    first_random_id: u32,
    whole_word: bool,
    seed: u64,
    num_threads: Option<usize>,
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    let ids = guarded(|| read_int64(input_ids, "input_ids"))?;
    let (masked, labels) = guarded_detached(py, || {
        if width == 0 || ids.len() % width != 0 {
            return Err(Error::InvalidArgument(format!(
                "{} ids do not form rows of width {width}",
                ids.len()
            )));
        }
        if !(0.0..=1.0).contains(&probability) {
            return Err(Error::InvalidArgument(format!(
                "masking probability must be in [0, 1], got {probability}"
            )));
        }
        let vocab_size = is_continuation.len() as u32;
        if let Some(&bad) = ids
            .iter()
            .find(|&&id| id < 0 || id >= i64::from(vocab_size))
        {
            return Err(Error::InvalidArgument(format!(
                "token id {bad} is outside the vocabulary of {vocab_size}"
            )));
        }
        let special = SpecialIds {
            cls: cls_id,
            sep: sep_id,
            mask: mask_id,
            pad: pad_id,
        };
        let config = MaskingConfig {
            probability,
            first_random_id,
            vocab_size,
            whole_word,
        };
        let rows: Vec<usize> = (0..ids.len() / width).collect();
        let threads = num_threads.unwrap_or_else(crate::parallel::default_threads);
        let results = map_ordered(&rows, threads, |&index| {
            let row = &ids[index * width..(index + 1) * width];
            let mut row_ids: Vec<u32> = row.iter().map(|&v| v as u32).collect();
            let is_special: Vec<bool> = row_ids
                .iter()
                .map(|&t| t == cls_id || t == sep_id || t == pad_id)
                .collect();
            let continuation: Vec<bool> = row_ids
                .iter()
                .map(|&t| is_continuation[t as usize] != 0)
                .collect();
            let mut rng = SplitMix64::for_stream(seed, index as u64);
            let labels = mask_tokens(
                &mut row_ids,
                &is_special,
                &continuation,
                special,
                config,
                &mut rng,
            );
            (row_ids, labels)
        });
        let mut masked = Vec::with_capacity(ids.len());
        let mut labels = Vec::with_capacity(ids.len());
        for (row_ids, row_labels) in results {
            masked.extend(row_ids.into_iter().map(i64::from));
            labels.extend(row_labels);
        }
        Ok((masked, labels))
    })?;
    Ok((int64_bytes(py, &masked), int64_bytes(py, &labels)))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(bert_pretraining_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(bert_mask_tokens, m)?)?;
    Ok(())
}
