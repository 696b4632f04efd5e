//! Sentences as word ids, cut into jobs: in memory (sentences passed from
//! Python) or streamed from a whitespace-tokenized file, one sentence a line.
//!
//! A job is about [`JOB_WORDS`] in-vocabulary words of whole sentences; the
//! cut points depend only on the corpus, so job `k` of an epoch is the same
//! text whatever the thread count. Words outside the vocabulary are dropped
//! when a sentence is encoded (before subsampling and windows, as the
//! original tool does) and sentences longer than [`MAX_SENTENCE_WORDS`] are
//! split.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::vocab::Vocab;
use crate::error::{Error, Result};

/// In-vocabulary words per job (the last job of an epoch may hold fewer).
pub const JOB_WORDS: usize = 10_000;
/// Longer sentences are split into pieces of this many words.
pub const MAX_SENTENCE_WORDS: usize = 10_000;

/// One job: whole sentences as word ids.
#[derive(Debug, Default, Clone)]
pub struct Job {
    /// Position of the job in the epoch (0, 1, ...).
    pub index: u64,
    /// In-vocabulary words of the epoch before this job (for the learning rate).
    pub words_before: u64,
    /// The word ids of all sentences, back to back.
    pub ids: Vec<u32>,
    /// Sentence `s` is `ids[starts[s]..starts[s + 1]]`.
    pub starts: Vec<usize>,
}

impl Job {
    fn clear(&mut self) {
        self.ids.clear();
        self.starts.clear();
        self.starts.push(0);
    }

    fn push_sentence(&mut self, ids: &[u32]) {
        for piece in ids.chunks(MAX_SENTENCE_WORDS) {
            self.ids.extend_from_slice(piece);
            self.starts.push(self.ids.len());
        }
    }

    /// The job's sentences.
    pub fn sentences(&self) -> impl Iterator<Item = &[u32]> {
        self.starts.windows(2).map(|w| &self.ids[w[0]..w[1]])
    }

    /// In-vocabulary words in the job.
    pub fn words(&self) -> u64 {
        self.ids.len() as u64
    }
}

/// Where a trainer or a batcher takes its jobs from; shared by worker threads.
pub trait JobSource: Sync {
    /// Starts a new pass over the corpus at job 0.
    fn rewind(&self) -> Result<()>;
    /// Fills `job` with the next job; `false` at the end of the pass.
    fn next_job(&self, job: &mut Job) -> Result<bool>;
    /// In-vocabulary words in one pass, when known up front.
    fn words_per_pass(&self) -> Option<u64>;
}

/// Sentences encoded once and kept as ids (4 bytes a word).
#[derive(Debug, Default)]
pub struct MemoryCorpus {
    ids: Vec<u32>,
    /// Sentence boundaries into `ids`.
    starts: Vec<usize>,
    /// Job `k` covers sentences `job_starts[k]..job_starts[k + 1]`.
    job_starts: Vec<usize>,
    raw_words: u64,
    id_bound: usize,
    next: AtomicUsize,
}

impl MemoryCorpus {
    /// An empty corpus.
    pub fn new() -> Self {
        MemoryCorpus {
            starts: vec![0],
            job_starts: vec![0],
            ..Default::default()
        }
    }

