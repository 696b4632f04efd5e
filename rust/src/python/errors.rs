//! The one place where Rust failures become Python exceptions.
//!
//! Core errors map to the built-in exception a Python user expects
//! (`OSError` subclasses, `ValueError`). A missing input file raises
//! `ptm_fast.MissingFileError`, which is both a `FileNotFoundError` and a
//! `ValueError`, so either `except` clause catches it. A panic is caught before it can
//! cross into Python and becomes `ptm_fast.InternalError`, a `RuntimeError`,
//! so a bug in the core is an ordinary exception, never an abort.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::create_exception;
use pyo3::exceptions::{PyKeyboardInterrupt, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

use crate::error::Error;

create_exception!(
    ptm_fast,
    InternalError,
    PyRuntimeError,
    "A bug inside ptm_fast's Rust core (a caught panic). Please report it with the message."
);

static MISSING_FILE_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// `class MissingFileError(FileNotFoundError, ValueError)`, built once.
///
/// PyO3's `create_exception!` takes a single base, so the class is made by
/// calling `type()` with both bases.
pub(crate) fn missing_file_error(py: Python<'_>) -> PyResult<Bound<'_, PyType>> {
    let class = MISSING_FILE_ERROR.get_or_try_init(py, || -> PyResult<Py<PyType>> {
        let builtins = py.import("builtins")?;
        let bases = PyTuple::new(
            py,
            [
                builtins.getattr("FileNotFoundError")?,
                builtins.getattr("ValueError")?,
            ],
        )?;
        let namespace = PyDict::new(py);
        namespace.set_item("__module__", "ptm_fast")?;
        namespace.set_item(
            "__doc__",
            "An input file does not exist. Both a FileNotFoundError (errno, \
             filename) and a ValueError, so either except clause catches it.",
        )?;
        let class = builtins
            .getattr("type")?
            .call1(("MissingFileError", bases, namespace))?;
        Ok(class.cast_into::<PyType>()?.unbind())
    })?;
    Ok(class.bind(py).clone())
}

impl From<Error> for PyErr {
    fn from(err: Error) -> PyErr {
        match &err {
            // OSError(errno, strerror, filename) picks the matching subclass
            // (FileNotFoundError, PermissionError, ...) and fills `.filename`.
            Error::Io { path, source } => match source.raw_os_error() {
                Some(errno) if source.kind() == std::io::ErrorKind::NotFound => {
                    Python::attach(|py| match missing_file_error(py) {
                        Ok(class) => PyErr::from_type(
                            class,
                            (errno, strerror(source), path.to_string_lossy().into_owned()),
                        ),
                        Err(e) => e,
                    })
                }
                Some(errno) => PyOSError::new_err((
                    errno,
                    strerror(source),
                    path.to_string_lossy().into_owned(),
                )),
                None => PyOSError::new_err(err.to_string()),
            },
            Error::InvalidUtf8 { .. } | Error::Malformed { .. } | Error::InvalidArgument(_) => {
                PyValueError::new_err(err.to_string())
            }
            Error::Interrupted => PyKeyboardInterrupt::new_err("interrupted"),
        }
    }
}

/// The OS's description of an error, without the " (os error N)" that
/// `io::Error` appends: Python prints the errno itself.
fn strerror(err: &std::io::Error) -> String {
    let text = err.to_string();
    match text.rfind(" (os error ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "unknown panic payload"
    }
}

/// Runs `f`, turning a core error or a panic into a Python exception.
pub(crate) fn guarded<T>(f: impl FnOnce() -> Result<T, Error>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result.map_err(PyErr::from),
        Err(payload) => Err(InternalError::new_err(format!(
            "internal error in ptm_fast's Rust core: {}",
            panic_message(payload.as_ref())
        ))),
    }
}

/// Like [`guarded`], with the GIL released for the whole call: for work long
/// enough that other Python threads should run meanwhile.
pub(crate) fn guarded_detached<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> Result<T, Error> + Send,
) -> PyResult<T> {
    let outcome = py.detach(|| catch_unwind(AssertUnwindSafe(f)));
    guarded(|| match outcome {
        Ok(result) => result,
        Err(payload) => std::panic::resume_unwind(payload),
    })
}

/// Like [`guarded_detached`] for a loop that asks `keep_going` between rounds:
/// it answers false once Python has a pending signal (Ctrl-C), and that
/// signal's exception (KeyboardInterrupt, or what a handler raised) is what
/// the call raises.
pub(crate) fn interruptible_detached<T: Send>(
    py: Python<'_>,
    f: impl FnOnce(&dyn Fn() -> bool) -> Result<T, Error> + Send,
) -> PyResult<T> {
    let pending: std::sync::Mutex<Option<PyErr>> = std::sync::Mutex::new(None);
    let keep_going = || {
        Python::attach(|py| match py.check_signals() {
            Ok(()) => true,
            Err(err) => {
                *pending.lock().unwrap_or_else(|e| e.into_inner()) = Some(err);
                false
            }
        })
    };
    let outcome = guarded_detached(py, || f(&keep_going));
    match pending.into_inner().unwrap_or_else(|e| e.into_inner()) {
        Some(err) if outcome.is_err() => Err(err),
        _ => outcome,
    }
}
