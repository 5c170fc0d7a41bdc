//! Convolution throughput on the reference model's shapes (the tiny RetinaNet of
//! `tests/reference/README.md`, batch 8 at 256x256), for `anchorscope bench` and for tuning.

use super::conv::{ConvGeom, conv2d_backward, conv2d_forward_into, conv2d_out_size};
use crate::backend::tensor::Tensor;
use std::time::Instant;

/// One convolution shape of the reference model and its measured speed.
#[derive(Clone, Debug)]
pub struct ConvBenchRow {
    /// Which layer(s) this is.
    pub name: &'static str,
    /// Input shape `[N, Cin, H, W]`.
    pub input: [usize; 4],
    /// Output channels.
    pub cout: usize,
    /// Kernel size (square).
    pub k: usize,
    /// Stride and padding.
    pub geom: ConvGeom,
    /// How many times this shape runs in one training step.
    pub count: usize,
    /// Whether the backward computes the input gradient (not for the first layer).
    pub needs_dx: bool,
    /// Best forward time, milliseconds.
    pub fwd_ms: f64,
    /// Best backward time, milliseconds.
    pub bwd_ms: f64,
}

impl ConvBenchRow {
    /// Forward multiply-adds times two.
    pub fn fwd_flop(&self) -> f64 {
        let [n, cin, h, w] = self.input;
        let (ho, wo) = conv2d_out_size(h, w, self.k, self.k, self.geom);
        2.0 * (n * self.cout * ho * wo * cin * self.k * self.k) as f64
    }
    /// Backward FLOP: weight gradient, plus the input gradient when needed.
    pub fn bwd_flop(&self) -> f64 {
        self.fwd_flop() * if self.needs_dx { 2.0 } else { 1.0 }
    }
    /// Forward GFLOP/s.
    pub fn fwd_gflops(&self) -> f64 {
        self.fwd_flop() / self.fwd_ms * 1e-6
    }
    /// Backward GFLOP/s.
    pub fn bwd_gflops(&self) -> f64 {
        self.bwd_flop() / self.bwd_ms * 1e-6
    }
}

/// The convolutions of one training step of the reference model at batch `n`:
/// `(name, input, cout, k, stride, pad, count, needs_dx)`.
#[allow(clippy::type_complexity)]
pub fn reference_conv_shapes(
    n: usize,
) -> Vec<(
    &'static str,
    [usize; 4],
    usize,
    usize,
    usize,
    usize,
    usize,
    bool,
)> {
    let mut v = vec![
        ("backbone 3->16 /2", [n, 3, 256, 256], 16, 3, 2, 1, 1, false),
        (
            "backbone 16->32 /2",
            [n, 16, 128, 128],
            32,
            3,
            2,
            1,
            1,
            true,
        ),
        (
            "backbone 32->64 /2 (C3)",
            [n, 32, 64, 64],
            64,
            3,
            2,
            1,
            1,
            true,
        ),
        (
            "backbone 64->128 /2 (C4)",
            [n, 64, 32, 32],
            128,
            3,
            2,
            1,
            1,
            true,
        ),
        (
            "backbone 128->128 /2 (C5)",
            [n, 128, 16, 16],
            128,
            3,
            2,
            1,
            1,
            true,
        ),
        (
            "lateral 1x1 64->64 P3",
            [n, 64, 32, 32],
            64,
            1,
            1,
            0,
            1,
            true,
        ),
        (
            "lateral 1x1 128->64 P4",
            [n, 128, 16, 16],
            64,
            1,
            1,
            0,
            1,
            true,
        ),
        (
            "lateral 1x1 128->64 P5",
            [n, 128, 8, 8],
            64,
            1,
            1,
            0,
            1,
            true,
        ),
    ];
    for (lvl, s) in [("P3", 32), ("P4", 16), ("P5", 8)] {
        let names: [&'static str; 4] = match lvl {
            "P3" => [
                "fpn out 3x3 P3",
                "head 64->64 x4 P3",
                "cls out 64->27 P3",
                "box out 64->36 P3",
            ],
            "P4" => [
                "fpn out 3x3 P4",
                "head 64->64 x4 P4",
                "cls out 64->27 P4",
                "box out 64->36 P4",
            ],
            _ => [
                "fpn out 3x3 P5",
                "head 64->64 x4 P5",
                "cls out 64->27 P5",
                "box out 64->36 P5",
            ],
        };
        v.push((names[0], [n, 64, s, s], 64, 3, 1, 1, 1, true));
        v.push((names[1], [n, 64, s, s], 64, 3, 1, 1, 4, true));
        v.push((names[2], [n, 64, s, s], 27, 3, 1, 1, 1, true));
        v.push((names[3], [n, 64, s, s], 36, 3, 1, 1, 1, true));
    }
    v
}

