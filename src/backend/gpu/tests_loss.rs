//! The GPU loss kernels against `ClsLoss::pointwise` and `RegLoss::eval_one_into` in f64, on
//! two head levels mapped through `model::layout` (lavapipe in CI; same tolerance as
//! `tests.rs`).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use super::GpuBackend;
use super::loss::{
    AnchorTargets, GpuAnchorTargets, GpuLossSpec, HeadLevel, PARTIALS_PER_ANCHOR,
    loss_partials_len, record_head_loss, record_loss_sums,
};
use super::tests::{assert_close, ctx};
use super::{GpuContext, GpuTensor, elementwise::run};
use crate::backend::Backend;
use crate::backend::cpu::Cpu;
use crate::backend::head_loss::HeadLossSpec;
use crate::backend::tensor::Tensor;
use crate::losses::classification::ClsLoss;
use crate::losses::regression::RegLoss;
use crate::model::HeadOutputs;
use crate::model::layout::flatten_outputs;
use std::sync::Arc;

const N: usize = 2;
const A: usize = 3;
const C: usize = 3;
/// `(H, W)` of the two levels.
const LEVELS: [(usize, usize); 2] = [(4, 5), (2, 3)];
const GC: f32 = 0.7;
const GR: f32 = 1.3;

fn anchors_per_image() -> usize {
    LEVELS.iter().map(|(h, w)| h * w * A).sum()
}

/// Random head maps (std 2, every 7th logit at +-20) and random targets: about a third
/// positives, some zero classification weights, regression weights only on some positives.
fn random_inputs(seed: u64) -> (HeadOutputs, AnchorTargets) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut map = |k: usize, h: usize, w: usize, big: bool| {
        let mut t = Tensor::randn([N, A * k, h, w], 2.0, &mut rng);
        if big {
            for v in t.data.iter_mut().step_by(7) {
                *v = 20f32.copysign(*v);
            }
        }
        t
    };
    let cls = LEVELS.iter().map(|&(h, w)| map(C, h, w, true)).collect();
    let reg = LEVELS.iter().map(|&(h, w)| map(4, h, w, false)).collect();
    let mut t = AnchorTargets::new(N, anchors_per_image());
    for i in 0..t.len() {
        let positive = rng.random_range(0..3) == 0;
        t.labels[i] = if positive {
            rng.random_range(0..C as i32)
        } else {
            -1
        };
        t.cls_weights[i] = [0.0, 1.0, 1.0, 0.5, 2.0][rng.random_range(0..5)];
        if positive && t.cls_weights[i] > 0.0 && rng.random_range(0..4) > 0 {
            t.reg_weights[i] = [1.0, 0.25, 3.0][rng.random_range(0..3)];
        }
        t.reg_targets[i] = std::array::from_fn(|_| rng.random_range(-2.0..2.0));
    }
    (HeadOutputs { cls, reg }, t)
}

/// The CPU reference, per anchor in generator order: class gradient rows `[anchor][C]`,
/// delta gradient rows `[anchor][4]` and the 5 partials.
fn cpu_reference(
    cls_loss: &ClsLoss,
    reg_loss: &RegLoss,
    heads: &HeadOutputs,
    t: &AnchorTargets,
) -> (Vec<f32>, Vec<f32>, Vec<f64>) {
    let (logits, deltas) = flatten_outputs(heads);
    let (mut gcls, mut greg) = (vec![0.0; logits.len()], vec![0.0; deltas.len()]);
    let mut partials = vec![0.0; t.len() * PARTIALS_PER_ANCHOR];
    for i in 0..t.len() {
        let row = &logits[i * C..(i + 1) * C];
        let box_row = &deltas[i * 4..(i + 1) * 4];
        let part = &mut partials[i * PARTIALS_PER_ANCHOR..(i + 1) * PARTIALS_PER_ANCHOR];
        part[3] = f64::from(u8::from(row.iter().any(|x| !x.is_finite())));
        part[4] = f64::from(u8::from(box_row.iter().any(|x| !x.is_finite())));
        let w = f64::from(t.cls_weights[i]);
        if w != 0.0 && part[3] == 0.0 {
            let xs: Vec<f64> = row.iter().map(|&x| x.into()).collect();
            let ys: Vec<f64> = (0..C)
                .map(|k| f64::from(u8::from(t.labels[i] == k as i32)))
                .collect();
            let out = cls_loss.eval(&xs, &ys).expect("cpu class loss");
            for k in 0..C {
                part[if ys[k] == 1.0 { 0 } else { 1 }] += w * out.values[k];
                gcls[i * C + k] = (f64::from(GC) * w * out.grad[k]) as f32;
            }
        }
        let w = f64::from(t.reg_weights[i]);
        if w != 0.0 && part[4] == 0.0 {
            let pred: Vec<f64> = box_row.iter().map(|&x| x.into()).collect();
            let target = t.reg_targets[i].map(f64::from);
            let mut g = [0.0; 4];
            part[2] = w * reg_loss.eval_one_into(&pred, &target, &mut g);
            for j in 0..4 {
                greg[i * 4 + j] = (f64::from(GR) * w * g[j]) as f32;
            }
        }
    }
    (gcls, greg, partials)
}

