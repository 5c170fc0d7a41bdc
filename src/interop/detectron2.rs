//! A Detectron2 RetinaNet config (YAML) of a run's settings: the `MODEL.RETINANET`,
//! `MODEL.ANCHOR_GENERATOR` and `SOLVER` keys that exist; what has no key (samplers, ATSS,
//! most losses) is listed in comments at the top.

use crate::assign::AssignerConfig;
use crate::losses::classification::ClsLoss;
use crate::losses::regression::RegLoss;
use crate::losses::weighting::Normalizer;
use crate::sample::SamplerConfig;
use crate::train::run::RunSettings;
use crate::train::{LrSchedule, OptimizerKind};

/// A YAML flow list of numbers (`[0.5, 1.0, 2.0]`).
fn list<T: std::fmt::Display>(xs: impl IntoIterator<Item = T>) -> String {
    let v: Vec<String> = xs.into_iter().map(|x| x.to_string()).collect();
    format!("[{}]", v.join(", "))
}

/// A float for YAML, always with a decimal point or exponent.
fn num(x: f64) -> String {
    let t = format!("{x:?}");
    if t.contains(['.', 'e', 'E']) {
        t
    } else {
        format!("{t}.0")
    }
}

/// A float from an f32 setting in its shortest form.
fn num32(x: f32) -> String {
    num(x.to_string().parse().unwrap_or(x as f64))
}