fn best_ms(reps: usize, mut f: impl FnMut()) -> f64 {
    f(); // warm-up: scratch buffers, page faults
    (0..reps.max(1))
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::INFINITY, f64::min)
}

/// Times forward and backward of every reference conv shape at batch `n` (best of `reps`).
pub fn bench_conv_shapes(n: usize, reps: usize) -> Vec<ConvBenchRow> {
    reference_conv_shapes(n)
        .into_iter()
        .map(|(name, input, cout, k, s, p, count, needs_dx)| {
            let geom = ConvGeom::new(s, p);
            let fill = |shape: [usize; 4], m: usize| {
                let len = shape.iter().product::<usize>();
                Tensor::from_vec(
                    shape,
                    (0..len)
                        .map(|i| ((i * m) % 97) as f32 * 0.01 - 0.48)
                        .collect(),
                )
            };
            let x = fill(input, 31);
            let w = fill([cout, input[1], k, k], 17);
            let b = vec![0.1; cout];
            let mut y = Tensor::default();
            let fwd_ms = best_ms(reps, || conv2d_forward_into(&x, &w, Some(&b), geom, &mut y));
            let mut dx = Tensor::zeros(x.shape);
            let mut dw = Tensor::zeros(w.shape);
            let mut db = vec![0.0; cout];
            let bwd_ms = best_ms(reps, || {
                conv2d_backward(
                    &x,
                    &w,
                    &y,
                    geom,
                    needs_dx.then_some(&mut dx),
                    &mut dw,
                    Some(&mut db),
                )
            });
            ConvBenchRow {
                name,
                input,
                cout,
                k,
                geom,
                count,
                needs_dx,
                fwd_ms,
                bwd_ms,
            }
        })
        .collect()
}

/// A printable table of [`bench_conv_shapes`] rows, with the conv-only step estimate.
pub fn format_conv_table(rows: &[ConvBenchRow]) -> String {
    let mut s = format!(
        "{:<28} {:>5} {:>9} {:>9} {:>9} {:>9}\n",
        "layer", "count", "fwd ms", "fwd GF/s", "bwd ms", "bwd GF/s"
    );
    let (mut ms, mut flop) = (0.0, 0.0);
    for r in rows {
        s += &format!(
            "{:<28} {:>5} {:>9.3} {:>9.1} {:>9.3} {:>9.1}\n",
            r.name,
            r.count,
            r.fwd_ms,
            r.fwd_gflops(),
            r.bwd_ms,
            r.bwd_gflops()
        );
        ms += r.count as f64 * (r.fwd_ms + r.bwd_ms);
        flop += r.count as f64 * (r.fwd_flop() + r.bwd_flop());
    }
    s += &format!(
        "convs of one step: {:.1} GFLOP in {ms:.1} ms = {:.1} GFLOP/s (PyTorch whole step: 18.0 GFLOP in 85 ms)\n",
        flop * 1e-9,
        flop / ms * 1e-6
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_add_up_to_the_reference_flop() {
        let rows: f64 = reference_conv_shapes(8)
            .iter()
            .map(|&(name, input, cout, k, s, p, count, needs_dx)| {
                let r = ConvBenchRow {
                    name,
                    input,
                    cout,
                    k,
                    geom: ConvGeom::new(s, p),
                    count,
                    needs_dx,
                    fwd_ms: 1.0,
                    bwd_ms: 1.0,
                };
                count as f64 * (r.fwd_flop() + r.bwd_flop())
            })
            .sum();
        // torch's FLOP counter says 18.0 GFLOP for the whole step (convs dominate)
        assert!((rows * 1e-9 - 18.0).abs() < 0.5, "{}", rows * 1e-9);
    }

    /// `cargo test --release --lib backend::cpu::bench -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn print_conv_table() {
        let rows = bench_conv_shapes(8, 5);
        println!(
            "threads: {}\n{}",
            rayon::current_num_threads(),
            format_conv_table(&rows)
        );
    }
}