/// The [`HeadLevel`] of each of [`LEVELS`], with its first anchor's index.
fn head_levels(t: &AnchorTargets) -> Vec<HeadLevel> {
    let mut level_start = 0;
    LEVELS
        .iter()
        .map(|&(h, w)| {
            let level = HeadLevel {
                a: A,
                c: C,
                h,
                w,
                level_start,
                anchors_per_image: t.anchors_per_image,
            };
            level_start += h * w * A;
            level
        })
        .collect()
}

/// Runs both levels and the sums on the GPU (gradient maps pre-filled with garbage: the
/// kernel must overwrite them). Returns gradient rows as [`cpu_reference`], the partials
/// and the 5 sums.
fn gpu_run(
    c: &GpuContext,
    spec: &GpuLossSpec,
    heads: &HeadOutputs,
    t: &AnchorTargets,
) -> (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>) {
    let up = |x: &Tensor| GpuTensor::upload(c, x);
    let (cls, reg): (Vec<_>, Vec<_>) = (
        heads.cls.iter().map(up).collect(),
        heads.reg.iter().map(up).collect(),
    );
    let garbage = |x: &Tensor| up(&Tensor::from_vec(x.shape, vec![f32::NAN; x.len()]));
    let gcls: Vec<_> = heads.cls.iter().map(garbage).collect();
    let greg: Vec<_> = heads.reg.iter().map(garbage).collect();
    let targets = GpuAnchorTargets::new(c, t);
    let partials = GpuTensor::zeros_flat(c, loss_partials_len(t.len()));
    let sums = GpuTensor::upload_flat(c, &[9.0; 7]);
    run(c, |e| {
        for (l, level) in head_levels(t).iter().enumerate() {
            record_head_loss(
                c, e, spec, level, &cls[l], &reg[l], &targets, &gcls[l], &greg[l], &partials, GC,
                GR,
            );
        }
        record_loss_sums(c, e, &partials, t.len(), &sums, 1);
    });
    let down = |v: &[GpuTensor]| v.iter().map(|g| g.download(c)).collect::<Vec<_>>();
    let grads = HeadOutputs {
        cls: down(&gcls),
        reg: down(&greg),
    };
    let (gl, gd) = flatten_outputs(&grads);
    let mut parts = partials.download_vec(c);
    parts.truncate(t.len() * PARTIALS_PER_ANCHOR);
    let s = sums.download_vec(c);
    assert!(
        s[0] == 9.0 && s[6] == 9.0,
        "sums outside out[offset..offset + 5] untouched"
    );
    (gl, gd, parts, s[1..6].to_vec())
}

/// Column sums of per-anchor partials.
fn column_sums(partials: &[f64]) -> Vec<f32> {
    (0..PARTIALS_PER_ANCHOR)
        .map(|j| {
            partials
                .iter()
                .skip(j)
                .step_by(PARTIALS_PER_ANCHOR)
                .sum::<f64>() as f32
        })
        .collect()
}

fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

