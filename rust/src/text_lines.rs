//! Reading a UTF-8 text file line by line, streamed, with errors that name the
//! file and the line.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The lines of a text file, read into one reused buffer.
pub struct TextLines {
    reader: BufReader<File>,
    path: PathBuf,
    buffer: Vec<u8>,
    line: u64,
}

impl TextLines {
    /// Opens `path`; a missing file is an [`Error::Io`] naming it.
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        Ok(Self {
            reader: BufReader::with_capacity(1 << 20, file),
            path: path.to_path_buf(),
            buffer: Vec::new(),
            line: 0,
        })
    }

    /// The next line, newline included, or `None` at the end of the file.
    /// Bytes that are not UTF-8 are an [`Error::InvalidUtf8`] naming the line.
    pub fn next_line(&mut self) -> Result<Option<&str>> {
        self.buffer.clear();
        let n = self
            .reader
            .read_until(b'\n', &mut self.buffer)
            .map_err(|e| Error::io(&self.path, e))?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        match std::str::from_utf8(&self.buffer) {
            Ok(line) => Ok(Some(line)),
            Err(e) => Err(Error::InvalidUtf8 {
                path: self.path.clone(),
                line: self.line,
                column: e.valid_up_to(),
            }),
        }
    }
}