    /// Adds a sentence, keeping its in-vocabulary words.
    pub fn push_sentence<'a>(&mut self, vocab: &Vocab, words: impl IntoIterator<Item = &'a str>) {
        let begin = self.ids.len();
        for word in words {
            self.raw_words += 1;
            if let Some(id) = vocab.get(word) {
                self.ids.push(id);
                self.id_bound = self.id_bound.max(id as usize + 1);
            }
        }
        let len = self.ids.len() - begin;
        if len == 0 {
            return;
        }
        let mut at = begin;
        while at < self.ids.len() {
            at = (at + MAX_SENTENCE_WORDS).min(self.ids.len());
            self.starts.push(at);
        }
        // Close the job once it holds enough words (after whole sentences,
        // as the file reader does).
        let job_begin = self.starts[*self.job_starts.last().unwrap_or(&0)];
        if self.ids.len() - job_begin >= JOB_WORDS {
            self.job_starts.push(self.starts.len() - 1);
        }
    }

    /// Adds every line of `text`, one sentence a line, split on whitespace.
    pub fn push_text(&mut self, vocab: &Vocab, text: &str) {
        for line in text.lines() {
            self.push_sentence(vocab, line.split_whitespace());
        }
    }

    /// One more than the largest word id held (0 when empty).
    pub fn id_bound(&self) -> usize {
        self.id_bound
    }

    /// Words seen, in the vocabulary or not.
    pub fn raw_words(&self) -> u64 {
        self.raw_words
    }

    /// In-vocabulary words kept.
    pub fn words(&self) -> u64 {
        self.ids.len() as u64
    }

    /// Sentences held (long ones count once per piece).
    pub fn sentence_count(&self) -> usize {
        self.starts.len() - 1
    }

    fn job_count(&self) -> usize {
        let sentences = self.sentence_count();
        let closed = self.job_starts.len() - 1;
        if *self.job_starts.last().unwrap_or(&0) < sentences {
            closed + 1
        } else {
            closed
        }
    }
}

impl JobSource for MemoryCorpus {
    fn rewind(&self) -> Result<()> {
        self.next.store(0, Ordering::Relaxed);
        Ok(())
    }

    fn next_job(&self, job: &mut Job) -> Result<bool> {
        let k = self.next.fetch_add(1, Ordering::Relaxed);
        if k >= self.job_count() {
            return Ok(false);
        }
        let first = self.job_starts[k];
        let last = self
            .job_starts
            .get(k + 1)
            .copied()
            .unwrap_or(self.sentence_count());
        job.clear();
        job.index = k as u64;
        job.words_before = self.starts[first] as u64;
        let base = self.starts[first];
        job.ids
            .extend_from_slice(&self.ids[base..self.starts[last]]);
        job.starts.clear();
        job.starts
            .extend(self.starts[first..=last].iter().map(|s| s - base));
        Ok(true)
    }

    fn words_per_pass(&self) -> Option<u64> {
        Some(self.words())
    }
}

/// A text file streamed in jobs: one sentence a line, words split on
/// whitespace, read through a 1 MiB buffer and never held whole.
#[derive(Debug)]
pub struct FileCorpus {
    path: PathBuf,
    vocab: Arc<Vocab>,
    words_per_pass: Option<u64>,
    state: Mutex<Option<FileState>>,
}

#[derive(Debug)]
struct FileState {
    reader: BufReader<File>,
    line_number: u64,
    job_index: u64,
    words_before: u64,
    line: Vec<u8>,
    ids: Vec<u32>,
}

impl FileCorpus {
    /// `words_per_pass`: the in-vocabulary words of the file if known (from
    /// counting it), for the learning-rate schedule.
    pub fn new(path: &Path, vocab: Arc<Vocab>, words_per_pass: Option<u64>) -> Result<Self> {
        File::open(path).map_err(|e| Error::io(path, e))?;
        Ok(FileCorpus {
            path: path.to_path_buf(),
            vocab,
            words_per_pass,
            state: Mutex::new(None),
        })
    }

    fn open(&self) -> Result<FileState> {
        let file = File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        Ok(FileState {
            reader: BufReader::with_capacity(1 << 20, file),
            line_number: 0,
            job_index: 0,
            words_before: 0,
            line: Vec::new(),
            ids: Vec::new(),
        })
    }
}

impl JobSource for FileCorpus {
    fn rewind(&self) -> Result<()> {
        let fresh = self.open()?;
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = Some(fresh);
        Ok(())
    }

