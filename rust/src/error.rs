//! The one error type of the Rust core.
//!
//! Every variant carries what a user needs to find the problem (the file, the
//! line, the offending value); the Python layer maps each variant to the
//! matching built-in exception in one place (`python/errors.rs`).

use std::io;
use std::path::{Path, PathBuf};

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Opening or reading a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// A text file is not valid UTF-8. `line` counts from 1 and `column` is
    /// the byte offset inside that line where the bad sequence starts.
    #[error("{}, line {line}: invalid UTF-8 at byte {column} of the line", path.display())]
    InvalidUtf8 {
        path: PathBuf,
        line: u64,
        column: usize,
    },

    /// A data file (vocabulary, merges, ranks) has a malformed line. `line`
    /// counts from 1; 0 means the file as a whole.
    #[error("{}{}: {message}", path.display(), at_line(*.line))]
    Malformed {
        path: PathBuf,
        line: u64,
        message: String,
    },

    /// An argument is out of its allowed range or malformed.
    #[error("{0}")]
    InvalidArgument(String),

    /// The caller asked a long loop to stop (Ctrl-C): it stopped cleanly.
    #[error("interrupted")]
    Interrupted,
}

/// ", line N" for a line, nothing for the file as a whole (line 0).
fn at_line(line: u64) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(", line {line}")
    }
}

impl Error {
    pub fn io(path: &Path, source: io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
