//! Training examples as flat arrays, for trainers outside Rust (the torch
//! backend): skip-gram pairs or CBOW contexts, each with its negatives.
//!
//! The same stages as the native trainer (subsampling per sentence into a
//! reusable buffer, the randomly shrunk window, noise draws) from a generator
//! keyed by `(seed, epoch, job)`, so a seed gives the same batches every time.

use std::sync::Arc;

use super::corpus::{Job, JobSource, MAX_SENTENCE_WORDS};
use super::sampling::{NoiseTable, Subsampler};
use crate::error::{Error, Result};
use crate::rng::Rng;

/// Up to `batch_size` examples. Skip-gram: `inputs[k]` is the context word
/// whose input vector predicts `targets[k]`. CBOW: `contexts[k * 2 * window ..]`
/// holds the context words, padded with `pad` (the vocabulary size), and
/// `context_lengths[k]` counts the real ones. `negatives[k * negative ..]`
/// holds the noise words for example `k`, never equal to `targets[k]`
/// (unless the vocabulary has one word).
#[derive(Debug, Default, Clone)]
pub struct Batch {
    pub inputs: Vec<i64>,
    pub contexts: Vec<i64>,
    pub context_lengths: Vec<i64>,
    pub targets: Vec<i64>,
    pub negatives: Vec<i64>,
    /// Fraction of the whole run (all epochs) done at the end of this batch.
    pub progress: f64,
}

impl Batch {
    /// Number of examples.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Whether the batch holds no example.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    fn clear(&mut self) {
        self.inputs.clear();
        self.contexts.clear();
        self.context_lengths.clear();
        self.targets.clear();
        self.negatives.clear();
    }
}

/// Settings of the example stream.
#[derive(Debug, Clone)]
pub struct BatchParams {
    pub sg: bool,
    pub window: usize,
    pub negative: usize,
    pub seed: u64,
    pub epochs: usize,
}

/// Turns the jobs of a source into batches, one epoch at a time.
pub struct Batcher {
    source: Arc<dyn JobSource + Send + Sync>,
    subsampler: Subsampler,
    noise: NoiseTable,
    params: BatchParams,
    pad: i64,
    words_per_pass: u64,
    epoch: u64,
    job: Job,
    kept: Vec<u32>,
    pending: Batch,
    cursor: usize,
    exhausted: bool,
    position: u64,
}

impl Batcher {
    /// `counts`: one per vocabulary word; `id_bound`: the source's bound on ids.
    pub fn new(
        source: Arc<dyn JobSource + Send + Sync>,
        id_bound: usize,
        counts: &[u64],
        sample: f64,
        ns_exponent: f64,
        params: BatchParams,
    ) -> Result<Self> {
        if params.window == 0 || params.negative == 0 || params.epochs == 0 {
            return Err(Error::InvalidArgument(
                "window, negative and epochs must be at least 1".into(),
            ));
        }
        if params.window > MAX_SENTENCE_WORDS || params.negative > 1024 {
            return Err(Error::InvalidArgument(format!(
                "window must be at most {MAX_SENTENCE_WORDS} and negative at most 1024, got {} and {}",
                params.window, params.negative
            )));
        }
        if id_bound > counts.len() {
            return Err(Error::InvalidArgument(format!(
                "the corpus holds word ids up to {} but the vocabulary has {} words",
                id_bound - 1,
                counts.len()
            )));
        }
        let words_per_pass = source
            .words_per_pass()
            .unwrap_or_else(|| counts.iter().sum())
            .max(1);
        Ok(Batcher {
            source,
            subsampler: Subsampler::new(counts, sample)?,
            noise: NoiseTable::new(counts, ns_exponent)?,
            pad: counts.len() as i64,
            params,
            words_per_pass,
            epoch: 0,
            job: Job::default(),
            kept: Vec::new(),
            pending: Batch::default(),
            cursor: 0,
            exhausted: true,
            position: 0,
        })
    }

