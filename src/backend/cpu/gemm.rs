//! A bounds-checked wrapper over `gemm::gemm` and per-thread scratch buffers.
//!
//! [`matmul`] is the only place that calls a GEMM kernel, so swapping the kernel is local.
//! Measured on the 2-core reference machine (single thread, conv-band shapes such as
//! 64x576x224): `gemm` 0.19 with default features (AVX2) reaches 90-110 GFLOP/s,
//! `matrixmultiply` 0.3 140-165, and `gemm` with its `x86-v4` feature (AVX-512, builds on
//! stable) 160-190; with `x86-v4` the convolutions of one reference training step drop from
//! about 130 ms to about 98 ms on 2 threads.

use std::cell::RefCell;
use std::thread::LocalKey;

pub use gemm::Parallelism;

/// A strided, read-only matrix view over a slice.
#[derive(Clone, Copy)]
pub(crate) struct Mat<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    /// Row stride.
    pub rs: usize,
    /// Column stride.
    pub cs: usize,
}

impl<'a> Mat<'a> {
    /// A row-major `rows x cols` matrix.
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            rs: cols,
            cs: 1,
        }
    }

    /// The transpose (a view, nothing moves).
    pub fn t(self) -> Self {
        Self {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
        }
    }

    fn check(&self, len: usize) {
        if self.rows > 0 && self.cols > 0 {
            let last = (self.rows - 1) * self.rs + (self.cols - 1) * self.cs;
            assert!(last < len, "matrix view out of bounds");
        }
    }
}

/// `dst = a * b` (or `dst += a * b` when `accumulate`), `dst` row-major with row stride `ld`.
pub(crate) fn matmul(
    dst: &mut [f32],
    ld: usize,
    accumulate: bool,
    a: Mat<'_>,
    b: Mat<'_>,
    par: Parallelism,
) {
    assert_eq!(a.cols, b.rows, "inner dimensions differ");
    let (m, n, k) = (a.rows, b.cols, a.cols);
    a.check(a.data.len());
    b.check(b.data.len());
    Mat::row_major(dst, m, n).check_ld(ld, dst.len());
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for r in 0..m {
                dst[r * ld..r * ld + n].fill(0.0);
            }
        }
        return;
    }
    // SAFETY: every index touched lies inside the slices (checked above); `dst` is exclusive.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            ld as isize,
            accumulate,
            a.data.as_ptr(),
            a.cs as isize,
            a.rs as isize,
            b.data.as_ptr(),
            b.cs as isize,
            b.rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            par,
        );
    }
}

impl Mat<'_> {
    fn check_ld(&self, ld: usize, len: usize) {
        assert!(ld >= self.cols);
        if self.rows > 0 && self.cols > 0 {
            assert!((self.rows - 1) * ld + self.cols <= len, "dst out of bounds");
        }
    }
}

thread_local! {
    pub(crate) static SCRATCH_A: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    pub(crate) static SCRATCH_B: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    pub(crate) static SCRATCH_C: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on a per-thread buffer of at least `len` floats (contents unspecified).
/// Falls back to a fresh allocation when the buffer is already in use on this thread
/// (re-entrancy through rayon work stealing).
pub(crate) fn with_scratch<R>(
    key: &'static LocalKey<RefCell<Vec<f32>>>,
    len: usize,
    f: impl FnOnce(&mut [f32]) -> R,
) -> R {
    key.with(|cell| match cell.try_borrow_mut() {
        Ok(mut v) => {
            if v.len() < len {
                v.resize(len, 0.0);
            }
            f(&mut v[..len])
        }
        Err(_) => f(&mut vec![0.0; len]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matmul_small() {
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2x3
        let b = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0]; // 3x2
        let mut c = [10.0; 4];
        let (ma, mb) = (Mat::row_major(&a, 2, 3), Mat::row_major(&b, 3, 2));
        matmul(&mut c, 2, false, ma, mb, Parallelism::None);
        assert_eq!(c, [4.0, 5.0, 10.0, 11.0]);
        matmul(&mut c, 2, true, ma, mb, Parallelism::None);
        assert_eq!(c, [8.0, 10.0, 20.0, 22.0]);
        // a^T (3x2) * a (2x3)
        let mut d = [0.0; 9];
        matmul(&mut d, 3, false, ma.t(), ma, Parallelism::None);
        assert_eq!(d[0], 17.0);
        assert_eq!(d[8], 45.0);
    }
}

#[cfg(test)]
mod timing {
    use super::*;
    /// Single-thread GFLOP/s of small products: `cargo test --release --lib gemm_small_times
    /// -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn gemm_small_times() {
        for &(m, k, n, bt) in &[
            (28, 64, 64, false),
            (28, 64, 64, true),
            (64, 64, 28, false),
            (64, 64, 64, false),
            (64, 64, 64, true),
            (128, 64, 64, false),
            (64, 64, 256, false),
            (64, 64, 512, false),
            (64, 576, 224, false),
            (16, 27, 4736, false),
            (32, 144, 896, false),
            (4736, 27, 16, false),
            (896, 144, 32, false),
            (27, 4736, 16, true),
            (16, 4736, 27, true),
            (27, 16384, 16, true),
            (144, 896, 32, true),
        ] {
            let a = vec![0.5f32; m * k];
            let b = vec![0.25f32; k * n];
            let mut c = vec![0.0f32; m * n];
            let am = Mat::row_major(&a, m, k);
            let bm = if bt {
                Mat::row_major(&b, n, k).t()
            } else {
                Mat::row_major(&b, k, n)
            };
            let reps = (200_000_000 / (2 * m * n * k)).max(10);
            let t = std::time::Instant::now();
            for _ in 0..reps {
                matmul(&mut c, n, false, am, bm, Parallelism::None);
            }
            let s = t.elapsed().as_secs_f64();
            println!(
                "{m}x{k}x{n} (b transposed {bt}): {:.0} GFLOP/s, {:.2} us a call",
                2.0 * (m * n * k * reps) as f64 / s / 1e9,
                s / reps as f64 * 1e6
            );
        }
    }
}