#[test]
fn head_loss_matches_cpu_for_every_supported_loss() {
    let Some(c) = ctx() else { return };
    let cls = |name, p| ClsLoss::from_json(name, &p).expect("class loss");
    let cls_losses = [
        cls("ce", json!(null)),
        cls("balanced_ce", json!(null)),
        cls("balanced_ce", json!({"alpha": 0.4})),
        cls("focal", json!(null)),
        cls("focal", json!({"alpha": -1.0, "gamma": 0.5})),
        cls("focal", json!({"alpha": 0.6, "gamma": 3.0})),
        cls("focal_star", json!(null)),
        cls("focal_star", json!({"gamma": 1.5, "beta": -0.5})),
    ];
    let reg = |name, p| RegLoss::from_json(name, &p).expect("box loss");
    let reg_losses = [
        reg("l1", json!(null)),
        reg("l2", json!(null)),
        reg("smooth_l1", json!(null)),
        reg("smooth_l1", json!({"beta": 0.3})),
        reg("smooth_l1", json!({"beta": 0.0})),
        reg("balanced_l1", json!(null)),
        reg(
            "balanced_l1",
            json!({"alpha": 1.0, "gamma": 2.0, "beta": 0.5}),
        ),
    ];
    // every box loss with CE, then half of the pairs
    for (i, cls_loss) in cls_losses.iter().enumerate() {
        for (j, reg_loss) in reg_losses
            .iter()
            .enumerate()
            .filter(|(j, _)| (i + j) % 2 == 0 || i == 0)
        {
            let what = format!("{} {:?} / {:?}", cls_loss.name(), cls_loss, reg_loss);
            let spec = GpuLossSpec::new(cls_loss, reg_loss).expect("supported on the GPU");
            let (heads, t) = random_inputs(100 + (i * 10 + j) as u64);
            let (want_cls, want_reg, want_parts) = cpu_reference(cls_loss, reg_loss, &heads, &t);
            let (got_cls, got_reg, got_parts, got_sums) = gpu_run(c, &spec, &heads, &t);
            assert_close(&format!("{what}: class grads"), &got_cls, &want_cls);
            assert_close(&format!("{what}: delta grads"), &got_reg, &want_reg);
            assert_close(
                &format!("{what}: partials"),
                &got_parts,
                &to_f32(&want_parts),
            );
            assert_close(
                &format!("{what}: sums"),
                &got_sums,
                &column_sums(&want_parts),
            );
            assert!(
                got_sums[0] > 0.0 && got_sums[1] > 0.0 && got_sums[2] > 0.0,
                "{what}: {got_sums:?}"
            );
        }
    }
}

#[test]
fn head_loss_flags_non_finite_inputs() {
    let Some(c) = ctx() else { return };
    let (cls_loss, reg_loss) = (ClsLoss::default(), RegLoss::L1);
    let spec = GpuLossSpec::new(&cls_loss, &reg_loss).unwrap();
    let (mut heads, mut t) = random_inputs(7);
    // anchor 0 of image 0, level 0: a NaN logit; anchor 1: an infinite delta, weighted
    let hw = LEVELS[0].0 * LEVELS[0].1;
    heads.cls[0].data[2 * hw] = f32::NAN; // channel a*C + k = 2: anchor 0, class 2
    heads.reg[0].data[5 * hw] = f32::INFINITY; // channel a*4 + j = 5 at location 0: anchor 1
    t.cls_weights[..2].fill(1.0);
    (t.labels[1], t.reg_weights[1]) = (0, 1.0);
    // the reference skips a non-finite part of an anchor (zero values) and flags it
    let (_, _, want) = cpu_reference(&cls_loss, &reg_loss, &heads, &t);
    assert_eq!(column_sums(&want)[3..], [1.0, 1.0]);
    let (got_cls, got_reg, parts, sums) = gpu_run(c, &spec, &heads, &t);
    let all = got_cls.iter().chain(&got_reg).chain(&parts);
    assert!(all.copied().all(f32::is_finite), "all finite");
    assert!(got_cls[..C].iter().all(|&g| g == 0.0) && got_reg[4..8].iter().all(|&g| g == 0.0));
    assert_close("partials", &parts, &to_f32(&want));
    assert_eq!((sums[3], sums[4]), (1.0, 1.0), "flag counts");
    assert!(
        sums[..3].iter().all(|s| s.is_finite() && *s > 0.0),
        "{sums:?}"
    );
}

#[test]
fn loss_sums_are_deterministic_across_chunks() {
    let Some(c) = ctx() else { return };
    let n = 9001; // three chunks of the first pass
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let values: Vec<f32> = (0..n * PARTIALS_PER_ANCHOR)
        .map(|_| rng.random_range(0.0..2.0))
        .collect();
    let partials = GpuTensor::zeros_flat(c, loss_partials_len(n));
    partials.write(c, &values);
    let out = GpuTensor::zeros_flat(c, PARTIALS_PER_ANCHOR);
    let sum = || {
        run(c, |e| record_loss_sums(c, e, &partials, n, &out, 0));
        out.download_vec(c)
    };
    let first = sum();
    let want: Vec<f64> = values.iter().map(|&v| v.into()).collect();
    assert_close("sums", &first, &column_sums(&want));
    assert_eq!(first, sum(), "the same bits every run");
}

