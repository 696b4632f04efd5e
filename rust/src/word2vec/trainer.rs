//! The native trainer: skip-gram or CBOW with negative sampling, several
//! threads updating shared weights without locks (Hogwild, as the original
//! tool does), the learning rate falling linearly from `alpha` to `min_alpha`.
//!
//! Safety of the lock-free updates rests on checks made once, before any
//! thread starts: every word id a job can hold is below the number of rows
//! (the corpus reports its bound), the noise table and subsampler have one
//! entry per row, and both matrices are `rows x dim`. The hot loop then reads
//! rows through raw pointers without further checks. Threads may race on a
//! row (that is the Hogwild trade-off: a lost update, never a bad address).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::corpus::{Job, JobSource, MAX_SENTENCE_WORDS};
use super::kernels::{
    neg_log_sigmoid, prefetch, scale, Portable, SigmoidTable, VectorOps, MAX_EXP,
};
use super::sampling::{NoiseTable, Subsampler};
use crate::error::{Error, Result};
use crate::rng::Rng;

/// Training settings (the names of the Python API).
#[derive(Debug, Clone)]
pub struct TrainParams {
    /// Skip-gram when true, CBOW (mean of the context) when false.
    pub sg: bool,
    pub window: usize,
    pub negative: usize,
    pub alpha: f32,
    pub min_alpha: f32,
    pub epochs: usize,
    pub threads: usize,
    pub seed: u64,
    pub sample: f64,
    pub ns_exponent: f64,
    pub compute_loss: bool,
}

impl TrainParams {
    /// Checks every setting, naming the first one out of range.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(Error::InvalidArgument(what));
        if self.window == 0 || self.window > MAX_SENTENCE_WORDS {
            return bad(format!(
                "window must be 1 to {MAX_SENTENCE_WORDS} (the longest sentence), got {}",
                self.window
            ));
        }
        if self.epochs == 0 {
            return bad("epochs must be at least 1".into());
        }
        if self.negative == 0 || self.negative > MAX_NEGATIVE {
            return bad(format!(
                "negative must be 1 to {MAX_NEGATIVE} (only negative sampling is implemented), \
                 got {}",
                self.negative
            ));
        }
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return bad(format!("alpha must be > 0, got {}", self.alpha));
        }
        if !(self.min_alpha.is_finite() && self.min_alpha >= 0.0) {
            return bad(format!("min_alpha must be >= 0, got {}", self.min_alpha));
        }
        Ok(())
    }
}

/// Where training stands, passed to the progress callback.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// In-vocabulary words done so far (all epochs), before subsampling.
    pub words_done: u64,
    /// In-vocabulary words of the whole run (epochs x words per pass).
    pub words_total: u64,
    /// The learning rate at this point of the schedule.
    pub alpha: f32,
    pub seconds: f64,
}

/// What a finished run did.
#[derive(Debug, Clone, Copy, Default)]
pub struct TrainReport {
    /// In-vocabulary words read (all epochs), before subsampling.
    pub words: u64,
    /// Words left after subsampling: the ones trained on.
    pub effective_words: u64,
    /// Pairs (skip-gram) or contexts (CBOW) trained.
    pub examples: u64,
    /// Sum of `-log sigmoid(+-x)` over every positive and negative term (0 unless asked).
    pub loss: f64,
    pub seconds: f64,
    /// Stopped early because the progress callback asked to.
    pub stopped: bool,
}

/// A row-major `rows x dim` matrix shared by the worker threads.
#[derive(Debug, Clone, Copy)]
pub struct Matrix {
    ptr: *mut f32,
    rows: usize,
    dim: usize,
}

// Threads write rows concurrently on purpose (Hogwild); see the module docs.
unsafe impl Send for Matrix {}
unsafe impl Sync for Matrix {}

impl Matrix {
    /// Views `data` (`rows x dim`, row-major) as a shared matrix.
    pub fn new(data: &mut [f32], rows: usize, dim: usize) -> Result<Self> {
        if rows.checked_mul(dim) != Some(data.len()) || dim == 0 {
            return Err(Error::InvalidArgument(format!(
                "a {rows} x {dim} matrix needs {} floats, got {}",
                rows.saturating_mul(dim),
                data.len()
            )));
        }
        Ok(Matrix {
            ptr: data.as_mut_ptr(),
            rows,
            dim,
        })
    }