    /// Starts epoch `epoch` (0-based) from the first job.
    pub fn start_epoch(&mut self, epoch: usize) -> Result<()> {
        self.source.rewind()?;
        self.epoch = epoch as u64;
        self.pending.clear();
        self.cursor = 0;
        self.exhausted = false;
        self.position = self.epoch * self.words_per_pass;
        Ok(())
    }

    /// The next batch of at most `batch_size` examples, or `None` at the end of the epoch.
    pub fn next_batch(&mut self, batch_size: usize) -> Result<Option<Batch>> {
        let batch_size = batch_size.max(1);
        while self.pending.len() - self.cursor < batch_size && !self.exhausted {
            if self.source.next_job(&mut self.job)? {
                self.add_job();
            } else {
                self.exhausted = true;
            }
        }
        let available = self.pending.len() - self.cursor;
        if available == 0 {
            return Ok(None);
        }
        let take = available.min(batch_size);
        let (from, to) = (self.cursor, self.cursor + take);
        let width = 2 * self.params.window;
        let k = self.params.negative;
        let p = &self.pending;
        let batch = Batch {
            inputs: if self.params.sg {
                p.inputs[from..to].to_vec()
            } else {
                Vec::new()
            },
            contexts: if self.params.sg {
                Vec::new()
            } else {
                p.contexts[from * width..to * width].to_vec()
            },
            context_lengths: if self.params.sg {
                Vec::new()
            } else {
                p.context_lengths[from..to].to_vec()
            },
            targets: p.targets[from..to].to_vec(),
            negatives: p.negatives[from * k..to * k].to_vec(),
            progress: (self.position as f64
                / (self.words_per_pass * self.params.epochs as u64) as f64)
                .min(1.0),
        };
        self.cursor = to;
        if self.cursor == self.pending.len() {
            self.pending.clear();
            self.cursor = 0;
        }
        Ok(Some(batch))
    }

    fn add_job(&mut self) {
        // Drop what was already handed out before appending.
        if self.cursor > 0 {
            let (c, width, k) = (self.cursor, 2 * self.params.window, self.params.negative);
            let p = &mut self.pending;
            if self.params.sg {
                p.inputs.drain(..c);
            } else {
                p.contexts.drain(..c * width);
                p.context_lengths.drain(..c);
            }
            p.targets.drain(..c);
            p.negatives.drain(..c * k);
            self.cursor = 0;
        }
        let mut rng = Rng::for_keys(self.params.seed, &[self.epoch, self.job.index]);
        let window = self.params.window;
        for s in 0..self.job.starts.len().saturating_sub(1) {
            let sentence = &self.job.ids[self.job.starts[s]..self.job.starts[s + 1]];
            self.subsampler
                .filter_into(sentence, &mut rng, &mut self.kept);
            let n = self.kept.len();
            for i in 0..n {
                let word = self.kept[i];
                let reach = window - rng.below(window as u32) as usize;
                let (lo, hi) = (i.saturating_sub(reach), (i + reach + 1).min(n));
                if self.params.sg {
                    for j in (lo..hi).filter(|&j| j != i) {
                        self.pending.inputs.push(self.kept[j] as i64);
                        self.pending.targets.push(word as i64);
                        push_negatives(
                            &self.noise,
                            word,
                            self.params.negative,
                            &mut rng,
                            &mut self.pending.negatives,
                        );
                    }
                } else if hi - lo > 1 {
                    let mut written = 0;
                    for j in (lo..hi).filter(|&j| j != i) {
                        self.pending.contexts.push(self.kept[j] as i64);
                        written += 1;
                    }
                    for _ in written..2 * window {
                        self.pending.contexts.push(self.pad);
                    }
                    self.pending.context_lengths.push(written as i64);
                    self.pending.targets.push(word as i64);
                    push_negatives(
                        &self.noise,
                        word,
                        self.params.negative,
                        &mut rng,
                        &mut self.pending.negatives,
                    );
                }
            }
        }
        self.position += self.job.words();
    }
}