/// Both levels and the sums through [`Backend::head_loss`] / [`Backend::loss_sums`] on `be`
/// (gradient buffers start as NaN, the sums at 9 around the 5 written slots).
fn trait_run<B: Backend>(
    be: &mut B,
    spec: &HeadLossSpec,
    heads: &HeadOutputs,
    t: &AnchorTargets,
) -> (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>) {
    let up = |be: &mut B, x: &Tensor| {
        let mut b = be.zeros(x.shape);
        be.upload(x, &mut b);
        b
    };
    let nan = |x: &Tensor| Tensor::from_vec(x.shape, vec![f32::NAN; x.len()]);
    let cls: Vec<_> = heads.cls.iter().map(|x| up(be, x)).collect();
    let reg: Vec<_> = heads.reg.iter().map(|x| up(be, x)).collect();
    let mut gcls: Vec<_> = heads.cls.iter().map(|x| up(be, &nan(x))).collect();
    let mut greg: Vec<_> = heads.reg.iter().map(|x| up(be, &nan(x))).collect();
    let mut targets = None;
    be.set_targets(t, &mut targets);
    let targets = targets.expect("targets set");
    let mut partials = be.zeros([1, 1, 1, 1]);
    let mut sums = up(be, &Tensor::from_vec([1, 1, 1, 7], vec![9.0; 7]));
    for (l, level) in head_levels(t).iter().enumerate() {
        let (gc, gr) = (&mut gcls[l], &mut greg[l]);
        be.head_loss(
            spec,
            level,
            &cls[l],
            &reg[l],
            &targets,
            gc,
            gr,
            &mut partials,
            (GC, GR),
        );
    }
    be.loss_sums(&partials, t.len(), &mut sums, 1);
    let grads = HeadOutputs {
        cls: gcls.iter().map(|g| be.download(g)).collect(),
        reg: greg.iter().map(|g| be.download(g)).collect(),
    };
    let (gl, gd) = flatten_outputs(&grads);
    let mut parts = be.download(&partials).data;
    parts.truncate(t.len() * PARTIALS_PER_ANCHOR);
    let s = be.download(&sums).data;
    assert!(
        s[0] == 9.0 && s[6] == 9.0,
        "sums outside the 5 slots untouched"
    );
    (gl, gd, parts, s[1..6].to_vec())
}

/// The loss pairs both backends run through the trait.
fn trait_pairs() -> [(ClsLoss, RegLoss); 3] {
    [
        (ClsLoss::default(), RegLoss::SmoothL1 { beta: 1.0 / 9.0 }),
        (ClsLoss::Ce, RegLoss::L1),
        (
            ClsLoss::FocalStar {
                gamma: 2.0,
                beta: 1.0,
            },
            RegLoss::BalancedL1 {
                alpha: 0.5,
                gamma: 1.5,
                beta: 1.0,
            },
        ),
    ]
}

/// [`trait_run`] on `be` (called `name`) against the reference, for every pair of
/// [`trait_pairs`].
fn backend_runs_like_the_reference<B: Backend>(name: &str, be: &mut B) {
    for (k, (cls_loss, reg_loss)) in trait_pairs().iter().enumerate() {
        let spec = HeadLossSpec::new(cls_loss, reg_loss).expect("covered");
        let (heads, t) = random_inputs(300 + k as u64);
        let (want_cls, want_reg, want_parts) = cpu_reference(cls_loss, reg_loss, &heads, &t);
        let want_sums = column_sums(&want_parts);
        let got = trait_run(be, &spec, &heads, &t);
        let what = format!("{name} backend, {}", cls_loss.name());
        assert_close(&format!("{what}: class grads"), &got.0, &want_cls);
        assert_close(&format!("{what}: delta grads"), &got.1, &want_reg);
        assert_close(&format!("{what}: partials"), &got.2, &to_f32(&want_parts));
        assert_close(&format!("{what}: sums"), &got.3, &want_sums);
    }
}

/// The CPU half: runs with or without a wgpu adapter.
#[test]
fn cpu_backend_runs_the_loss_kernels_like_the_reference() {
    backend_runs_like_the_reference("cpu", &mut Cpu);
}

/// The GPU half: skips (with a printed reason) without an adapter, unless
/// `ANCHORSCOPE_REQUIRE_GPU=1`.
#[test]
fn gpu_backend_runs_the_loss_kernels_like_the_reference() {
    let Some(_) = ctx() else { return };
    let mut gpu = GpuBackend::new(Arc::new(GpuContext::new().expect("a context")));
    backend_runs_like_the_reference("gpu", &mut gpu);
}
