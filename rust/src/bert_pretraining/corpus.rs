//! The pretraining corpus: documents encoded once with a WordPiece tokenizer,
//! cut into next-sentence pairs, and masked batches drawn from it in one call.

use std::path::Path;

use super::documents::read_documents;
use super::masking::{mask_rows, MaskingConfig, IGNORE};
use super::pairs::{build_pairs, PairExample};
use super::roles::TokenRoles;
use crate::error::{Error, Result};
use crate::parallel::map_ordered;
use crate::wordpiece::WordPieceTokenizer;

/// Sentences are encoded this many at a time, on the calling threads.
const ENCODE_CHUNK: usize = 8192;

/// Sentence pairs ready for masked-LM + next-sentence batches.
#[derive(Debug, Clone)]
pub struct PretrainingCorpus {
    pairs: Vec<PairExample>,
    roles: TokenRoles,
    max_length: usize,
}

/// One masked batch, every array row-major `rows x width` (the longest pair
/// of the batch) except `next_sentence_label` (`rows`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub rows: usize,
    pub width: usize,
    pub input_ids: Vec<i64>,
    pub token_type_ids: Vec<i64>,
    pub attention_mask: Vec<i64>,
    /// The original id where the model must predict, [`IGNORE`] elsewhere.
    pub labels: Vec<i64>,
    /// 0: B follows A; 1: B is random.
    pub next_sentence_label: Vec<i64>,
}

/// Encodes sentences chunk by chunk into documents of token ids.
struct DocumentEncoder<'a> {
    tokenizer: &'a WordPieceTokenizer,
    threads: usize,
    pending: Vec<(usize, String)>,
    documents: Vec<Vec<Vec<u32>>>,
}

impl DocumentEncoder<'_> {
    fn push(&mut self, document: usize, sentence: &str) {
        self.pending.push((document, sentence.to_owned()));
        if self.pending.len() >= ENCODE_CHUNK {
            self.flush();
        }
    }

    fn flush(&mut self) {
        let tokenizer = self.tokenizer;
        let encoded = map_ordered(&self.pending, self.threads, |(_, sentence)| {
            let mut tokens = Vec::with_capacity(sentence.len() / 4 + 4);
            tokenizer.tokenize(sentence, &mut tokens);
            tokens.iter().map(|t| t.id).collect::<Vec<u32>>()
        });
        for ((document, _), ids) in self.pending.drain(..).zip(encoded) {
            if self.documents.len() <= document {
                self.documents.resize_with(document + 1, Vec::new);
            }
            self.documents[document].push(ids);
        }
    }

    fn finish(mut self) -> Vec<Vec<Vec<u32>>> {
        self.flush();
        self.documents
    }
}

impl PretrainingCorpus {
    /// Reads a corpus file (one sentence per line, a blank line between
    /// documents, streamed), encodes it and builds pairs of at most
    /// `max_length` tokens; `seed` fixes which pairs get a random B.
    pub fn from_file(
        tokenizer: &WordPieceTokenizer,
        path: &Path,
        max_length: usize,
        seed: u64,
        threads: usize,
    ) -> Result<Self> {
        Self::encode(tokenizer, max_length, seed, threads, |encoder| {
            read_documents(path, |document, sentence| {
                encoder.push(document, sentence);
                Ok(())
            })
            .map(|_| ())
        })
    }

    /// Like [`from_file`](Self::from_file), from documents given as lists of sentences.
    pub fn from_documents(
        tokenizer: &WordPieceTokenizer,
        documents: &[Vec<String>],
        max_length: usize,
        seed: u64,
        threads: usize,
    ) -> Result<Self> {
        Self::encode(tokenizer, max_length, seed, threads, |encoder| {
            for (d, document) in documents.iter().enumerate() {
                for sentence in document {
                    encoder.push(d, sentence);
                }
            }
            Ok(())
        })
    }

