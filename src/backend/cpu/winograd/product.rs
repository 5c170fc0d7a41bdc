//! The per-frequency products of the Winograd convolution: `C (+)= A B` with `B`'s rows
//! and `C`'s rows contiguous and `n` a multiple of 16 (channel counts padded to whole
//! vectors), `A` at any strides. The shapes are small (`k` = 64 channels or one block of
//! tiles, `n` = 64 channels), so a register-blocked kernel that needs no packing (`B`, one
//! frequency's `64 x 64` kernel values, is 16 KiB and stays in L1) beats a general GEMM call
//! per frequency. With AVX-512: 6 rows x 64 columns of `C` in 24 registers, `B`'s row loaded
//! once per `k` and each `A` value broadcast; with AVX2 + FMA the same with 6 rows x 16
//! columns in 12 registers; elsewhere a plain loop the compiler vectorises. Both SIMD
//! kernels add `k` in order with one fused multiply-add each, so they give the same bits.

/// One product: `c[r * c_rs + j] (+)= sum_k a[r * a_rs + k * a_cs] * b[k * b_rs + j]` for
/// `r < m`, `j < n`.
#[derive(Clone, Copy)]
pub(super) struct Product {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub a_rs: usize,
    pub a_cs: usize,
    pub b_rs: usize,
    pub c_rs: usize,
    pub accumulate: bool,
}

impl Product {
    fn check(&self, a: &[f32], b: &[f32], c: &[f32]) {
        assert!(
            self.n.is_multiple_of(16),
            "product: n must be a multiple of 16"
        );
        if self.m == 0 || self.n == 0 {
            return;
        }
        assert!((self.m - 1) * self.c_rs + self.n <= c.len(), "product: c");
        if self.k > 0 {
            let last_a = (self.m - 1) * self.a_rs + (self.k - 1) * self.a_cs;
            assert!(last_a < a.len(), "product: a");
            assert!((self.k - 1) * self.b_rs + self.n <= b.len(), "product: b");
        }
    }

    /// Runs the product (bounds checked), with the instructions `simd` names.
    #[inline(always)]
    pub fn run(&self, simd: Simd, a: &[f32], b: &[f32], c: &mut [f32]) {
        self.check(a, b, c);
        match simd {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Simd::Avx512` is only made when the CPU has AVX-512F (`Simd::detect`);
            // the bounds were checked above.
            Simd::Avx512 => unsafe {
                avx512::product(self, a.as_ptr(), b.as_ptr(), c.as_mut_ptr())
            },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Simd::Avx2` is only made when the CPU has AVX2 and FMA; bounds as above.
            Simd::Avx2 => unsafe { avx2::product(self, a.as_ptr(), b.as_ptr(), c.as_mut_ptr()) },
            Simd::Portable => self.portable(a, b, c),
        }
    }

    fn portable(&self, a: &[f32], b: &[f32], c: &mut [f32]) {
        let n = self.n;
        for r in 0..self.m {
            let cr = &mut c[r * self.c_rs..][..n];
            if !self.accumulate {
                cr.fill(0.0);
            }
            for kk in 0..self.k {
                let av = a[r * self.a_rs + kk * self.a_cs];
                for (o, bv) in cr.iter_mut().zip(&b[kk * self.b_rs..][..n]) {
                    *o += av * bv;
                }
            }
        }
    }
}

/// The instruction set the Winograd kernels run with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Simd {
    /// Plain Rust (what the compiler's baseline target vectorises).
    Portable,
    /// AVX-512F (x86-64 only, detected at run time).
    #[cfg(target_arch = "x86_64")]
    Avx512,
    /// AVX2 with FMA (x86-64 only, detected at run time; 8-lane registers).
    #[cfg(target_arch = "x86_64")]
    Avx2,
}

#[cfg(test)]
thread_local! {
    /// What [`Simd::detect`] answers on this thread inside [`Simd::forced`].
    static FORCED: std::cell::Cell<Option<Simd>> = const { std::cell::Cell::new(None) };
}

impl Simd {
    /// The best this CPU has (in tests, what [`Simd::forced`] set on this thread). The
    /// Winograd entry points ask on the calling thread and pass the answer down.
    pub fn detect() -> Self {
        #[cfg(test)]
        if let Some(s) = FORCED.with(|f| f.get()) {
            return s;
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            return Simd::Avx512;
        }
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return Simd::Avx2;
        }
        Simd::Portable
    }

    /// Runs `f` with [`Simd::detect`] answering `simd` on this thread (`simd` must be one of
    /// [`Simd::all_available`]).
    #[cfg(test)]
    pub fn forced<R>(simd: Simd, f: impl FnOnce() -> R) -> R {
        assert!(
            Self::all_available().contains(&simd),
            "{simd:?} not available"
        );
        let before = FORCED.with(|c| c.replace(Some(simd)));
        let r = f();
        FORCED.with(|c| c.set(before));
        r
    }

    /// What this CPU can run, best first (the tests run every one).
    #[cfg(test)]
    pub fn all_available() -> Vec<Self> {
        let mut v = vec![Simd::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                v.insert(0, Simd::Avx2);
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                v.insert(0, Simd::Avx512);
            }
        }
        v
    }
}

