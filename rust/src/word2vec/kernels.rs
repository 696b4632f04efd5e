//! The vector loops of the trainer and its sigmoid table.
//!
//! [`Portable`] runs plain loops over 8-float chunks (a shape the compiler
//! vectorizes for any target); [`Avx2`] uses AVX2 + FMA instructions, with
//! masked loads for the last partial chunk. The trainer compiles its hot
//! functions once per implementation and picks one at run time.

/// The three vector operations of the trainer.
pub trait VectorOps {
    /// `sum(a[i] * b[i])` over the common length.
    ///
    /// # Safety
    /// The CPU must support the implementation's instructions.
    unsafe fn dot(a: &[f32], b: &[f32]) -> f32;
    /// `y += alpha * x` over the common length.
    ///
    /// # Safety
    /// As for `dot`.
    unsafe fn axpy(alpha: f32, x: &[f32], y: &mut [f32]);
    /// `e += g * out; out += g * inp` in one pass (`e` sees `out` before its update).
    ///
    /// # Safety
    /// As for `dot`.
    unsafe fn axpy2(g: f32, inp: &[f32], out: &mut [f32], e: &mut [f32]);
}

/// Plain Rust loops, for every CPU.
pub struct Portable;

impl VectorOps for Portable {
    #[inline(always)]
    unsafe fn dot(a: &[f32], b: &[f32]) -> f32 {
        dot::<false>(a, b)
    }
    #[inline(always)]
    unsafe fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
        axpy::<false>(alpha, x, y)
    }
    #[inline(always)]
    unsafe fn axpy2(g: f32, inp: &[f32], out: &mut [f32], e: &mut [f32]) {
        axpy2::<false>(g, inp, out, e)
    }
}

/// AVX2 + FMA intrinsics (x86-64 CPUs from about 2013 on).
#[cfg(target_arch = "x86_64")]
pub struct Avx2;

#[cfg(target_arch = "x86_64")]
impl VectorOps for Avx2 {
    #[inline(always)]
    unsafe fn dot(a: &[f32], b: &[f32]) -> f32 {
        avx2::dot(a, b)
    }
    #[inline(always)]
    unsafe fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
        avx2::axpy(alpha, x, y)
    }
    #[inline(always)]
    unsafe fn axpy2(g: f32, inp: &[f32], out: &mut [f32], e: &mut [f32]) {
        avx2::axpy2(g, inp, out, e)
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// Lanes `0..r` set (`r` in 1..8).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn mask(r: usize) -> __m256i {
        _mm256_cmpgt_epi32(
            _mm256_set1_epi32(r as i32),
            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
        )
    }

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn dot(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut s = [_mm256_setzero_ps(); 4];
        let mut i = 0;
        while i + 32 <= n {
            for (k, acc) in s.iter_mut().enumerate() {
                let j = i + 8 * k;
                *acc =
                    _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(j)), _mm256_loadu_ps(pb.add(j)), *acc);
            }
            i += 32;
        }
        let mut k = 1;
        while i + 8 <= n {
            s[k] = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)), s[k]);
            k = (k + 1) & 3;
            i += 8;
        }
        if i < n {
            let m = mask(n - i);
            let x = _mm256_maskload_ps(pa.add(i), m);
            let y = _mm256_maskload_ps(pb.add(i), m);
            s[0] = _mm256_fmadd_ps(x, y, s[0]);
        }
        let v = _mm256_add_ps(_mm256_add_ps(s[0], s[1]), _mm256_add_ps(s[2], s[3]));
        let q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let h = _mm_add_ps(q, _mm_movehl_ps(q, q));
        _mm_cvtss_f32(_mm_add_ss(h, _mm_shuffle_ps(h, h, 1)))
    }

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
        let n = x.len().min(y.len());
        let (px, py) = (x.as_ptr(), y.as_mut_ptr());
        let a = _mm256_set1_ps(alpha);
        let mut i = 0;
        while i + 8 <= n {
            let r = _mm256_fmadd_ps(a, _mm256_loadu_ps(px.add(i)), _mm256_loadu_ps(py.add(i)));
            _mm256_storeu_ps(py.add(i), r);
            i += 8;
        }
        if i < n {
            let m = mask(n - i);
            let r = _mm256_fmadd_ps(
                a,
                _mm256_maskload_ps(px.add(i), m),
                _mm256_maskload_ps(py.add(i), m),
            );
            _mm256_maskstore_ps(py.add(i), m, r);
        }
    }

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn axpy2(g: f32, inp: &[f32], out: &mut [f32], e: &mut [f32]) {
        let n = inp.len().min(out.len()).min(e.len());
        let (pi, po, pe) = (inp.as_ptr(), out.as_mut_ptr(), e.as_mut_ptr());
        let gv = _mm256_set1_ps(g);
        let mut i = 0;
        while i + 8 <= n {
            let o = _mm256_loadu_ps(po.add(i));
            _mm256_storeu_ps(
                pe.add(i),
                _mm256_fmadd_ps(gv, o, _mm256_loadu_ps(pe.add(i))),
            );
            _mm256_storeu_ps(
                po.add(i),
                _mm256_fmadd_ps(gv, _mm256_loadu_ps(pi.add(i)), o),
            );
            i += 8;
        }
        if i < n {
            let m = mask(n - i);
            let o = _mm256_maskload_ps(po.add(i), m);
            let ev = _mm256_fmadd_ps(gv, o, _mm256_maskload_ps(pe.add(i), m));
            _mm256_maskstore_ps(pe.add(i), m, ev);
            let ov = _mm256_fmadd_ps(gv, _mm256_maskload_ps(pi.add(i), m), o);
            _mm256_maskstore_ps(po.add(i), m, ov);
        }
    }
}

