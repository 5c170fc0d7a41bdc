//! Whole-model gradient check against finite differences (tiny configs, BFP off and on):
//! every parameter's gradient, and the gradient with respect to the input image
//! ([`Model::backward_with_input`], what hard-positive occlusion reads).
//!
//! Scalar loss `L = sum(outputs * dout)` with random `dout`, accumulated in f64 from the
//! f32 outputs. Parameters are redrawn so every layer carries an O(1) signal (weights
//! N(0, 2/fan_in), biases N(0, 0.2^2)): with RetinaNet's init (heads at std 0.01) the
//! backbone gradients would be ~1e-4 and drown in f32 rounding.
//!
//! With all other parameters fixed, `L` is piecewise AFFINE in any single parameter (ReLU
//! and max-pool are the only nonlinearities; convolutions, resizes and adds are linear and
//! each parameter enters once). A difference quotient over an interval where no ReLU flips
//! and no max-pool winner changes is therefore exact up to rounding, while one across such a
//! kink can be off by percents (with ~10^3 units, kinks within 1e-3 are common). So per value
//! the test records the activation pattern (signs of every ReLU output, pool winners) at
//! `theta` and `theta +- h` for h = 3e-3, 1e-3, 3e-4, 1e-4, and uses the central difference
//! where both sides keep the pattern, else the one-sided difference on the side that does
//! (values with a flip on both sides at every step are skipped, at most 10%).
//! Tolerance: `|num - ana| <= 1e-3 |ana| + 1e-4 max|ana over the tensor| + 2e-7 S / h` with
//! `S = sum |out * dout|`: the f32 rounding of `L` was measured at up to 5.5e-8 S (about one
//! f32 epsilon of S) over 12 seeds, so the last term allows about 4x that.

use super::{HeadOutputs, Model, ModelConfig};
use crate::backend::tensor::Tensor;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

fn tiny(balanced: bool) -> ModelConfig {
    ModelConfig {
        backbone_channels: vec![4, 4, 4, 4, 4],
        fpn_channels: 4,
        num_classes: 2,
        num_anchors: 1,
        balanced_fpn: balanced,
        ..ModelConfig::default()
    }
}

/// Signs of every ReLU output and the max-pool winners of the last forward.
fn pattern(m: &Model) -> Vec<u32> {
    let a = &m.acts;
    let relus = (a.stages.iter())
        .chain(a.cls_h.iter().flatten())
        .chain(a.reg_h.iter().flatten())
        .chain(m.refine.is_some().then_some(&a.refined));
    let signs = relus.flat_map(|t| t.data.iter().map(|&v| (v > 0.0) as u32));
    let idx = a.gather_idx.iter().chain(&a.scatter_idx).flatten().copied();
    signs.chain(idx).collect()
}

/// `(L, sum |out * dout|, activation pattern)` at the current parameters.
fn loss(model: &mut Model, x: &Tensor, d: &HeadOutputs) -> (f64, f64, Vec<u32>) {
    let o = model.forward(x);
    let pairs = (o.cls.iter().chain(&o.reg))
        .zip(d.cls.iter().chain(&d.reg))
        .flat_map(|(a, b)| a.data.iter().zip(&b.data))
        .map(|(&u, &v)| u as f64 * v as f64);
    let (l, s) = pairs.fold((0.0, 0.0), |(l, s), t| (l + t, s + t.abs()));
    (l, s, pattern(model))
}

/// A tiny model with parameters redrawn (see the module doc), an input batch and random
/// output gradients `dout`, and the generator for the values to check.
fn setup(balanced: bool, seed: u64) -> (Model, Tensor, HeadOutputs, ChaCha8Rng) {
    let cfg = tiny(balanced);
    let mut model = Model::new(&cfg, seed).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed + 100);
    for p in model.params_mut() {
        let std = if p.shape.len() == 4 {
            (2.0 / p.shape[1..].iter().product::<usize>() as f32).sqrt()
        } else {
            0.2
        };
        let d = Normal::new(0.0f32, std).unwrap();
        p.value
            .data
            .iter_mut()
            .for_each(|v| *v = d.sample(&mut rng));
    }
    let x = Tensor::randn([2, 3, 64, 64], 1.0, &mut rng);
    let out = model.forward(&x);
    let mut d = out.zeros_like();
    for t in d.cls.iter_mut().chain(&mut d.reg) {
        *t = Tensor::randn(t.shape, 1.0, &mut rng);
    }
    (model, x, d, rng)
}

