//! The Python writer and the two exports of hand-picked settings.

use super::py::{Py, dict, f, i, s};
use super::{Format, export};
use crate::losses::classification::ClsLoss;
use crate::losses::regression::RegLoss;
use crate::sample::{IouBalancedNegSampler, SamplerConfig};
use crate::train::run::RunSettings;

#[test]
fn python_literals() {
    let d = dict([
        ("type", s("X'y")),
        ("a", f(2.0)),
        ("b", f(1e-5)),
        ("c", i(-1)),
        ("d", Py::List(vec![Py::Bool(true), Py::None])),
    ]);
    assert_eq!(
        d.render(0),
        "dict(type='X\\'y', a=2.0, b=1e-5, c=-1, d=[True, None])"
    );
    let long = dict([("first_rather_long_key", d.clone()), ("second", d)]);
    let r = long.render(0);
    assert!(
        r.starts_with("dict(\n    first_rather_long_key=dict(type="),
        "{r}"
    );
    assert!(r.ends_with(",\n)"), "{r}");
}

/// The MMDetection export with every space and line break removed (the writer breaks long
/// dicts over lines), so the checks below read as the one-line form without spaces.
fn mm(settings: &RunSettings) -> String {
    squash(&export(settings, Format::Mmdet, "c.toml"))
}

fn squash(t: &str) -> String {
    t.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .replace(",)", ")")
        .replace(",]", "]")
}

#[test]
fn mmdet_default_is_retinanet() {
    let t = mm(&RunSettings::default());
    for want in [
        "type='RetinaNet'",
        "type='RetinaHead'",
        "type='FocalLoss', use_sigmoid=True, loss_weight=1.0, gamma=2.0, alpha=0.25",
        "type='SmoothL1Loss', beta=0.1111111111111111",
        "type='MaxIoUAssigner'",
        "pos_iou_thr=0.5",
        "neg_iou_thr=0.4",
        "type='PseudoSampler'",
        "bias_prob=0.01",
        "octave_base_scale=4.0",
        "strides=[8, 16, 32]",
        "reg_decoded_bbox=False",
        "max_iters=2000",
        "type='SGD'",
        "type='CosineAnnealingLR'",
    ] {
        assert!(t.contains(&squash(want)), "{want} missing from\n{t}");
    }
    assert!(t.starts_with("#MMDetection3RetinaNetsettingsexportedbyanchorscope"));
    assert!(t.contains("#-backbone:"), "{t}");
}

#[test]
fn mmdet_samplers_and_losses() {
    let mut st = RunSettings::default();
    st.train.cls_loss = ClsLoss::Ce;
    st.train.reg_loss = RegLoss::Giou { eps: 1e-7 };
    st.train.sampler = SamplerConfig::IouBalanced(IouBalancedNegSampler::libra());
    let t = mm(&st);
    assert!(
        t.contains(&squash("type='CrossEntropyLoss', use_sigmoid=True")),
        "{t}"
    );
    assert!(t.contains(&squash("type='GIoULoss', eps=1e-7")), "{t}");
    assert!(t.contains(&squash("reg_decoded_bbox=True")), "{t}");
    assert!(t.contains(&squash("type='CombinedSampler'")), "{t}");
    assert!(
        t.contains(&squash(
            "pos_sampler=dict(type='InstanceBalancedPosSampler')"
        )),
        "{t}"
    );
    assert!(t.contains(&squash("type='IoUBalancedNegSampler'")), "{t}");
    assert!(t.contains(&squash("num_bins=3")), "{t}");
    st.train.sampler = SamplerConfig::Pisa(crate::sample::PisaSampler::retinanet());
    st.train.cls_loss = ClsLoss::BalancedCe { alpha: 0.75 };
    let t = mm(&st);
    assert!(t.contains(&squash("type='PISARetinaHead'")), "{t}");
    assert!(t.contains(&squash("isr=dict(k=2.0, bias=0.0)")), "{t}");
    assert!(t.contains(&squash("carl=dict(k=1.0, bias=0.2)")), "{t}");
    assert!(
        t.contains(&squash(
            "type='FocalLoss', use_sigmoid=True, loss_weight=1.0, gamma=0.0, alpha=0.75"
        )),
        "{t}"
    );
    st.model.balanced_fpn = true;
    assert!(mm(&st).contains("type='BFP'"));
}

#[test]
fn detectron2_keys() {
    let mut st = RunSettings::default();
    let t = export(&st, Format::Detectron2, "c.toml");
    let y: serde_norway::Value = serde_norway::from_str(&t).unwrap();
    let r = &y["MODEL"]["RETINANET"];
    assert_eq!(r["FOCAL_LOSS_GAMMA"].as_f64(), Some(2.0));
    assert_eq!(r["FOCAL_LOSS_ALPHA"].as_f64(), Some(0.25));
    assert_eq!(r["PRIOR_PROB"].as_f64(), Some(0.01));
    assert_eq!(r["BBOX_REG_LOSS_TYPE"].as_str(), Some("smooth_l1"));
    assert_eq!(r["IOU_THRESHOLDS"][0].as_f64(), Some(0.4));
    assert_eq!(r["IOU_THRESHOLDS"][1].as_f64(), Some(0.5));
    assert_eq!(r["IN_FEATURES"][0].as_str(), Some("p3"));
    let sizes = &y["MODEL"]["ANCHOR_GENERATOR"]["SIZES"];
    // P3: stride 8 x octave base 4 x 2^(k/3)
    assert_eq!(sizes[0][0].as_f64(), Some(32.0));
    assert!((sizes[0][1].as_f64().unwrap() - 32.0 * 2f64.powf(1.0 / 3.0)).abs() < 1e-3);
    assert_eq!(y["SOLVER"]["MAX_ITER"].as_u64(), Some(2000));
    assert_eq!(
        y["SOLVER"]["LR_SCHEDULER_NAME"].as_str(),
        Some("WarmupCosineLR")
    );
    // CE is focal with gamma 0 and no alpha; a sampler is listed as not exported
    st.train.cls_loss = ClsLoss::Ce;
    st.train.sampler = SamplerConfig::HardNegative(Default::default());
    let t = export(&st, Format::Detectron2, "c.toml");
    assert!(
        t.contains("FOCAL_LOSS_GAMMA: 0.0\n") && t.contains("FOCAL_LOSS_ALPHA: -1.0\n"),
        "{t}"
    );
    assert!(t.contains("#   - sampler: Hard negative mining"), "{t}");
    assert_eq!(
        "x".parse::<Format>().unwrap_err(),
        "--format x: expected mmdet or detectron2"
    );
}

#[test]
fn hard_positives_are_listed_as_not_exported() {
    let mut st = RunSettings::default();
    for format in [Format::Mmdet, Format::Detectron2] {
        assert!(!export(&st, format, "c.toml").contains("hard_positives"));
    }
    st.train.hard_positives.occlude = true;
    st.train.hard_positives.rotate_deg = 10.0;
    for format in [Format::Mmdet, Format::Detectron2] {
        let t = export(&st, format, "c.toml");
        let line = t
            .lines()
            .find(|l| l.starts_with("#   - hard_positives: "))
            .unwrap_or_else(|| panic!("{format:?}: no hard_positives note in\n{t}"));
        assert!(
            line.contains("occlusion") && line.contains("rotation up to 10 degrees"),
            "{line}"
        );
        assert!(line.contains("no equivalent"), "{line}");
    }
}