    /// Row `id` as a mutable slice.
    ///
    /// # Safety
    /// `id < rows`, and no other `&mut` to the same row is live in this thread.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    unsafe fn row(&self, id: u32) -> &mut [f32] {
        debug_assert!((id as usize) < self.rows);
        std::slice::from_raw_parts_mut(self.ptr.add(id as usize * self.dim), self.dim)
    }
}

/// Fills `data` with starting vectors uniform in `[-1, 1) / dim` (the range
/// gensim 4 uses; the original tool used half of it), row `i` from a
/// generator keyed by `(seed, i)`.
pub fn init_input_vectors(data: &mut [f32], dim: usize, seed: u64) {
    if dim == 0 {
        return;
    }
    for (i, row) in data.chunks_mut(dim).enumerate() {
        let mut rng = Rng::for_keys(seed, &[0xEC7, i as u64]);
        for v in row {
            *v = (2.0 * rng.next_f32() - 1.0) / dim as f32;
        }
    }
}

/// Everything a worker reads; shared, never written except the weights.
struct Shared<'a> {
    syn0: Matrix,
    syn1: Matrix,
    subsampler: &'a Subsampler,
    noise: &'a NoiseTable,
    sigmoid: SigmoidTable,
    params: &'a TrainParams,
    words_per_pass: u64,
}

/// One thread's scratch space, reused for every sentence.
struct Scratch {
    kept: Vec<u32>,
    neu1: Vec<f32>,
    neu1e: Vec<f32>,
    loss: f64,
    examples: u64,
}

type SentenceFn = unsafe fn(&Shared, &[u32], f32, &mut Rng, &mut Scratch);