/// The whole product from a module's `rows::<R>` (rows `r..r + R`): `MR` rows at a time,
/// then the remainder (`MR = 6` in both SIMD modules).
#[cfg(target_arch = "x86_64")]
macro_rules! all_rows {
    ($p:ident, $a:ident, $b:ident, $c:ident) => {{
        let mut r = 0;
        while r + MR <= $p.m {
            rows::<MR>($p, r, $a, $b, $c);
            r += MR;
        }
        match $p.m - r {
            1 => rows::<1>($p, r, $a, $b, $c),
            2 => rows::<2>($p, r, $a, $b, $c),
            3 => rows::<3>($p, r, $a, $b, $c),
            4 => rows::<4>($p, r, $a, $b, $c),
            5 => rows::<5>($p, r, $a, $b, $c),
            _ => {}
        }
    }};
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::Product;
    use std::arch::x86_64::*;

    /// Rows of `C` per register block.
    const MR: usize = 6;

    /// `MR_ x (16 NV)` of `C`: accumulators in registers over the whole `k`.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn block<const MR_: usize, const NV: usize>(
        p: &Product,
        a: *const f32,
        b: *const f32,
        c: *mut f32,
    ) {
        // SAFETY (whole function): the caller keeps every offset inside the checked bounds.
        unsafe {
            let mut acc = [[_mm512_setzero_ps(); NV]; MR_];
            if p.accumulate {
                for (r, row) in acc.iter_mut().enumerate() {
                    for (v, x) in row.iter_mut().enumerate() {
                        *x = _mm512_loadu_ps(c.add(r * p.c_rs + 16 * v));
                    }
                }
            }
            for kk in 0..p.k {
                let bk = b.add(kk * p.b_rs);
                let mut bv = [_mm512_setzero_ps(); NV];
                for (v, x) in bv.iter_mut().enumerate() {
                    *x = _mm512_loadu_ps(bk.add(16 * v));
                }
                let ak = a.add(kk * p.a_cs);
                for (r, row) in acc.iter_mut().enumerate() {
                    let av = _mm512_set1_ps(*ak.add(r * p.a_rs));
                    for (x, bx) in row.iter_mut().zip(&bv) {
                        *x = _mm512_fmadd_ps(av, *bx, *x);
                    }
                }
            }
            for (r, row) in acc.iter().enumerate() {
                for (v, x) in row.iter().enumerate() {
                    _mm512_storeu_ps(c.add(r * p.c_rs + 16 * v), *x);
                }
            }
        }
    }

    /// Rows `MR_` at a time, columns in blocks of up to 64.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn rows<const MR_: usize>(
        p: &Product,
        r0: usize,
        a: *const f32,
        b: *const f32,
        c: *mut f32,
    ) {
        // SAFETY: as for `block`.
        unsafe {
            let (a, c) = (a.add(r0 * p.a_rs), c.add(r0 * p.c_rs));
            let mut j = 0;
            while j < p.n {
                let (bj, cj) = (b.add(j), c.add(j));
                match (p.n - j) / 16 {
                    1 => block::<MR_, 1>(p, a, bj, cj),
                    2 => block::<MR_, 2>(p, a, bj, cj),
                    3 => block::<MR_, 3>(p, a, bj, cj),
                    _ => block::<MR_, 4>(p, a, bj, cj),
                }
                j += 64;
            }
        }
    }

    /// The whole product.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn product(p: &Product, a: *const f32, b: *const f32, c: *mut f32) {
        // SAFETY: as for `block`.
        unsafe { all_rows!(p, a, b, c) }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::Product;
    use std::arch::x86_64::*;

    /// Rows of `C` per register block.
    const MR: usize = 6;

    /// `MR_ x 16` of `C`: 2 MR_ accumulators in registers over the whole `k`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn block<const MR_: usize>(p: &Product, a: *const f32, b: *const f32, c: *mut f32) {
        // SAFETY (whole function): the caller keeps every offset inside the checked bounds.
        unsafe {
            let mut acc = [[_mm256_setzero_ps(); 2]; MR_];
            if p.accumulate {
                for (r, row) in acc.iter_mut().enumerate() {
                    for (v, x) in row.iter_mut().enumerate() {
                        *x = _mm256_loadu_ps(c.add(r * p.c_rs + 8 * v));
                    }
                }
            }
            for kk in 0..p.k {
                let bk = b.add(kk * p.b_rs);
                let bv = [_mm256_loadu_ps(bk), _mm256_loadu_ps(bk.add(8))];
                let ak = a.add(kk * p.a_cs);
                for (r, row) in acc.iter_mut().enumerate() {
                    let av = _mm256_broadcast_ss(&*ak.add(r * p.a_rs));
                    row[0] = _mm256_fmadd_ps(av, bv[0], row[0]);
                    row[1] = _mm256_fmadd_ps(av, bv[1], row[1]);
                }
            }
            for (r, row) in acc.iter().enumerate() {
                for (v, x) in row.iter().enumerate() {
                    _mm256_storeu_ps(c.add(r * p.c_rs + 8 * v), *x);
                }
            }
        }
    }

    /// Rows `MR_` at a time, columns in blocks of 16.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn rows<const MR_: usize>(
        p: &Product,
        r0: usize,
        a: *const f32,
        b: *const f32,
        c: *mut f32,
    ) {
        // SAFETY: as for `block`.
        unsafe {
            let (a, c) = (a.add(r0 * p.a_rs), c.add(r0 * p.c_rs));
            for j in (0..p.n).step_by(16) {
                block::<MR_>(p, a, b.add(j), c.add(j));
            }
        }
    }

    /// The whole product.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn product(p: &Product, a: *const f32, b: *const f32, c: *mut f32) {
        // SAFETY: as for `block`.
        unsafe { all_rows!(p, a, b, c) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both kernels against a plain f64 sum, at strides like the forward's and the weight
    /// gradient's, every row remainder and column count, with and without accumulation.
    #[test]
    fn products_match_plain_sums() {
        let val = |i: usize, s: usize| (((i * 37 + s * 11) % 101) as f32 - 50.0) / 25.0;
        // The first SIMD kernel's result of each case, by (case, accumulate).
        let mut first_simd = std::collections::HashMap::new();
        for simd in Simd::all_available() {
            for (case, &(m, n, k, transposed)) in [
                (13, 64, 64, false),
                (7, 32, 17, false),
                (1, 16, 5, false),
                (20, 80, 9, true),
                (27, 48, 56, true),
                (6, 128, 3, false),
            ]
            .iter()
            .enumerate()
            {
                let (a_rs, a_cs) = if transposed { (1, m + 3) } else { (k + 2, 1) };
                let a: Vec<f32> = (0..m * k * 3 + 3 * (m + k) + 8)
                    .map(|i| val(i, 1))
                    .collect();
                let b_rs = n + 16;
                let b: Vec<f32> = (0..k * b_rs).map(|i| val(i, 2)).collect();
                let c_rs = n + 16;
                for accumulate in [false, true] {
                    let mut c: Vec<f32> = (0..m * c_rs).map(|i| val(i, 3)).collect();
                    let c0 = c.clone();
                    let p = Product {
                        m,
                        n,
                        k,
                        a_rs,
                        a_cs,
                        b_rs,
                        c_rs,
                        accumulate,
                    };
                    p.run(simd, &a, &b, &mut c);
                    // The SIMD kernels add the same products in the same order.
                    if simd != Simd::Portable {
                        let bits: Vec<u32> = c.iter().map(|x| x.to_bits()).collect();
                        let (s0, b0) = first_simd
                            .entry((case, accumulate))
                            .or_insert((simd, bits.clone()));
                        assert!(bits == *b0, "{simd:?} differs from {s0:?} in case {case}");
                    }
                    for r in 0..m {
                        for j in 0..c_rs {
                            let got = c[r * c_rs + j] as f64;
                            if j >= n {
                                assert_eq!(
                                    got,
                                    c0[r * c_rs + j] as f64,
                                    "column {j} past n written"
                                );
                                continue;
                            }
                            let mut e = if accumulate {
                                c0[r * c_rs + j] as f64
                            } else {
                                0.0
                            };
                            for kk in 0..k {
                                e += a[r * a_rs + kk * a_cs] as f64 * b[kk * b_rs + j] as f64;
                            }
                            assert!(
                                (got - e).abs() <= 1e-4 * (1.0 + e.abs()),
                                "{simd:?} {m}x{n}x{k}: {got} vs {e}"
                            );
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod timing {
    use super::*;

    /// Single-thread GFLOP/s of the forward's and the weight gradient's product shapes:
    /// `cargo test --release --lib winograd_product_times -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn winograd_product_times() {
        let simd = Simd::detect();
        for &(m, n, k, wgrad) in &[
            (16, 64, 64, false),
            (48, 64, 64, false),
            (64, 64, 16, true),
            (64, 64, 48, true),
        ] {
            let (a_rs, a_cs) = if wgrad { (1, m) } else { (k, 1) };
            let a = vec![0.5f32; m * k];
            let b = vec![0.25f32; k * n];
            let mut c = vec![0.0f32; m * n];
            let p = Product {
                m,
                n,
                k,
                a_rs,
                a_cs,
                b_rs: n,
                c_rs: n,
                accumulate: wgrad,
            };
            let reps = 20_000;
            let t = std::time::Instant::now();
            for _ in 0..reps {
                p.run(simd, &a, &b, &mut c);
            }
            let s = t.elapsed().as_secs_f64();
            println!(
                "{m}x{k}x{n} ({}): {:.0} GFLOP/s, {:.2} us a call",
                if wgrad { "weight gradient" } else { "forward" },
                2.0 * (m * n * k * reps) as f64 / s / 1e9,
                s / reps as f64 * 1e6
            );
        }
    }
}
