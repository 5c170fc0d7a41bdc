//! An MMDetection 3 RetinaNet config (Python) of a run's settings: assigner, sampler, losses
//! and their parameters under MMDetection's own class names, the anchors, the box coder, the
//! pyramid, the optimizer and the schedule; what has no MMDetection equivalent is listed in
//! comments at the top (and never appears as a `type=`).

mod losses;
mod sampler;

use super::py::{Py, dict, f, f32v, i, s};
use crate::assign::AssignerConfig;
use crate::losses::weighting::Normalizer;
use crate::train::run::RunSettings;
use crate::train::{LrSchedule, OptimizerKind};
use losses::{cls_loss, reg_loss};
use sampler::sampler;

/// The config text; `origin` (the settings file) is named in the header.
pub fn mmdet_config(settings: &RunSettings, origin: &str) -> String {
    let mut notes: Vec<String> = Vec::new();
    let t = &settings.train;
    let m = &settings.model;
    let (loss_cls, head) = cls_loss(&t.cls_loss, t.weighting.w_cls, &mut notes);
    let (loss_bbox, decoded) = reg_loss(&t.reg_loss, t.weighting.w_reg, &mut notes);
    let (sampler, extra_train, pisa) = sampler(&t.sampler, &mut notes);
    let head_type = if pisa { "PISARetinaHead" } else { head };
    let a = &t.lab.anchors;
    let mut anchor = dict([
        ("type", s("AnchorGenerator")),
        (
            "strides",
            Py::List(a.strides.iter().map(|&x| i(x as i64)).collect()),
        ),
        (
            "ratios",
            Py::List(a.ratios.iter().map(|&x| f32v(x)).collect()),
        ),
        ("center_offset", f32v(a.center_offset)),
    ]);
    if a.scales.is_empty() {
        anchor.set("octave_base_scale", f32v(a.octave_base_scale));
        anchor.set("scales_per_octave", i(a.scales_per_octave as i64));
    } else {
        anchor.set(
            "scales",
            Py::List(a.scales.iter().map(|&x| f32v(x)).collect()),
        );
    }
    if !a.base_sizes.is_empty() {
        anchor.set(
            "base_sizes",
            Py::List(a.base_sizes.iter().map(|&x| f32v(x)).collect()),
        );
    }
    if a.integer_sizes {
        notes.push(
            "anchors: integer_sizes (torchvision rounding) has no AnchorGenerator key".into(),
        );
    }
    let w = t.coder.weights;
    let coder = dict([
        ("type", s("DeltaXYWHBBoxCoder")),
        ("target_means", Py::List(vec![f(0.0); 4])),
        (
            "target_stds",
            Py::List(w.iter().map(|&x| f32v(1.0 / x)).collect()),
        ),
    ]);
    notes.push(format!(
        "coder: deltas clamped at {} (MMDetection's decode clamps at log(1000/16) = 4.135)",
        t.coder.clamp
    ));
    let bbox_head = dict([
        ("type", s(head_type)),
        ("num_classes", i(t.num_classes as i64)),
        ("in_channels", i(m.fpn_channels as i64)),
        ("stacked_convs", i(m.head_convs as i64)),
        ("feat_channels", i(m.fpn_channels as i64)),
        ("anchor_generator", anchor),
        ("bbox_coder", coder),
        ("reg_decoded_bbox", Py::Bool(decoded)),
        ("loss_cls", loss_cls),
        ("loss_bbox", loss_bbox),
        (
            "init_cfg",
            dict([
                ("type", s("Normal")),
                ("layer", s("Conv2d")),
                ("std", f(0.01)),
                (
                    "override",
                    dict([
                        ("type", s("Normal")),
                        ("name", s("retina_cls")),
                        ("std", f(0.01)),
                        ("bias_prob", f(t.lab.prior_prob)),
                    ]),
                ),
            ]),
        ),
    ]);
    let ch = &m.backbone_channels;
    let first = m.first_level.saturating_sub(1).min(ch.len());
    let fpn = dict([
        ("type", s("FPN")),
        (
            "in_channels",
            Py::List(ch[first..].iter().map(|&c| i(c as i64)).collect()),
        ),
        ("out_channels", i(m.fpn_channels as i64)),
        ("num_outs", i(m.num_levels() as i64)),
    ]);
    let neck = if m.balanced_fpn {
        Py::List(vec![
            fpn,
            dict([
                ("type", s("BFP")),
                ("in_channels", i(m.fpn_channels as i64)),
                ("num_levels", i(m.num_levels() as i64)),
                ("refine_level", i((m.num_levels() / 2) as i64)),
                ("refine_type", s("conv")),
            ]),
        ])
    } else {
        fpn
    };
    let mut train_cfg = dict([
        ("assigner", assigner(&t.lab.assigner, t.lab.ignore_iof_thr)),
        ("sampler", sampler),
        ("allowed_border", i(-1)),
        ("pos_weight", i(-1)),
        ("debug", Py::Bool(false)),
    ]);
    for (k, v) in extra_train {
        train_cfg.set(&k, v);
    }
    let det = crate::train::DetectConfig::default();
    let model = dict([
        ("type", s("RetinaNet")),
        ("neck", neck),
        ("bbox_head", bbox_head),
        ("train_cfg", train_cfg),
        (
            "test_cfg",
            dict([
                ("nms_pre", i(det.topk_per_level as i64)),
                ("min_bbox_size", i(0)),
                ("score_thr", f32v(det.score_thr)),
                (
                    "nms",
                    dict([("type", s("nms")), ("iou_threshold", f32v(det.nms_iou))]),
                ),
                ("max_per_img", i(det.max_dets as i64)),
            ]),
        ),
    ]);
    let optimizer = match t.optimizer {
        OptimizerKind::Sgd => dict([
            ("type", s("SGD")),
            ("lr", f(t.lr)),
            ("momentum", f(t.momentum)),
            ("weight_decay", f(t.weight_decay)),
        ]),
        OptimizerKind::Adamw => dict([
            ("type", s("AdamW")),
            ("lr", f(t.lr)),
            (
                "betas",
                Py::List(t.adam_betas.iter().map(|&b| f(b)).collect()),
            ),
            ("eps", f(t.adam_eps)),
            ("weight_decay", f(t.weight_decay)),
        ]),
    };
    let mut optim = dict([("type", s("OptimWrapper")), ("optimizer", optimizer)]);
    if t.grad_clip > 0.0 {
        optim.set(
            "clip_grad",
            dict([("max_norm", f(t.grad_clip)), ("norm_type", i(2))]),
        );
    }
    let mut sched = Vec::new();
    if t.warmup_steps > 0 {
        sched.push(dict([
            ("type", s("LinearLR")),
            ("start_factor", f(t.warmup_factor)),
            ("by_epoch", Py::Bool(false)),
            ("begin", i(0)),
            ("end", i(t.warmup_steps as i64)),
        ]));
    }
    match &t.schedule {
        LrSchedule::Constant => {}
        LrSchedule::Cosine { final_factor } => sched.push(dict([
            ("type", s("CosineAnnealingLR")),
            ("by_epoch", Py::Bool(false)),
            ("begin", i(t.warmup_steps as i64)),
            ("end", i(t.steps as i64)),
            (
                "T_max",
                i(t.steps.saturating_sub(t.warmup_steps).max(1) as i64),
            ),
            ("eta_min", f(t.lr * final_factor)),
        ])),
        LrSchedule::Step { milestones, gamma } => sched.push(dict([
            ("type", s("MultiStepLR")),
            ("by_epoch", Py::Bool(false)),
            ("begin", i(0)),
            ("end", i(t.steps as i64)),
            (
                "milestones",
                Py::List(milestones.iter().map(|&x| i(x as i64)).collect()),
            ),
            ("gamma", f(*gamma)),
        ])),
    }
    if t.weighting.guided {
        notes.push("weighting: the guided loss (L_cls scaled by w_reg L_reg / L_cls)".into());
    }
    if let Normalizer::Ema { momentum, start } = t.normalizer {
        notes.push(format!(
            "normalizer: Detectron2's EMA of num_pos (momentum {momentum}, start {start}); MMDetection divides by num_pos"
        ));
    }
    notes.push(format!(
        "hflip probability {} (a RandomFlip step of the data pipeline)",
        t.hflip
    ));
    notes.extend(super::hard_positives_note(&t.hard_positives));
    notes.push(format!(
        "backbone: anchorscope's {} stride-2 3x3 convolutions {:?}; inherit an MMDetection one, e.g. _base_ = 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py', and set the FPN's in_channels to it",
        m.backbone_channels.len(),
        m.backbone_channels
    ));
    let mut out = format!(
        "# MMDetection 3 RetinaNet settings exported by anchorscope {} from {origin}.\n",
        env!("CARGO_PKG_VERSION")
    );
    out.push_str("# Without an MMDetection equivalent here (not exported):\n");
    for n in &notes {
        out.push_str(&format!("#   - {n}\n"));
    }
    out.push('\n');
    for (name, v) in [
        ("model", model),
        ("optim_wrapper", optim),
        ("param_scheduler", Py::List(sched)),
        (
            "train_cfg",
            dict([
                ("type", s("IterBasedTrainLoop")),
                ("max_iters", i(t.steps as i64)),
            ]),
        ),
        (
            "train_dataloader",
            dict([("batch_size", i(t.batch as i64))]),
        ),
        ("randomness", dict([("seed", i(t.seed as i64))])),
    ] {
        out.push_str(&format!("{name} = {}\n", v.render(0)));
    }
    out
}

fn assigner(a: &AssignerConfig, ignore_iof_thr: f32) -> Py {
    let ignore = if ignore_iof_thr > 0.0 {
        f32v(ignore_iof_thr)
    } else {
        f(-1.0)
    };
    match a {
        AssignerConfig::MaxIou(m) => dict([
            ("type", s("MaxIoUAssigner")),
            ("pos_iou_thr", f32v(m.pos_iou_thr)),
            ("neg_iou_thr", f32v(m.neg_iou_thr)),
            ("min_pos_iou", f32v(m.min_pos_iou)),
            ("gt_max_assign_all", Py::Bool(m.gt_max_assign_all)),
            ("match_low_quality", Py::Bool(m.match_low_quality)),
            ("ignore_iof_thr", ignore),
        ]),
        AssignerConfig::Atss(a) => dict([
            ("type", s("ATSSAssigner")),
            ("topk", i(a.topk as i64)),
            ("ignore_iof_thr", ignore),
        ]),
    }
}