/// `sum(a[i] * b[i])` over the common length.
///
/// Four independent 8-lane accumulators keep the adds from waiting on each
/// other (one chain of 12 dependent adds would cost more than the loads).
#[inline(always)]
pub fn dot<const FMA: bool>(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [[0f32; 8]; 4];
    let wide_a = a.chunks_exact(32);
    let wide_b = b.chunks_exact(32);
    let (rest_a, rest_b) = (wide_a.remainder(), wide_b.remainder());
    for (x, y) in wide_a.zip(wide_b) {
        for (k, lanes) in acc.iter_mut().enumerate() {
            for i in 0..8 {
                lanes[i] = madd::<FMA>(x[8 * k + i], y[8 * k + i], lanes[i]);
            }
        }
    }
    let chunks_a = rest_a.chunks_exact(8);
    let chunks_b = rest_b.chunks_exact(8);
    let (tail_a, tail_b) = (chunks_a.remainder(), chunks_b.remainder());
    for (k, (x, y)) in chunks_a.zip(chunks_b).enumerate() {
        for i in 0..8 {
            acc[k + 1][i] = madd::<FMA>(x[i], y[i], acc[k + 1][i]);
        }
    }
    let mut lanes = [0f32; 8];
    for i in 0..8 {
        lanes[i] = (acc[0][i] + acc[1][i]) + (acc[2][i] + acc[3][i]);
    }
    let mut sum = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5]))
        + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
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

/// `e += g * out` and `out += g * inp` in one pass (`e` sees `out` before its update).
#[inline(always)]
pub fn axpy2<const FMA: bool>(g: f32, inp: &[f32], out: &mut [f32], e: &mut [f32]) {
    let n = inp.len().min(out.len()).min(e.len());
    let (inp, out, e) = (&inp[..n], &mut out[..n], &mut e[..n]);
    let mut co = out.chunks_exact_mut(8);
    let mut ce = e.chunks_exact_mut(8);
    let ci = inp.chunks_exact(8);
    let ti = ci.remainder();
    for ((o, x), y) in (&mut co).zip(&mut ce).zip(ci) {
        for i in 0..8 {
            x[i] = madd::<FMA>(g, o[i], x[i]);
            o[i] = madd::<FMA>(g, y[i], o[i]);
        }
    }
    for ((o, x), y) in co
        .into_remainder()
        .iter_mut()
        .zip(ce.into_remainder())
        .zip(ti)
    {
        *x = madd::<FMA>(g, *o, *x);
        *o = madd::<FMA>(g, *y, *o);
    }
}

/// Asks the CPU to start loading `row` into cache.
#[inline(always)]
pub fn prefetch(row: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        let mut offset = 0;
        while offset < row.len() {
            // SAFETY: prefetching never faults; the address is inside `row`.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    row.as_ptr().add(offset) as *const i8,
                )
            };
            offset += 16;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = row;
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
    /// The table, computed once (1024 cells).
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
            let (mut out, mut e) = (b.clone(), a.clone());
            axpy2::<false>(0.25, &a, &mut out, &mut e);
            for i in 0..n {
                assert!((e[i] - (a[i] + 0.25 * b[i])).abs() < 1e-6);
                assert!((out[i] - (b[i] + 0.25 * a[i])).abs() < 1e-6);
            }
            prefetch(&a);
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                unsafe {
                    assert!((Avx2::dot(&a, &b) - expected).abs() < 1e-4);
                    let mut y2 = b.clone();
                    Avx2::axpy(0.5, &a, &mut y2);
                    let (mut out2, mut e2) = (b.clone(), a.clone());
                    Avx2::axpy2(0.25, &a, &mut out2, &mut e2);
                    let mut y3 = b.clone();
                    Portable::axpy(0.5, &a, &mut y3);
                    for i in 0..n {
                        assert!((y2[i] - y3[i]).abs() < 1e-6);
                        assert!((out2[i] - out[i]).abs() < 1e-6 && (e2[i] - e[i]).abs() < 1e-6);
                    }
                }
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