    /// Runs `feed` on an encoder, then builds the pairs of what it encoded.
    fn encode(
        tokenizer: &WordPieceTokenizer,
        max_length: usize,
        seed: u64,
        threads: usize,
        feed: impl FnOnce(&mut DocumentEncoder<'_>) -> Result<()>,
    ) -> Result<Self> {
        let roles = TokenRoles::from_tokenizer(tokenizer)?;
        let mut encoder = DocumentEncoder {
            tokenizer,
            threads,
            pending: Vec::new(),
            documents: Vec::new(),
        };
        feed(&mut encoder)?;
        Self::from_encoded(roles, &encoder.finish(), max_length, seed)
    }

    fn from_encoded(
        roles: TokenRoles,
        documents: &[Vec<Vec<u32>>],
        max_length: usize,
        seed: u64,
    ) -> Result<Self> {
        let pairs = build_pairs(documents, max_length, roles.special, seed)?;
        Ok(PretrainingCorpus {
            pairs,
            roles,
            max_length,
        })
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    pub fn max_length(&self) -> usize {
        self.max_length
    }

    pub fn roles(&self) -> &TokenRoles {
        &self.roles
    }

    pub fn pairs(&self) -> &[PairExample] {
        &self.pairs
    }

    /// The next-sentence label of every pair, in order.
    pub fn next_sentence_labels(&self) -> Vec<i64> {
        self.pairs
            .iter()
            .map(|p| i64::from(p.next_sentence_label))
            .collect()
    }

    fn check_rows(&self, rows: &[usize]) -> Result<()> {
        match rows.iter().find(|&&r| r >= self.pairs.len()) {
            Some(r) => Err(Error::InvalidArgument(format!(
                "row {r} is out of range: the corpus has {} pairs",
                self.pairs.len()
            ))),
            None => Ok(()),
        }
    }

    /// How often each id occurs in the pairs `rows`; reserved ids count 0.
    pub fn token_counts(&self, rows: &[usize]) -> Result<Vec<i64>> {
        self.check_rows(rows)?;
        let mut counts = vec![0i64; self.roles.vocab_size()];
        for &r in rows {
            for &id in &self.pairs[r].input_ids {
                if !self.roles.is_reserved(id) {
                    counts[id as usize] += 1;
                }
            }
        }
        Ok(counts)
    }

    /// The pairs `rows`, padded to the longest of them and masked with
    /// `seed` (the same rows and seed give the same batch).
    pub fn batch(
        &self,
        rows: &[usize],
        seed: u64,
        masking: MaskingConfig,
        threads: usize,
    ) -> Result<Batch> {
        if rows.is_empty() {
            return Err(Error::InvalidArgument(
                "a batch needs at least one row".into(),
            ));
        }
        self.check_rows(rows)?;
        let examples: Vec<&PairExample> = rows.iter().map(|&r| &self.pairs[r]).collect();
        let width = examples
            .iter()
            .map(|e| e.input_ids.len())
            .max()
            .unwrap_or(0);
        let n = rows.len();
        let mut ids = vec![self.roles.special.pad; n * width];
        let mut token_type_ids = vec![0i64; n * width];
        let mut attention_mask = vec![0i64; n * width];
        for (k, e) in examples.iter().enumerate() {
            let row = k * width..k * width + e.input_ids.len();
            ids[row.clone()].copy_from_slice(&e.input_ids);
            for (dst, &t) in token_type_ids[row.clone()]
                .iter_mut()
                .zip(&e.token_type_ids)
            {
                *dst = i64::from(t);
            }
            attention_mask[row].fill(1);
        }
        let labels = mask_rows(&mut ids, width, &self.roles, masking, seed, threads)?;
        debug_assert!(labels.len() == n * width && !labels.contains(&(IGNORE - 1)));
        Ok(Batch {
            rows: n,
            width,
            input_ids: ids.into_iter().map(i64::from).collect(),
            token_type_ids,
            attention_mask,
            labels,
            next_sentence_label: examples
                .iter()
                .map(|e| i64::from(e.next_sentence_label))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bert_pretraining::pairs::IS_NEXT;
    use crate::bert_pretraining::roles::tests::tokenizer;

    const MASKING: MaskingConfig = MaskingConfig {
        probability: 0.15,
        whole_word: false,
    };

    /// Documents whose words say which document they come from.
    fn documents() -> Vec<Vec<String>> {
        (0..8)
            .map(|d| {
                (0..6)
                    .map(|s| {
                        (0..4 + s % 3)
                            .map(|k| format!("w{}", (d * 5 + s + k) % 40))
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn batches_are_padded_masked_and_seeded() {
        let tok = tokenizer();
        let corpus = PretrainingCorpus::from_documents(&tok, &documents(), 24, 1, 2).unwrap();
        assert!(corpus.len() > 8);
        let roles = corpus.roles();
        let rows: Vec<usize> = (0..corpus.len()).rev().step_by(2).collect();
        let b = corpus.batch(&rows, 5, MASKING, 1).unwrap();
        let longest = rows
            .iter()
            .map(|&r| corpus.pairs()[r].input_ids.len())
            .max();
        assert_eq!((b.rows, Some(b.width)), (rows.len(), longest));
        let plain = corpus
            .batch(
                &rows,
                5,
                MaskingConfig {
                    probability: 0.0,
                    ..MASKING
                },
                1,
            )
            .unwrap();
        assert!(plain.labels.iter().all(|&l| l == IGNORE));
        for (k, &r) in rows.iter().enumerate() {
            let pair = &corpus.pairs()[r];
            let row = k * b.width..(k + 1) * b.width;
            let ids: Vec<i64> = pair.input_ids.iter().map(|&t| i64::from(t)).collect();
            assert_eq!(plain.input_ids[row.start..row.start + ids.len()], ids[..]);
            let real = b.attention_mask[row.clone()].iter().sum::<i64>() as usize;
            assert_eq!(real, ids.len());
            assert!(plain.input_ids[row.start + real..row.end]
                .iter()
                .all(|&t| t == i64::from(roles.special.pad)));
            assert_eq!(
                b.next_sentence_label[k],
                i64::from(pair.next_sentence_label)
            );
            for i in row.clone() {
                if b.labels[i] == IGNORE {
                    assert_eq!(b.input_ids[i], plain.input_ids[i]);
                } else {
                    assert_eq!(b.labels[i], plain.input_ids[i]);
                    assert!(!roles.is_reserved(b.labels[i] as u32));
                }
            }
        }
        assert_eq!(b, corpus.batch(&rows, 5, MASKING, 3).unwrap());
        assert_ne!(b.labels, corpus.batch(&rows, 6, MASKING, 1).unwrap().labels);
        let labels = corpus.next_sentence_labels();
        assert!(labels.contains(&i64::from(IS_NEXT)) && labels.contains(&1));
    }

    #[test]
    fn bad_rows_and_token_counts() {
        let tok = tokenizer();
        let corpus = PretrainingCorpus::from_documents(&tok, &documents(), 16, 1, 1).unwrap();
        let n = corpus.len();
        let err = corpus.batch(&[0, n], 0, MASKING, 1).unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("row {n} is out of range")),
            "{err}"
        );
        assert!(corpus.batch(&[], 0, MASKING, 1).is_err());
        let counts = corpus.token_counts(&[0, 1]).unwrap();
        let real: usize = [0, 1]
            .iter()
            .map(|&r| corpus.pairs()[r].input_ids.len() - 3)
            .sum();
        assert_eq!(counts.iter().sum::<i64>() as usize, real);
        assert!(corpus
            .roles()
            .reserved_ids()
            .iter()
            .all(|&id| counts[id as usize] == 0));
    }

    #[test]
    fn a_file_and_its_documents_give_the_same_corpus() {
        let tok = tokenizer();
        let docs = documents();
        let text: String = docs.iter().map(|d| d.join("\n") + "\n\n").collect();
        let path = std::env::temp_dir().join(format!("ptm_corpus_{}.txt", std::process::id()));
        std::fs::write(&path, text).unwrap();
        let from_file = PretrainingCorpus::from_file(&tok, &path, 20, 3, 2).unwrap();
        std::fs::remove_file(&path).unwrap();
        let from_docs = PretrainingCorpus::from_documents(&tok, &docs, 20, 3, 1).unwrap();
        assert_eq!(from_file.pairs(), from_docs.pairs());
        let err = PretrainingCorpus::from_file(&tok, &path, 20, 3, 1).unwrap_err();
        assert!(matches!(err, Error::Io { .. }));
    }
}
