use super::*;
use crate::app::panels::test_support::{inspection, panel_harness};
use crate::app::plot_export::PlotExports;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

fn harness<'a>(ins: &'a Inspection, exports: &'a PlotExports) -> Harness<'a, AppState> {
    panel_harness(ins, exports, 2000.0, sampler_ui)
}

#[test]
fn radio_switches_the_overlay_sampler_and_counts_follow() {
    let ins = inspection(&AppState::default());
    let exports = PlotExports::default();
    let mut h = harness(&ins, &exports);
    h.run();
    for c in [
        SamplerChoice::Ohem,
        SamplerChoice::IouBalanced,
        SamplerChoice::Random,
    ] {
        h.get_by_label(c.label()).click();
        h.run();
        assert_eq!(h.state().overlay.sampler, c);
        let r = ins.sampler(c.key()).unwrap();
        h.get_by_label(&format!("Picked positives: {}", r.num_pos()));
        h.get_by_label(&format!("Picked negatives: {}", r.num_neg()));
    }
    let (p, n) = (ins.assign.num_pos(), ins.assign.num_neg());
    h.get_by_label_contains(&format!(
        "Candidates: {} ({p} positives, {n} negatives",
        p + n
    ));
}

#[test]
fn resample_bumps_the_seed() {
    let ins = inspection(&AppState::default());
    let exports = PlotExports::default();
    let mut h = harness(&ins, &exports);
    h.run();
    let seed = h.state().lab.seed;
    h.get_by_label("Resample").click();
    h.run();
    assert_eq!(h.state().lab.seed, seed + 1);
}

#[test]
fn parameters_of_each_sampler_are_editable() {
    let ins = inspection(&AppState::default());
    let exports = PlotExports::default();
    let mut h = harness(&ins, &exports);
    h.run();
    h.get_by_label(SamplerChoice::IouBalanced.label()).click();
    h.run();
    h.get_by_label("Libra R-CNN").click();
    h.run();
    let libra = crate::sample::IouBalancedNegSampler::libra();
    assert_eq!(h.state().lab.samplers.iou_balanced, libra);
    h.get_by_label(SamplerChoice::Pisa.label()).click();
    h.run();
    h.get_by_label("RetinaNet").click();
    h.run();
    assert!(h.state().lab.samplers.pisa.dense);
}

#[test]
fn random_pick_mirrors_all_negatives() {
    let ins = inspection(&AppState::default());
    let r = ins.sampler("iou_balanced").unwrap();
    let h = iou_histograms(&ins, &r.neg, 0);
    assert_eq!(h.all.len, ins.assign.num_neg());
    assert_eq!(h.picked.len, r.num_neg());
    assert_eq!(h.random.len, r.num_neg());
    assert_eq!(h.all.bins.iter().sum::<usize>() + h.all.zero, h.all.len);
    assert_eq!(
        iou_histograms(&ins, &r.neg, 0),
        h,
        "seeded: the same pick twice"
    );
    // IoU-balanced sampling favours hard (higher IoU) negatives over a random pick.
    assert!(
        h.picked.mean > h.random.mean,
        "{} vs {}",
        h.picked.mean,
        h.random.mean
    );
    let f = h.all.fractions(false);
    assert!((f.iter().sum::<f64>() - 1.0).abs() < 1e-9);
}
