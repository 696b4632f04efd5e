//! The pretraining corpus format: one sentence per line, a blank line
//! between documents (the format of BERT's original data). Streamed.

use std::path::Path;

use crate::error::{Error, Result};
use crate::text_lines::TextLines;

/// Calls `on_sentence(document, sentence)` for every non-blank line of
/// `path`, trimmed, with documents numbered from 0; returns how many
/// documents there are. Fails, naming the file and the line, on bytes that
/// are not UTF-8 or a NUL byte, and naming the file when it holds fewer than
/// two documents (next-sentence pairs need two).
pub fn read_documents(
    path: &Path,
    mut on_sentence: impl FnMut(usize, &str) -> Result<()>,
) -> Result<usize> {
    let mut lines = TextLines::open(path)?;
    let mut documents = 0;
    let mut in_document = false;
    let mut line_number = 0u64;
    while let Some(line) = lines.next_line()? {
        line_number += 1;
        if line.contains('\0') {
            return Err(Error::Malformed {
                path: path.to_path_buf(),
                line: line_number,
                message: "NUL byte in a text file".into(),
            });
        }
        let sentence = line.trim();
        if sentence.is_empty() {
            if in_document {
                documents += 1;
                in_document = false;
            }
            continue;
        }
        on_sentence(documents, sentence)?;
        in_document = true;
    }
    documents += usize::from(in_document);
    if documents < 2 {
        return Err(Error::InvalidArgument(format!(
            "{}: found {documents} document(s); next-sentence pairs need at least two \
             (separate documents with a blank line)",
            path.display()
        )));
    }
    Ok(documents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &[u8]) -> Result<Vec<Vec<String>>> {
        let dir = std::env::temp_dir().join(format!(
            "ptm_documents_{}_{}",
            std::process::id(),
            text.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("corpus.txt");
        std::fs::write(&path, text).unwrap();
        let mut docs: Vec<Vec<String>> = Vec::new();
        let outcome = read_documents(&path, |d, s| {
            if d == docs.len() {
                docs.push(Vec::new());
            }
            docs[d].push(s.to_owned());
            Ok(())
        });
        std::fs::remove_dir_all(&dir).unwrap();
        outcome.map(|n| {
            assert_eq!(n, docs.len());
            docs
        })
    }

    #[test]
    fn blank_lines_separate_documents() {
        let docs = read(b"\n  a b \nc d\n\n\n\te f\n\n").unwrap();
        assert_eq!(docs, [vec!["a b", "c d"], vec!["e f"]]);
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let err = read(b"one\ntwo\n").unwrap_err().to_string();
        assert!(err.contains("corpus.txt: found 1 document(s)"), "{err}");
        assert!(err.contains("at least two"), "{err}");
        let err = read(b"a\n\nb\nc\0d\n").unwrap_err().to_string();
        assert!(err.contains("corpus.txt, line 4: NUL byte"), "{err}");
        let err = read(b"a\n\nb\n\xffc\n").unwrap_err().to_string();
        assert!(err.contains("line 4: invalid UTF-8"), "{err}");
    }
}
