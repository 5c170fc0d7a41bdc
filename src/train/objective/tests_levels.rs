//! Per-level positives and losses on a case small enough to work out by hand.

use super::*;
use crate::anchors::AnchorConfig;
use crate::losses::regression::RegLoss;
use crate::train::metrics::{StepMetrics, csv_header};

/// Level 0: stride 8, 4 x 4 anchors of 16 x 16 centred on `(8i, 8j)`; level 1: stride 16,
/// 2 x 2 anchors of 32 x 32 centred on `(16i, 16j)`; one ratio, one scale, one class.
/// GT 0 is exactly the level-0 anchor at cell (1, 1), GT 1 exactly the level-1 anchor at
/// cell (1, 1); every other anchor's best IoU is at most 1/3 (< 0.4, negative).
const GTS: [Box4; 2] = [[0.0, 0.0, 16.0, 16.0], [0.0, 0.0, 32.0, 32.0]];
const CLASSES: [usize; 2] = [0, 0];

fn setup() -> (Anchors, TrainConfig) {
    let mut cfg = TrainConfig {
        cls_loss: ClsLoss::Ce,
        reg_loss: RegLoss::L1,
        num_classes: 1,
        ..TrainConfig::default()
    };
    cfg.lab.anchors = AnchorConfig {
        strides: vec![8, 16],
        octave_base_scale: 2.0,
        scales_per_octave: 1,
        ratios: vec![1.0],
        ..AnchorConfig::default()
    };
    (cfg.lab.anchors.generate(32, 32), cfg)
}

fn gt() -> ImageGt<'static> {
    ImageGt {
        boxes: &GTS,
        classes: &CLASSES,
        ignore: &[],
    }
}

/// `ln(1 + e^v)`, written out here (not the library's).
fn softplus(v: f64) -> f64 {
    v.exp().ln_1p()
}

#[test]
fn per_level_positives_and_losses_by_hand() {
    let (anchors, cfg) = setup();
    assert_eq!(anchors.counts_per_level(), vec![16, 4]);
    // logits 0.5 on level 0, -1 on level 1; deltas 0.1 on level 0, -0.2 on level 1
    let (x0, x1) = (0.5f32, -1.0f32);
    let logits: Vec<f32> = (0..20).map(|a| if a < 16 { x0 } else { x1 }).collect();
    let deltas: Vec<f32> = (0..80).map(|k| if k < 64 { 0.1 } else { -0.2 }).collect();
    let mut state = ObjectiveState::new(&cfg);
    let o = image_objective(&anchors, gt(), &logits, &deltas, &cfg, &mut state, 0).unwrap();
    assert_eq!(o.num_pos, 2);
    assert_eq!(o.num_neg_used, 18);
    // NumPos normaliser: divisor max(1, 2) = 2
    assert_eq!(o.divisor, 2.0);
    let (x0, x1) = (x0 as f64, x1 as f64);
    // CE of a positive: ln(1 + e^-x); of a negative: ln(1 + e^x)
    let cls0 = (softplus(-x0) + 15.0 * softplus(x0)) / 2.0;
    let cls1 = (softplus(-x1) + 3.0 * softplus(x1)) / 2.0;
    // each positive's anchor is its GT, so its target deltas are 0: L1 = 4 |d|
    let reg0 = 4.0 * 0.1 / 2.0;
    let reg1 = 4.0 * 0.2 / 2.0;
    let l = &o.levels;
    assert_eq!(l.len(), 2);
    assert_eq!((l[0].stride, l[1].stride), (8, 16));
    assert_eq!((l[0].num_pos, l[1].num_pos), (1, 1));
    let close = |a: Option<f64>, b: f64| {
        let a = a.expect("measured");
        assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0), "{a} vs {b}");
    };
    close(l[0].loss_cls, cls0);
    close(l[1].loss_cls, cls1);
    close(l[0].loss_reg, reg0);
    close(l[1].loss_reg, reg1);
    close(Some(o.loss_cls), cls0 + cls1);
    close(Some(o.loss_reg), reg0 + reg1);

    // carried in the step's metrics and written as the CSV's last six columns
    let m = StepMetrics::of_objective(0, &o, 0.01);
    assert_eq!(m.levels, o.levels);
    let row = m.csv_row(2);
    let cells: Vec<&str> = row.split(',').collect();
    let header = csv_header(&[8, 16]);
    assert!(header.ends_with(",pos_P3,cls_P3,reg_P3,pos_P4,cls_P4,reg_P4"));
    assert_eq!(cells.len(), header.split(',').count());
    assert_eq!(cells[10], "1");
    assert_eq!(cells[13], "1");
    let cell = |k: usize| cells[k].parse::<f64>().unwrap();
    close(Some(cell(11)), cls0);
    close(Some(cell(12)), reg0);
    close(Some(cell(14)), cls1);
    close(Some(cell(15)), reg1);
}

#[test]
fn fused_targets_count_positives_per_level() {
    let (anchors, cfg) = setup();
    let two = [gt(), gt()];
    let bt = batch_targets(&anchors, &two, &cfg, 0).unwrap();
    assert_eq!(bt.pos_level, vec![2, 2]);
    assert_eq!(bt.num_pos, 4);
}

#[test]
fn diverged_step_leaves_level_losses_unmeasured() {
    let (anchors, cfg) = setup();
    let mut logits = vec![0.0f32; 20];
    logits[3] = f32::NAN;
    let mut state = ObjectiveState::new(&cfg);
    let o = image_objective(&anchors, gt(), &logits, &[0.0; 80], &cfg, &mut state, 0).unwrap();
    assert!(o.loss_cls.is_nan());
    assert_eq!(o.levels.len(), 2);
    assert!(o.levels.iter().all(|l| l.loss_cls.is_none()));
    // the CSV row keeps its columns: empty loss cells
    let row = StepMetrics::of_objective(0, &o, 0.01).csv_row(2);
    assert!(row.ends_with(",0,,,0,,"), "{row}");
}
