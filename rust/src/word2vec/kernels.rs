//! The vector loops of the trainer and its sigmoid table.
//!
//! Loops run over 8-float chunks with separate accumulators, a shape the
//! compiler turns into SIMD instructions; the trainer compiles its hot
//! functions twice (plain, and with AVX2+FMA enabled, chosen at run time), and
//! `FMA` selects fused multiply-adds, which are only fast where the CPU has them.

/// `sum(a[i] * b[i])` over the common length.
#[inline(always)]
pub fn dot<const FMA: bool>(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; 8];
    let chunks_a = a.chunks_exact(8);
    let chunks_b = b.chunks_exact(8);
    let (tail_a, tail_b) = (chunks_a.remainder(), chunks_b.remainder());
    for (x, y) in chunks_a.zip(chunks_b) {
        for i in 0..8 {
            acc[i] = madd::<FMA>(x[i], y[i], acc[i]);
        }
    }
    let mut sum = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (x, y) in tail_a.iter().zip(tail_b) {
        sum = madd::<FMA>(*x, *y, sum);
    }
    sum
}

/// `y += alpha * x` over the common length.
#[inline(always)]
pub fn axpy<const FMA: bool>(alpha: f32, x: &[f32], y: &mut [f32]) {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &mut y[..n]);
    let mut chunks_y = y.chunks_exact_mut(8);
    let chunks_x = x.chunks_exact(8);
    let tail_x = chunks_x.remainder();
    for (yc, xc) in (&mut chunks_y).zip(chunks_x) {
        for i in 0..8 {
            yc[i] = madd::<FMA>(alpha, xc[i], yc[i]);
        }
    }
    for (yi, xi) in chunks_y.into_remainder().iter_mut().zip(tail_x) {
        *yi = madd::<FMA>(alpha, *xi, *yi);
    }
}

/// `y *= alpha`.
#[inline(always)]
pub fn scale(alpha: f32, y: &mut [f32]) {
    for v in y {
        *v *= alpha;
    }
}

#[inline(always)]
fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// `x` beyond which the sigmoid counts as exactly 0 or 1, as in the original tool.
pub const MAX_EXP: f32 = 6.0;
const TABLE_SIZE: usize = 1024;

/// The logistic function read from a precomputed table on `[-MAX_EXP, MAX_EXP]`.
#[derive(Debug, Clone)]
pub struct SigmoidTable {
    values: Box<[f32; TABLE_SIZE]>,
}

impl Default for SigmoidTable {
    fn default() -> Self {
        Self::new()
    }
}

impl SigmoidTable {
    pub fn new() -> Self {
        let mut values = Box::new([0f32; TABLE_SIZE]);
        for (i, v) in values.iter_mut().enumerate() {
            // Cell i covers [x_i, x_i + step); its value is the sigmoid at the middle.
            let x = ((i as f64 + 0.5) / TABLE_SIZE as f64 * 2.0 - 1.0) * MAX_EXP as f64;
            *v = (1.0 / (1.0 + (-x).exp())) as f32;
        }
        SigmoidTable { values }
    }

    /// sigmoid(x); 1 above `MAX_EXP`, 0 below `-MAX_EXP` (and 0 for NaN).
    #[inline(always)]
    pub fn sigmoid(&self, x: f32) -> f32 {
        if x >= MAX_EXP {
            1.0
        } else if x > -MAX_EXP {
            let pos = (x + MAX_EXP) * (TABLE_SIZE as f32 / (2.0 * MAX_EXP));
            // `as usize` saturates; min keeps the last cell for rounding at the top.
            self.values[(pos as usize).min(TABLE_SIZE - 1)]
        } else {
            0.0
        }
    }
}

/// `-log(sigmoid(x))`, computed stably (for the reported loss only).
#[inline]
pub fn neg_log_sigmoid(x: f32) -> f64 {
    let x = x as f64;
    if x > 0.0 {
        (-x).exp().ln_1p()
    } else {
        -x + x.exp().ln_1p()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_and_axpy_match_plain_loops_for_odd_lengths() {
        for n in [0usize, 1, 7, 8, 9, 100, 131] {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let expected: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot::<false>(&a, &b) - expected).abs() < 1e-4);
            assert!((dot::<true>(&a, &b) - expected).abs() < 1e-4);
            let mut y = b.clone();
            axpy::<true>(0.5, &a, &mut y);
            for i in 0..n {
                assert!((y[i] - (b[i] + 0.5 * a[i])).abs() < 1e-6);
            }
            scale(2.0, &mut y);
        }
    }

    #[test]
    fn sigmoid_table_is_close_and_clipped() {
        let t = SigmoidTable::new();
        for i in -700..700 {
            let x = i as f32 / 100.0;
            let exact = 1.0 / (1.0 + (-x).exp());
            let expected = if x >= MAX_EXP {
                1.0
            } else if x <= -MAX_EXP {
                0.0
            } else {
                exact
            };
            assert!((t.sigmoid(x) - expected).abs() < 0.01, "{x}");
        }
        assert_eq!(t.sigmoid(f32::NAN), 0.0);
        assert!((neg_log_sigmoid(0.0) - std::f64::consts::LN_2).abs() < 1e-12);
        assert!(neg_log_sigmoid(-800.0) > 799.0);
    }
}
