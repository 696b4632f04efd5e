//! The one way arrays cross into Python: a Rust-owned buffer exposing
//! numpy's `__array_interface__`.
//!
//! `numpy.asarray(obj)` (wrapped by `ptm_fast._arrays.to_numpy`) views the
//! memory without a copy and keeps `obj` alive as the array's base; the
//! abi3 build for Python 3.10 has no buffer protocol to do this with.
//! Results are built with the GIL released and wrapped as they are: no
//! Python object per element, no copy on either side.

use std::cell::UnsafeCell;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

/// The element types that cross.
enum Data {
    Int64(Vec<i64>),
    UInt32(Vec<u32>),
}

/// An int64 or uint32 array owned by Rust; `numpy.asarray(a)` views it.
#[pyclass(frozen, module = "ptm_fast._core")]
pub struct Array {
    data: UnsafeCell<Data>,
    shape: Vec<usize>,
}

// The Vec never moves or resizes after construction; numpy may write through
// it (the views are writable, as torch.from_numpy expects).
unsafe impl Sync for Array {}

impl Array {
    fn new(data: Data, len: usize, shape: Vec<usize>) -> Self {
        assert_eq!(len, shape.iter().product::<usize>(), "array shape");
        Array {
            data: UnsafeCell::new(data),
            shape,
        }
    }

    pub(crate) fn int64(values: Vec<i64>, shape: Vec<usize>) -> Self {
        let len = values.len();
        Self::new(Data::Int64(values), len, shape)
    }

    pub(crate) fn uint32(values: Vec<u32>, shape: Vec<usize>) -> Self {
        let len = values.len();
        Self::new(Data::UInt32(values), len, shape)
    }
}

#[pymethods]
impl Array {
    #[getter]
    fn __array_interface__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        // SAFETY: reading the Vec's pointer; the allocation lives as long as self.
        let (address, typestr) = match unsafe { &mut *self.data.get() } {
            Data::Int64(v) => (v.as_mut_ptr() as usize, "<i8"),
            Data::UInt32(v) => (v.as_mut_ptr() as usize, "<u4"),
        };
        array_interface(py, address, &self.shape, typestr)
    }

    /// The array's shape.
    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.shape)
    }
}

/// numpy's array interface (version 3) for writable memory at `address`.
pub(crate) fn array_interface<'py>(
    py: Python<'py>,
    address: usize,
    shape: &[usize],
    typestr: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("shape", PyTuple::new(py, shape)?)?;
    d.set_item("typestr", typestr)?;
    d.set_item("data", (address, false))?;
    d.set_item("version", 3)?;
    Ok(d)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Array>()
}