/// A difference quotient of `L` when one value moves by `+-h` (`set` puts the value),
/// central where the activation pattern holds on both sides, else one-sided on the side
/// where it holds, trying h = 3e-3 .. 1e-4 (see the module doc); `None` when every step
/// flips the pattern on both sides. Returns (quotient, h).
fn quotient(
    l0: f64,
    p0: &[u32],
    v0: f32,
    mut at: impl FnMut(f32) -> (f64, f64, Vec<u32>),
) -> Option<(f64, f64)> {
    for h in [3e-3f32, 1e-3, 3e-4, 1e-4] {
        let (lp, _, pp) = at(v0 + h);
        let (lm, _, pm) = at(v0 - h);
        let hd = h as f64;
        let found = match (pp == p0, pm == p0) {
            (true, true) => Some(((lp - lm) / (2.0 * hd), hd)),
            (true, false) => Some(((lp - l0) / hd, hd)),
            (false, true) => Some(((l0 - lm) / hd, hd)),
            (false, false) => None,
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

fn check(balanced: bool, seed: u64) {
    let (mut model, x, d, mut rng) = setup(balanced, seed);
    let rng = &mut rng;
    model.zero_grad();
    model.backward(&d);
    let (l0, s0, p0) = loss(&mut model, &x, &d);
    let mut worst = 0.0f64;
    let names: Vec<String> = model.params().map(|p| p.name.clone()).collect();
    let (mut checked, mut skipped) = (0, 0);
    for (pi, name) in names.iter().enumerate() {
        let p = model.params().nth(pi).unwrap();
        let grad = p.grad.data.clone();
        let scale = grad.iter().fold(0.0f32, |m, g| m.max(g.abs())) as f64;
        assert!(scale > 0.0, "{name}: all gradients are zero");
        let argmax = (0..grad.len())
            .max_by(|&a, &b| grad[a].abs().total_cmp(&grad[b].abs()))
            .unwrap();
        let mut idx = vec![argmax];
        idx.extend((0..3).map(|_| rng.random_range(0..grad.len())));
        for i in idx {
            let set = |m: &mut Model, v: f32| m.params_mut().nth(pi).unwrap().value.data[i] = v;
            let v0 = model.params().nth(pi).unwrap().value.data[i];
            let ana = grad[i] as f64;
            let found = quotient(l0, &p0, v0, |v| {
                set(&mut model, v);
                loss(&mut model, &x, &d)
            });
            set(&mut model, v0);
            let Some((num, h)) = found else {
                skipped += 1;
                continue;
            };
            let tol = 1e-3 * ana.abs() + 1e-4 * scale + 2e-7 * s0 / h;
            let err = (num - ana).abs();
            worst = worst.max(err / tol);
            assert!(
                err <= tol,
                "balanced={balanced} {name}[{i}]: finite difference {num} (h {h}) vs analytic {ana}"
            );
            checked += 1;
        }
    }
    println!(
        "balanced_fpn={balanced}: {checked} values checked, {skipped} skipped, worst error/tolerance {worst:.3}"
    );
    assert!(skipped * 10 <= checked + skipped, "too many values skipped");
}

#[test]
fn gradients_match_finite_differences() {
    check(false, 1);
    check(false, 2);
}

#[test]
fn gradients_match_finite_differences_balanced_fpn() {
    check(true, 3);
    check(true, 4);
}

/// The gradient with respect to the input image (what hard-positive occlusion reads) at the
/// largest-gradient pixel and 15 random ones of each image, same rule and tolerance as the
/// parameters'.
fn check_input(balanced: bool, seed: u64) {
    let (mut model, mut x, d, mut rng) = setup(balanced, seed);
    model.zero_grad();
    let dx = model.backward_with_input(&d).clone();
    assert_eq!(dx.shape, x.shape, "input gradient shape");
    let (l0, s0, p0) = loss(&mut model, &x, &d);
    let scale = dx.data.iter().fold(0.0f32, |m, g| m.max(g.abs())) as f64;
    assert!(scale > 0.0, "the input gradient is all zero");
    let per_image = dx.data.len() / x.shape[0];
    let mut idx = vec![
        (0..dx.data.len())
            .max_by(|&a, &b| dx.data[a].abs().total_cmp(&dx.data[b].abs()))
            .unwrap(),
    ];
    for n in 0..x.shape[0] {
        idx.extend((0..15).map(|_| n * per_image + rng.random_range(0..per_image)));
    }
    let (mut checked, mut skipped, mut worst) = (0, 0, 0.0f64);
    for i in idx {
        let v0 = x.data[i];
        let found = quotient(l0, &p0, v0, |v| {
            x.data[i] = v;
            loss(&mut model, &x, &d)
        });
        x.data[i] = v0;
        let Some((num, h)) = found else {
            skipped += 1;
            continue;
        };
        let ana = dx.data[i] as f64;
        let tol = 1e-3 * ana.abs() + 1e-4 * scale + 2e-7 * s0 / h;
        let err = (num - ana).abs();
        worst = worst.max(err / tol);
        assert!(
            err <= tol,
            "balanced={balanced} input[{i}]: finite difference {num} (h {h}) vs analytic {ana}"
        );
        checked += 1;
    }
    println!(
        "input gradient, balanced_fpn={balanced}: {checked} checked, {skipped} skipped, worst error/tolerance {worst:.3}"
    );
    assert!(skipped * 10 <= checked + skipped, "too many values skipped");
}

#[test]
fn input_gradient_matches_finite_differences() {
    check_input(false, 5);
    check_input(true, 6);
}

#[test]
fn plain_backward_leaves_the_input_gradient_alone() {
    // backward without the input gradient must not touch (or need) it
    let (mut model, x, d, _) = setup(false, 7);
    model.zero_grad();
    let with: Vec<Vec<f32>> = {
        model.backward_with_input(&d);
        model.params().map(|p| p.grad.data.clone()).collect()
    };
    model.forward(&x);
    model.zero_grad();
    model.backward(&d);
    let without: Vec<Vec<f32>> = model.params().map(|p| p.grad.data.clone()).collect();
    assert_eq!(
        with, without,
        "the parameter gradients do not depend on the input gradient"
    );
}