/// Trains `syn0` (input vectors) and `syn1` (output vectors) on every job of
/// `source`, `params.epochs` times. `counts` are the vocabulary counts (one
/// per row); `id_bound` is the corpus's bound on word ids (every id is below it).
///
/// `on_progress` runs on the calling thread about every `report_every`; it
/// returns false to stop early.
#[allow(clippy::too_many_arguments)]
pub fn train(
    source: &dyn JobSource,
    id_bound: usize,
    counts: &[u64],
    syn0: &mut [f32],
    syn1: &mut [f32],
    dim: usize,
    params: &TrainParams,
    report_every: Duration,
    on_progress: &mut dyn FnMut(&Progress) -> bool,
) -> Result<TrainReport> {
    params.validate()?;
    let rows = counts.len();
    let syn0 = Matrix::new(syn0, rows, dim)?;
    let syn1 = Matrix::new(syn1, rows, dim)?;
    if id_bound > rows {
        return Err(Error::InvalidArgument(format!(
            "the corpus holds word ids up to {} but the vocabulary has {rows} words",
            id_bound - 1
        )));
    }
    let subsampler = Subsampler::new(counts, params.sample)?;
    let noise = NoiseTable::new(counts, params.ns_exponent)?;
    let words_per_pass = source
        .words_per_pass()
        .unwrap_or_else(|| counts.iter().sum())
        .max(1);
    let shared = Shared {
        syn0,
        syn1,
        subsampler: &subsampler,
        noise: &noise,
        sigmoid: SigmoidTable::new(),
        params,
        words_per_pass,
    };
    let kernel = pick_kernel(params.sg);
    let threads = params.threads.max(1);
    let words_total = words_per_pass * params.epochs as u64;
    let start = Instant::now();
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let mut report = TrainReport::default();

    for epoch in 0..params.epochs {
        source.rewind()?;
        let (tx, rx) = mpsc::channel::<std::thread::Result<Result<(u64, u64, f64)>>>();
        let outcome: Result<()> = std::thread::scope(|scope| {
            for _ in 0..threads {
                let tx = tx.clone();
                let (shared, done, stop) = (&shared, &done, &stop);
                scope.spawn(move || {
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        worker(shared, source, kernel, epoch as u64, done, stop)
                    }));
                    if !matches!(result, Ok(Ok(_))) {
                        stop.store(true, Ordering::Relaxed);
                    }
                    let _ = tx.send(result);
                });
            }
            drop(tx);
            let mut finished = 0;
            let mut first_error = None;
            while finished < threads {
                match rx.recv_timeout(report_every) {
                    Ok(result) => {
                        finished += 1;
                        // A worker's panic goes on from this thread, where the
                        // binding layer turns it into an exception.
                        let result = result.unwrap_or_else(|p| std::panic::resume_unwind(p));
                        match result {
                            Ok((effective, examples, loss)) => {
                                report.effective_words += effective;
                                report.examples += examples;
                                report.loss += loss;
                            }
                            Err(e) => {
                                first_error.get_or_insert(e);
                            }
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        let words_done = done.load(Ordering::Relaxed);
                        let progress = Progress {
                            words_done,
                            words_total,
                            alpha: alpha_at(params, words_done, words_total),
                            seconds: start.elapsed().as_secs_f64(),
                        };
                        if !on_progress(&progress) {
                            stop.store(true, Ordering::Relaxed);
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
            }
            first_error.map_or(Ok(()), Err)
        });
        outcome?;
        if stop.load(Ordering::Relaxed) {
            report.stopped = true;
            break;
        }
    }
    report.words = done.load(Ordering::Relaxed);
    report.seconds = start.elapsed().as_secs_f64();
    let final_progress = Progress {
        words_done: report.words,
        words_total,
        alpha: alpha_at(params, report.words, words_total),
        seconds: report.seconds,
    };
    on_progress(&final_progress);
    Ok(report)
}

/// The learning rate after `done` of `total` words: linear from alpha to min_alpha.
pub fn alpha_at(params: &TrainParams, done: u64, total: u64) -> f32 {
    let fraction = (done as f64 / total.max(1) as f64).min(1.0) as f32;
    (params.alpha - (params.alpha - params.min_alpha) * fraction).max(params.min_alpha)
}

fn worker(
    shared: &Shared,
    source: &dyn JobSource,
    kernel: SentenceFn,
    epoch: u64,
    done: &AtomicU64,
    stop: &AtomicBool,
) -> Result<(u64, u64, f64)> {
    let params = shared.params;
    let dim = shared.syn0.dim;
    let mut scratch = Scratch {
        kept: Vec::with_capacity(1024),
        neu1: vec![0.0; dim],
        neu1e: vec![0.0; dim],
        loss: 0.0,
        examples: 0,
    };
    let mut effective = 0u64;
    let mut job = Job::default();
    let total = shared.words_per_pass * params.epochs as u64;
    while !stop.load(Ordering::Relaxed) && source.next_job(&mut job)? {
        let mut rng = Rng::for_keys(params.seed, &[epoch, job.index]);
        let mut position = epoch * shared.words_per_pass + job.words_before;
        for sentence in job.sentences() {
            let alpha = alpha_at(params, position, total);
            shared
                .subsampler
                .filter_into(sentence, &mut rng, &mut scratch.kept);
            effective += scratch.kept.len() as u64;
            let kept = std::mem::take(&mut scratch.kept);
            // SAFETY: every id in `kept` comes from a job, whose ids are below
            // `id_bound <= rows` (checked in `train`); `kernel` matches the CPU.
            unsafe { kernel(shared, &kept, alpha, &mut rng, &mut scratch) };
            scratch.kept = kept;
            position += sentence.len() as u64;
        }
        done.fetch_add(job.words(), Ordering::Relaxed);
    }
    Ok((effective, scratch.examples, scratch.loss))
}

fn pick_kernel(sg: bool) -> SentenceFn {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return if sg {
                sg_sentence_avx2
            } else {
                cbow_sentence_avx2
            };
        }
    }
    if sg {
        sg_sentence_plain
    } else {
        cbow_sentence_plain
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn sg_sentence_avx2(s: &Shared, sen: &[u32], alpha: f32, rng: &mut Rng, w: &mut Scratch) {
    sg_sentence::<super::kernels::Avx2>(s, sen, alpha, rng, w)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn cbow_sentence_avx2(s: &Shared, sen: &[u32], alpha: f32, rng: &mut Rng, w: &mut Scratch) {
    cbow_sentence::<super::kernels::Avx2>(s, sen, alpha, rng, w)
}

unsafe fn sg_sentence_plain(s: &Shared, sen: &[u32], alpha: f32, rng: &mut Rng, w: &mut Scratch) {
    sg_sentence::<Portable>(s, sen, alpha, rng, w)
}

unsafe fn cbow_sentence_plain(s: &Shared, sen: &[u32], alpha: f32, rng: &mut Rng, w: &mut Scratch) {
    cbow_sentence::<Portable>(s, sen, alpha, rng, w)
}

/// The window around position `i` of a sentence of `n` words, shrunk by a
/// random `b` in `0..window` as the original tool does.
#[inline(always)]
fn reduced_window(i: usize, n: usize, window: usize, rng: &mut Rng) -> (usize, usize) {
    let reach = window - rng.below(window as u32) as usize;
    (i.saturating_sub(reach), (i + reach + 1).min(n))
}

/// Most noise words per example the trainer supports.
pub const MAX_NEGATIVE: usize = 64;

/// Draws the noise words of one example into `out` (a draw equal to `word`
/// is dropped, as the original tool does) and starts loading their rows.
#[inline(always)]
unsafe fn draw_negatives(
    s: &Shared,
    word: u32,
    rng: &mut Rng,
    out: &mut [u32; MAX_NEGATIVE],
) -> usize {
    let mut n = 0;
    for _ in 0..s.params.negative {
        let t = s.noise.draw(rng);
        if t != word {
            out[n] = t;
            n += 1;
            super::kernels::prefetch(s.syn1.row(t));
        }
    }
    n
}

/// One gradient step of the negative-sampling objective for input vector
/// `l1` predicting `word` against the noise words `negs`; the input's error
/// is added to `neu1e`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn negative_step<K: VectorOps>(
    s: &Shared,
    l1: &[f32],
    word: u32,
    negs: &[u32],
    alpha: f32,
    neu1e: &mut [f32],
    loss: &mut f64,
) {
    let compute_loss = s.params.compute_loss;
    for d in 0..=negs.len() {
        let (target, label) = if d == 0 {
            (word, 1.0f32)
        } else {
            (negs[d - 1], 0.0f32)
        };
        let l2 = s.syn1.row(target);
        let f = K::dot(l1, l2);
        if compute_loss {
            *loss += neg_log_sigmoid(if d == 0 { f } else { -f });
        }
        // A saturated score (|f| >= MAX_EXP) gives no update, as in gensim.
        if !(f > -MAX_EXP && f < MAX_EXP) {
            continue;
        }
        let g = (label - s.sigmoid.sigmoid(f)) * alpha;
        K::axpy2(g, l1, l2, neu1e);
    }
}

#[inline(always)]
unsafe fn sg_sentence<K: VectorOps>(
    s: &Shared,
    sen: &[u32],
    alpha: f32,
    rng: &mut Rng,
    w: &mut Scratch,
) {
    let n = sen.len();
    let window = s.params.window;
    let mut negs = [0u32; MAX_NEGATIVE];
    for (i, &word) in sen.iter().enumerate() {
        let (lo, hi) = reduced_window(i, n, window, rng);
        prefetch(s.syn1.row(word));
        for (j, &context) in sen.iter().enumerate().take(hi).skip(lo) {
            if j == i {
                continue;
            }
            let l1 = s.syn0.row(context);
            let k = draw_negatives(s, word, rng, &mut negs);
            w.neu1e.fill(0.0);
            negative_step::<K>(s, l1, word, &negs[..k], alpha, &mut w.neu1e, &mut w.loss);
            K::axpy(1.0, &w.neu1e, l1);
            w.examples += 1;
        }
    }
}

#[inline(always)]
unsafe fn cbow_sentence<K: VectorOps>(
    s: &Shared,
    sen: &[u32],
    alpha: f32,
    rng: &mut Rng,
    w: &mut Scratch,
) {
    let n = sen.len();
    let window = s.params.window;
    let mut negs = [0u32; MAX_NEGATIVE];
    for (i, &word) in sen.iter().enumerate() {
        let (lo, hi) = reduced_window(i, n, window, rng);
        let count = hi - lo - 1;
        if count == 0 {
            continue;
        }
        w.neu1.fill(0.0);
        for (j, &context) in sen.iter().enumerate().take(hi).skip(lo) {
            if j != i {
                K::axpy(1.0, s.syn0.row(context), &mut w.neu1);
            }
        }
        scale(1.0 / count as f32, &mut w.neu1);
        w.neu1e.fill(0.0);
        let k = draw_negatives(s, word, rng, &mut negs);
        negative_step::<K>(
            s,
            &w.neu1,
            word,
            &negs[..k],
            alpha,
            &mut w.neu1e,
            &mut w.loss,
        );
        for (j, &context) in sen.iter().enumerate().take(hi).skip(lo) {
            if j != i {
                K::axpy(1.0, &w.neu1e, s.syn0.row(context));
            }
        }
        w.examples += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::word2vec::corpus::MemoryCorpus;
    use crate::word2vec::vocab::Vocab;
    use crate::word_count::WordCounter;

    /// Two topics that never share a sentence: words of a topic should end closer.
    fn topic_corpus() -> (Vocab, MemoryCorpus) {
        let a = ["cat", "dog", "pet", "fur", "paw", "tail"];
        let b = ["stock", "bank", "money", "loan", "price", "trade"];
        let mut rng = Rng::new(1);
        let mut lines = Vec::new();
        for k in 0..4000 {
            let topic = if k % 2 == 0 { &a } else { &b };
            let line: Vec<&str> = (0..8).map(|_| topic[rng.below(6) as usize]).collect();
            lines.push(line.join(" "));
        }
        let mut counter = WordCounter::new();
        for l in &lines {
            counter.add_line(l);
        }
        let vocab = Vocab::from_sorted_counts(counter.into_sorted(), 1, None).unwrap();
        let mut corpus = MemoryCorpus::new();
        for l in &lines {
            corpus.push_sentence(&vocab, l.split_whitespace());
        }
        (vocab, corpus)
    }

    fn run(sg: bool, threads: usize, seed: u64) -> (Vocab, Vec<f32>, TrainReport) {
        let (vocab, corpus) = topic_corpus();
        let dim = 16;
        let mut syn0 = vec![0.0; vocab.len() * dim];
        let mut syn1 = vec![0.0; vocab.len() * dim];
        init_input_vectors(&mut syn0, dim, seed);
        let params = TrainParams {
            sg,
            window: 3,
            negative: 5,
            alpha: 0.025,
            min_alpha: 0.0001,
            epochs: 3,
            threads,
            seed,
            sample: 0.0,
            ns_exponent: 0.75,
            compute_loss: true,
        };
        let report = train(
            &corpus,
            vocab.len(),
            vocab.counts(),
            &mut syn0,
            &mut syn1,
            dim,
            &params,
            Duration::from_millis(50),
            &mut |_| true,
        )
        .unwrap();
        (vocab, syn0, report)
    }

    fn cosine(v: &[f32], dim: usize, a: usize, b: usize) -> f32 {
        let (x, y) = (&v[a * dim..(a + 1) * dim], &v[b * dim..(b + 1) * dim]);
        let n = |z: &[f32]| z.iter().map(|t| t * t).sum::<f32>().sqrt();
        (unsafe { Portable::dot(x, y) }) / (n(x) * n(y))
    }

    #[test]
    fn related_words_end_closer_for_both_modes() {
        for sg in [true, false] {
            let (vocab, v, report) = run(sg, 2, 3);
            assert_eq!(report.words, 3 * 4000 * 8);
            assert!(report.loss > 0.0 && report.examples > 0);
            let id = |w: &str| vocab.get(w).unwrap() as usize;
            let same = cosine(&v, 16, id("cat"), id("dog"));
            let other = cosine(&v, 16, id("cat"), id("bank"));
            assert!(same > other + 0.3, "sg={sg}: {same} vs {other}");
        }
    }

    #[test]
    fn one_thread_is_deterministic() {
        let (_, a, _) = run(true, 1, 9);
        let (_, b, _) = run(true, 1, 9);
        let (_, c, _) = run(true, 1, 10);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn ids_beyond_the_matrices_are_refused_before_training() {
        let (vocab, corpus) = topic_corpus();
        let mut small0 = vec![0.0; 4 * 8];
        let mut small1 = vec![0.0; 4 * 8];
        let params = TrainParams {
            sg: true,
            window: 2,
            negative: 2,
            alpha: 0.025,
            min_alpha: 0.0001,
            epochs: 1,
            threads: 1,
            seed: 1,
            sample: 0.0,
            ns_exponent: 0.75,
            compute_loss: false,
        };
        let err = train(
            &corpus,
            vocab.len(),
            &vocab.counts()[..4],
            &mut small0,
            &mut small1,
            8,
            &params,
            Duration::from_secs(1),
            &mut |_| true,
        )
        .unwrap_err();
        assert!(err.to_string().contains("vocabulary has 4 words"), "{err}");
    }
}
