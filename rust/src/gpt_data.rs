//! GPT's training data: a corpus tokenized into one flat file of token ids.
//!
//! Documents are encoded on several threads (in order), each followed by the
//! end-of-text id, and written as little-endian u16 (vocabularies up to
//! 65,536) or u32 to a temporary file that is renamed into place when
//! complete, so a reader never sees a half-written file. The file is then
//! memory-mapped from Python (`numpy.memmap`) for block sampling.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::bpe::ByteLevelBpe;
use crate::error::{Error, Result};
use crate::parallel::map_balanced;
use crate::text_lines::TextLines;

/// Documents encoded per round when streaming a file: bounds memory, keeps threads busy.
const DOCUMENTS_PER_ROUND: usize = 4096;

/// Writes ids in the file's width, through a temporary file.
struct TokenWriter {
    out: BufWriter<File>,
    partial: PathBuf,
    path: PathBuf,
    wide: bool,
    written: u64,
}

impl TokenWriter {
    fn create(path: &Path, vocab_size: usize) -> Result<Self> {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let partial = path.with_file_name(format!(".{}.partial", name.unwrap_or_default()));
        let file = File::create(&partial).map_err(|e| Error::io(&partial, e))?;
        Ok(Self {
            out: BufWriter::with_capacity(1 << 20, file),
            partial,
            path: path.to_path_buf(),
            wide: vocab_size > 1 << 16,
            written: 0,
        })
    }

    fn write(&mut self, ids: &[u32]) -> Result<()> {
        let result = if self.wide {
            ids.iter()
                .try_for_each(|id| self.out.write_all(&id.to_le_bytes()))
        } else {
            ids.iter()
                .try_for_each(|&id| self.out.write_all(&(id as u16).to_le_bytes()))
        };
        result.map_err(|e| Error::io(&self.partial, e))?;
        self.written += ids.len() as u64;
        Ok(())
    }

    fn finish(mut self) -> Result<u64> {
        self.out.flush().map_err(|e| Error::io(&self.partial, e))?;
        self.out
            .get_ref()
            .sync_all()
            .map_err(|e| Error::io(&self.partial, e))?;
        fs::rename(&self.partial, &self.path).map_err(|e| Error::io(&self.path, e))?;
        Ok(self.written)
    }
}

impl Drop for TokenWriter {
    fn drop(&mut self) {
        // After a successful rename there is nothing left to remove.
        let _ = fs::remove_file(&self.partial);
    }
}

fn check_eot(bpe: &ByteLevelBpe, eot: u32) -> Result<()> {
    if eot as usize >= bpe.vocab_size() {
        return Err(Error::InvalidArgument(format!(
            "end-of-text id {eot} is outside the vocabulary of {}",
            bpe.vocab_size()
        )));
    }
    Ok(())
}

fn encode_round(
    bpe: &ByteLevelBpe,
    documents: &[String],
    eot: u32,
    threads: usize,
    writer: &mut TokenWriter,
) -> Result<()> {
    let encoded = map_balanced(documents, threads, |doc| bpe.encode_ordinary(doc));
    for ids in encoded {
        writer.write(&ids)?;
        writer.write(&[eot])?;
    }
    Ok(())
}

/// Encodes `documents` into `path`; returns the number of tokens written.
pub fn pack_documents(
    bpe: &ByteLevelBpe,
    documents: &[String],
    eot: u32,
    path: &Path,
    threads: usize,
    keep_going: &dyn Fn() -> bool,
) -> Result<u64> {
    check_eot(bpe, eot)?;
    let mut writer = TokenWriter::create(path, bpe.vocab_size())?;
    for round in documents.chunks(DOCUMENTS_PER_ROUND) {
        if !keep_going() {
            return Err(Error::Interrupted); // the writer's drop removes the partial file
        }
        encode_round(bpe, round, eot, threads, &mut writer)?;
    }
    writer.finish()
}