/// The config text; `origin` (the settings file) is named in the header.
pub fn detectron2_config(settings: &RunSettings, origin: &str) -> String {
    let t = &settings.train;
    let m = &settings.model;
    let mut notes: Vec<String> = Vec::new();
    let mut retina: Vec<(String, String)> = vec![
        ("NUM_CLASSES".into(), t.num_classes.to_string()),
        ("NUM_CONVS".into(), m.head_convs.to_string()),
        ("PRIOR_PROB".into(), num(t.lab.prior_prob)),
        (
            "IN_FEATURES".into(),
            list((m.first_level..=m.backbone_channels.len()).map(|l| format!("p{l}"))),
        ),
        (
            "BBOX_REG_WEIGHTS".into(),
            list(t.coder.weights.iter().map(|&w| num32(w))),
        ),
    ];
    // focal loss with gamma 0 and alpha < 0 is plain BCE in Detectron2's sigmoid_focal_loss
    let (gamma, alpha) = match &t.cls_loss {
        ClsLoss::Ce => (0.0, -1.0),
        ClsLoss::BalancedCe { alpha } => (0.0, *alpha),
        ClsLoss::Focal { alpha, gamma } => (*gamma, *alpha),
        other => {
            notes.push(format!(
                "cls_loss: {} has no Detectron2 RetinaNet key; focal loss 2.0 / 0.25 written",
                other.name()
            ));
            (2.0, 0.25)
        }
    };
    retina.push(("FOCAL_LOSS_GAMMA".into(), num(gamma)));
    retina.push(("FOCAL_LOSS_ALPHA".into(), num(alpha)));
    let (kind, beta) = match t.reg_loss {
        RegLoss::SmoothL1 { beta } => ("smooth_l1", beta),
        RegLoss::L1 => ("smooth_l1", 0.0),
        RegLoss::Giou { .. } => ("giou", 0.0),
        RegLoss::Diou { .. } => ("diou", 0.0),
        RegLoss::Ciou { .. } => ("ciou", 0.0),
        ref other => {
            notes.push(format!(
                "reg_loss: {} has no Detectron2 BBOX_REG_LOSS_TYPE; smooth_l1 beta 0.1 written",
                other.name()
            ));
            ("smooth_l1", 0.1)
        }
    };
    retina.push(("BBOX_REG_LOSS_TYPE".into(), kind.into()));
    retina.push(("SMOOTH_L1_LOSS_BETA".into(), num(beta)));
    match &t.lab.assigner {
        AssignerConfig::MaxIou(a) => {
            retina.push((
                "IOU_THRESHOLDS".into(),
                list([num32(a.neg_iou_thr), num32(a.pos_iou_thr)]),
            ));
            retina.push(("IOU_LABELS".into(), "[0, -1, 1]".into()));
            if !a.match_low_quality || a.min_pos_iou > 0.0 || !a.gt_max_assign_all {
                notes.push(format!(
                    "assigner: Detectron2's Matcher(allow_low_quality_matches=True) has no min_pos_iou ({}) or gt_max_assign_all ({}) and match_low_quality is {}",
                    a.min_pos_iou, a.gt_max_assign_all, a.match_low_quality
                ));
            }
        }
        AssignerConfig::Atss(a) => notes.push(format!(
            "assigner: ATSS (topk {}) is not in Detectron2's RetinaNet",
            a.topk
        )),
    }
    if !matches!(t.sampler, SamplerConfig::None) {
        notes.push(format!(
            "sampler: {} (Detectron2's RetinaNet uses every anchor)",
            t.sampler.name()
        ));
    }
    if let Normalizer::NumPos = t.normalizer {
        notes.push(
            "normalizer: num_pos of each batch (Detectron2 divides by an EMA of it, momentum 0.9)"
                .into(),
        );
    }
    if m.balanced_fpn {
        notes.push("model: the balanced feature pyramid (Libra R-CNN)".into());
    }
    let a = &t.lab.anchors;
    let sizes: Vec<String> = a
        .strides
        .iter()
        .enumerate()
        .map(|(l, &st)| {
            let base = a.base_sizes.get(l).copied().unwrap_or(st as f32);
            let scales: Vec<f32> = if a.scales.is_empty() {
                (0..a.scales_per_octave)
                    .map(|k| a.octave_base_scale * 2f32.powf(k as f32 / a.scales_per_octave as f32))
                    .collect()
            } else {
                a.scales.clone()
            };
            list(scales.iter().map(|s| num32(base * s)))
        })
        .collect();
    let ratios = list(a.ratios.iter().map(|&r| num32(r)));
    let mut solver: Vec<(String, String)> = vec![
        ("IMS_PER_BATCH".into(), t.batch.to_string()),
        ("BASE_LR".into(), num(t.lr)),
        ("MAX_ITER".into(), t.steps.to_string()),
        ("WEIGHT_DECAY".into(), num(t.weight_decay)),
        ("WARMUP_ITERS".into(), t.warmup_steps.to_string()),
        ("WARMUP_FACTOR".into(), num(t.warmup_factor)),
        ("WARMUP_METHOD".into(), "linear".into()),
    ];
    match t.optimizer {
        OptimizerKind::Sgd => solver.push(("MOMENTUM".into(), num(t.momentum))),
        OptimizerKind::Adamw => notes.push(format!(
            "optimizer: AdamW (betas {:?}, eps {}); Detectron2's default trainer builds SGD",
            t.adam_betas, t.adam_eps
        )),
    }
    match &t.schedule {
        LrSchedule::Step { milestones, gamma } => {
            solver.push(("LR_SCHEDULER_NAME".into(), "WarmupMultiStepLR".into()));
            solver.push(("STEPS".into(), list(milestones.iter())));
            solver.push(("GAMMA".into(), num(*gamma)));
        }
        LrSchedule::Cosine { final_factor } => {
            solver.push(("LR_SCHEDULER_NAME".into(), "WarmupCosineLR".into()));
            solver.push(("BASE_LR_END".into(), num(t.lr * final_factor)));
        }
        LrSchedule::Constant => {
            solver.push(("LR_SCHEDULER_NAME".into(), "WarmupMultiStepLR".into()));
            solver.push(("STEPS".into(), "[]".into()));
        }
    }
    let mut out = format!(
        "# Detectron2 RetinaNet settings exported by anchorscope {} from {origin}.\n",
        env!("CARGO_PKG_VERSION")
    );
    out.push_str("# Without a Detectron2 key (not exported):\n");
    notes.push(format!(
        "hflip probability {} (the data mapper's RandomFlip)",
        t.hflip
    ));
    notes.extend(super::hard_positives_note(&t.hard_positives));
    notes.push(format!(
        "backbone: anchorscope's stride-2 3x3 convolutions {:?}; pick a Detectron2 backbone",
        m.backbone_channels
    ));
    for n in &notes {
        out.push_str(&format!("#   - {n}\n"));
    }
    out.push_str("MODEL:\n  META_ARCHITECTURE: RetinaNet\n  RETINANET:\n");
    for (k, v) in &retina {
        out.push_str(&format!("    {k}: {v}\n"));
    }
    out.push_str(&format!(
        "  ANCHOR_GENERATOR:\n    SIZES: [{}]\n    ASPECT_RATIOS: [{ratios}]\n    OFFSET: {}\n",
        sizes.join(", "),
        num32(a.center_offset)
    ));
    if t.grad_clip > 0.0 {
        out.push_str(&format!(
            "SOLVER:\n  CLIP_GRADIENTS:\n    ENABLED: true\n    CLIP_TYPE: norm\n    CLIP_VALUE: {}\n    NORM_TYPE: 2.0\n",
            num(t.grad_clip)
        ));
    } else {
        out.push_str("SOLVER:\n");
    }
    for (k, v) in &solver {
        out.push_str(&format!("  {k}: {v}\n"));
    }
    out.push_str(&format!("SEED: {}\n", t.seed));
    out
}