    fn next_job(&self, job: &mut Job) -> Result<bool> {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let state = match guard.as_mut() {
            Some(state) => state,
            None => return Ok(false),
        };
        job.clear();
        job.index = state.job_index;
        job.words_before = state.words_before;
        while job.ids.len() < JOB_WORDS {
            state.line.clear();
            let n = state
                .reader
                .read_until(b'\n', &mut state.line)
                .map_err(|e| Error::io(&self.path, e))?;
            if n == 0 {
                break;
            }
            state.line_number += 1;
            let text = std::str::from_utf8(&state.line).map_err(|e| Error::InvalidUtf8 {
                path: self.path.clone(),
                line: state.line_number,
                column: e.valid_up_to(),
            })?;
            state.ids.clear();
            state
                .ids
                .extend(text.split_whitespace().filter_map(|w| self.vocab.get(w)));
            job.push_sentence(&state.ids);
        }
        if job.ids.is_empty() {
            *guard = None;
            return Ok(false);
        }
        state.job_index += 1;
        state.words_before += job.words();
        Ok(true)
    }

    fn words_per_pass(&self) -> Option<u64> {
        self.words_per_pass
    }
}

impl FileCorpus {
    /// One more than the largest word id a job can hold: the vocabulary size.
    pub fn id_bound(&self) -> usize {
        self.vocab.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::word_count::WordCounter;
    use std::io::Write;

    fn vocab_of(text: &str) -> Vocab {
        let mut c = WordCounter::new();
        c.add_line(text);
        Vocab::from_sorted_counts(c.into_sorted(), 1, None).unwrap()
    }

    fn all_jobs(source: &dyn JobSource) -> Vec<Job> {
        source.rewind().unwrap();
        let mut jobs = Vec::new();
        let mut job = Job::default();
        while source.next_job(&mut job).unwrap() {
            jobs.push(job.clone());
        }
        jobs
    }

    #[test]
    fn memory_and_file_give_the_same_jobs() {
        let mut text = String::new();
        for i in 0..3000 {
            text.push_str(&format!("w{} a b c zz{}\n", i % 17, i % 5));
            if i % 7 == 0 {
                text.push('\n');
            }
        }
        let vocab = Arc::new(vocab_of("a b c w0 w1 w2 w3 zz1"));
        let mut memory = MemoryCorpus::new();
        memory.push_text(&vocab, &text);
        let dir = std::env::temp_dir().join(format!("ptm_fast_w2v_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("corpus.txt");
        File::create(&path)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let file = FileCorpus::new(&path, vocab.clone(), None).unwrap();
        let (a, b) = (all_jobs(&memory), all_jobs(&file));
        assert!(a.len() > 1);
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!((x.index, x.words_before), (y.index, y.words_before));
            assert_eq!(x.ids, y.ids);
            assert_eq!(x.starts, y.starts);
        }
        let total: u64 = a.iter().map(Job::words).sum();
        assert_eq!(total, memory.words());
        assert_eq!(memory.raw_words(), 3000 * 5);
        // A second pass gives the same jobs again.
        assert_eq!(all_jobs(&file).len(), b.len());
    }

    #[test]
    fn long_sentences_are_split() {
        let vocab = vocab_of("x");
        let mut memory = MemoryCorpus::new();
        let long = vec!["x"; MAX_SENTENCE_WORDS * 2 + 3];
        memory.push_sentence(&vocab, long.iter().copied());
        assert_eq!(memory.sentence_count(), 3);
        let jobs = all_jobs(&memory);
        let lens: Vec<usize> = jobs
            .iter()
            .flat_map(|j| j.sentences().map(<[u32]>::len))
            .collect();
        assert_eq!(lens, vec![MAX_SENTENCE_WORDS, MAX_SENTENCE_WORDS, 3]);
    }

    #[test]
    fn bad_utf8_in_a_corpus_file_names_the_line() {
        let dir = std::env::temp_dir().join(format!("ptm_fast_w2v_bad_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.txt");
        File::create(&path)
            .unwrap()
            .write_all(b"a b\nc \xff d\n")
            .unwrap();
        let file = FileCorpus::new(&path, Arc::new(vocab_of("a b c d")), None).unwrap();
        file.rewind().unwrap();
        let err = file.next_job(&mut Job::default()).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