/// `k` noise words for `word`, redrawing (a few times at most) a draw equal to it.
fn push_negatives(noise: &NoiseTable, word: u32, k: usize, rng: &mut Rng, out: &mut Vec<i64>) {
    for _ in 0..k {
        let mut t = noise.draw(rng);
        for _ in 0..8 {
            if t != word {
                break;
            }
            t = noise.draw(rng);
        }
        out.push(t as i64);
    }
}

/// Every skip-gram pair `(input, target)` of one sentence with the given
/// reach per position; for tests and callers that want pairs without the rest.
pub fn skipgram_pairs(sentence: &[u32], reaches: &[usize]) -> Vec<(u32, u32)> {
    let n = sentence.len();
    let mut pairs = Vec::new();
    for (i, &reach) in reaches.iter().enumerate().take(n) {
        let (lo, hi) = (i.saturating_sub(reach), (i + reach + 1).min(n));
        for j in (lo..hi).filter(|&j| j != i) {
            pairs.push((sentence[j], sentence[i]));
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::word2vec::corpus::MemoryCorpus;
    use crate::word2vec::vocab::Vocab;

    /// Sentence s holds ids 10*s .. 10*s+n: a pair's two words must share s.
    fn corpus() -> (Vec<u64>, MemoryCorpus) {
        let words: Vec<String> = (0..100).map(|i| format!("w{i}")).collect();
        let counts = vec![10u64; 100];
        let vocab = Vocab::from_parts(words.clone(), counts.clone()).unwrap();
        let mut corpus = MemoryCorpus::new();
        for s in 0..10 {
            let n = 3 + s % 7;
            corpus.push_sentence(&vocab, words[10 * s..10 * s + n].iter().map(String::as_str));
        }
        (counts, corpus)
    }

    fn all(sg: bool, seed: u64) -> Vec<Batch> {
        let (counts, corpus) = corpus();
        let bound = corpus.id_bound();
        let corpus = Arc::new(corpus);
        let params = BatchParams {
            sg,
            window: 3,
            negative: 4,
            seed,
            epochs: 2,
        };
        let mut b = Batcher::new(corpus, bound, &counts, 0.0, 0.75, params).unwrap();
        let mut out = Vec::new();
        for epoch in 0..2 {
            b.start_epoch(epoch).unwrap();
            while let Some(batch) = b.next_batch(7).unwrap() {
                out.push(batch);
            }
        }
        out
    }

    #[test]
    fn pairs_stay_in_their_sentence_and_window() {
        for batch in all(true, 1) {
            assert_eq!(batch.negatives.len(), 4 * batch.len());
            for (&x, &t) in batch.inputs.iter().zip(&batch.targets) {
                assert_eq!(x / 10, t / 10, "pair crosses a sentence end");
                assert!((x - t).abs() <= 3 && x != t, "pair outside the window");
            }
            for (k, &t) in batch.targets.iter().enumerate() {
                assert!(batch.negatives[4 * k..4 * k + 4]
                    .iter()
                    .all(|&n| n != t && n < 100));
            }
        }
    }

    #[test]
    fn cbow_contexts_are_padded_and_in_window() {
        let batches = all(false, 1);
        assert!(batches.iter().any(|b| b.progress > 0.9));
        for batch in batches {
            for (k, &t) in batch.targets.iter().enumerate() {
                let row = &batch.contexts[6 * k..6 * k + 6];
                let len = batch.context_lengths[k] as usize;
                assert!(len >= 1);
                assert!(row[..len]
                    .iter()
                    .all(|&c| c / 10 == t / 10 && (c - t).abs() <= 3));
                assert!(row[len..].iter().all(|&c| c == 100));
            }
        }
    }

    #[test]
    fn same_seed_same_batches() {
        let (a, b, c) = (all(true, 5), all(true, 5), all(true, 6));
        let flat = |v: &[Batch]| {
            v.iter()
                .flat_map(|b| b.negatives.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(flat(&a), flat(&b));
        assert_ne!(flat(&a), flat(&c));
    }

    #[test]
    fn full_window_pairs() {
        let pairs = skipgram_pairs(&[1, 2, 3], &[1, 1, 1]);
        assert_eq!(pairs, vec![(2, 1), (1, 2), (3, 2), (2, 3)]);
    }
}