/// Streams a UTF-8 text file whose documents are separated by blank lines
/// into `path`; returns the number of tokens written. The input is never held
/// in memory whole.
pub fn pack_file(
    bpe: &ByteLevelBpe,
    input: &Path,
    eot: u32,
    path: &Path,
    threads: usize,
    keep_going: &dyn Fn() -> bool,
) -> Result<u64> {
    check_eot(bpe, eot)?;
    let mut lines = TextLines::open(input)?;
    let mut writer = TokenWriter::create(path, bpe.vocab_size())?;
    let mut round: Vec<String> = Vec::with_capacity(DOCUMENTS_PER_ROUND);
    let mut current = String::new();
    loop {
        let line = lines.next_line()?;
        let end_of_document = line.is_none_or(|l| l.trim().is_empty());
        if let Some(text) = line.filter(|l| !l.trim().is_empty()) {
            current.push_str(text);
        }
        if end_of_document && !current.is_empty() {
            // A document's text keeps its own line breaks, minus the last one.
            round.push(current.strip_suffix('\n').unwrap_or(&current).to_owned());
            current.clear();
            if round.len() == DOCUMENTS_PER_ROUND {
                if !keep_going() {
                    return Err(Error::Interrupted);
                }
                encode_round(bpe, &round, eot, threads, &mut writer)?;
                round.clear();
            }
        }
        if line.is_none() {
            break;
        }
    }
    encode_round(bpe, &round, eot, threads, &mut writer)?;
    writer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A byte-level BPE with only the 256 single-byte tokens and `<eot>` = 256.
    fn bytes_only() -> ByteLevelBpe {
        let ranks = (0..=255u8).map(|b| (vec![b], u32::from(b))).collect();
        ByteLevelBpe::from_ranks(ranks, vec![("<eot>".to_string(), 256)]).unwrap()
    }

    fn read_u16(path: &Path) -> Vec<u16> {
        fs::read(path)
            .unwrap()
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect()
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ptm_fast_gpt_data_{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn documents_are_followed_by_end_of_text() {
        let out = scratch("docs.bin");
        let docs = vec!["ab".to_string(), "c".to_string()];
        let written = pack_documents(&bytes_only(), &docs, 256, &out, 2, &|| true).unwrap();
        assert_eq!(written, 5);
        assert_eq!(read_u16(&out), [97, 98, 256, 99, 256]);
    }

    #[test]
    fn a_stop_request_leaves_neither_output_nor_partial_file() {
        let out = scratch("stopped.bin");
        let docs = vec!["ab".to_string(); DOCUMENTS_PER_ROUND * 2];
        let asked = std::cell::Cell::new(0);
        let keep_going = || {
            asked.set(asked.get() + 1);
            asked.get() < 2 // the second round is refused
        };
        let err = pack_documents(&bytes_only(), &docs, 256, &out, 1, &keep_going).unwrap_err();
        assert!(matches!(err, Error::Interrupted));
        assert!(!out.exists());
        assert!(!out.with_file_name(".stopped.bin.partial").exists());
    }

    #[test]
    fn a_file_streams_to_the_same_tokens() {
        let input = scratch("corpus.txt");
        fs::write(&input, "first doc\nline two\n\n\nsecond\n").unwrap();
        let from_file = scratch("file.bin");
        pack_file(&bytes_only(), &input, 256, &from_file, 2, &|| true).unwrap();
        let from_docs = scratch("mem.bin");
        let docs = vec!["first doc\nline two".to_string(), "second".to_string()];
        pack_documents(&bytes_only(), &docs, 256, &from_docs, 1, &|| true).unwrap();
        assert_eq!(read_u16(&from_file), read_u16(&from_docs));
    }

    #[test]
    fn bad_input_names_the_problem() {
        let bpe = bytes_only();
        let out = scratch("never.bin");
        let err = pack_documents(&bpe, &[], 999, &out, 1, &|| true).unwrap_err();
        assert!(err.to_string().contains("999"));
        let input = scratch("latin1.txt");
        fs::write(&input, b"ok\n\xe9t\xe9\n").unwrap();
        let err = pack_file(&bpe, &input, 256, &out, 1, &|| true).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        assert!(!out.exists(), "no output on failure");
        assert!(
            !scratch(".never.bin.partial").exists(),
            "no partial file left"
        );
    }
}
