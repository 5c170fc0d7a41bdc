//! Parameter editors of the samplers.

use crate::app::state::SamplerChoice;
use crate::config::SamplerSettings;
use crate::sample::{IouBalancedNegSampler, PisaSampler, RandomSampler};

/// Edits the parameters of the chosen sampler.
pub fn params_ui(ui: &mut egui::Ui, choice: SamplerChoice, s: &mut SamplerSettings) {
    match choice {
        SamplerChoice::Random => {
            common_ui(
                ui,
                &mut s.random.num,
                &mut s.random.pos_fraction,
                &mut s.random.neg_pos_ub,
            );
            presets(
                ui,
                &mut s.random,
                [
                    ("RPN", RandomSampler::default()),
                    ("R-CNN", RandomSampler::rcnn()),
                ],
            );
        }
        SamplerChoice::HardNegative => {
            ui.add(
                egui::Slider::new(&mut s.hard_negative.neg_pos_ratio, 0.0..=20.0)
                    .text("Negatives per positive")
                    .step_by(0.5),
            );
            ui.weak(
                "SSD: every positive, and the negatives with the largest loss, 3 per positive.",
            );
        }
        SamplerChoice::Ohem => {
            let o = &mut s.ohem;
            common_ui(ui, &mut o.num, &mut o.pos_fraction, &mut o.neg_pos_ub);
            ui.weak("OHEM: the same counts as random sampling, but the largest losses win.");
        }
        SamplerChoice::IouBalanced => iou_balanced_ui(ui, &mut s.iou_balanced),
        SamplerChoice::InstanceBalanced => {
            let o = &mut s.instance_balanced;
            common_ui(ui, &mut o.num, &mut o.pos_fraction, &mut o.neg_pos_ub);
            ui.weak(
                "Instance-balanced (Libra R-CNN): each GT keeps at most round(n / #GTs) + 1 of \
                 the positives, so large objects with many anchors do not crowd out small ones; \
                 negatives at random.",
            );
        }
        SamplerChoice::Pisa => pisa_ui(ui, &mut s.pisa),
    }
}

/// `num`, `pos_fraction` and `neg_pos_ub` (a checkbox turns the cap on; -1 means none).
fn common_ui(ui: &mut egui::Ui, num: &mut usize, pos_fraction: &mut f32, neg_pos_ub: &mut f32) {
    ui.add(
        egui::Slider::new(num, 1..=4096)
            .logarithmic(true)
            .text("Samples per image (num)"),
    );
    ui.add(
        egui::Slider::new(pos_fraction, 0.0..=1.0)
            .text("Positive fraction")
            .step_by(0.05),
    );
    ui.horizontal(|ui| {
        let mut capped = *neg_pos_ub >= 0.0;
        if ui
            .checkbox(&mut capped, "Cap negatives per positive")
            .changed()
        {
            *neg_pos_ub = if capped { 3.0 } else { -1.0 };
        }
        if capped {
            ui.add(
                egui::DragValue::new(neg_pos_ub)
                    .range(0.0..=100.0)
                    .speed(0.1),
            );
        }
    });
}

/// Preset buttons replacing a sampler's settings.
fn presets<T: Clone, const N: usize>(ui: &mut egui::Ui, value: &mut T, presets: [(&str, T); N]) {
    ui.horizontal(|ui| {
        ui.label("Preset:");
        for (name, p) in presets {
            if ui.small_button(name).clicked() {
                *value = p;
            }
        }
    });
}

/// Libra R-CNN's IoU-balanced negative sampler.
fn iou_balanced_ui(ui: &mut egui::Ui, s: &mut IouBalancedNegSampler) {
    common_ui(ui, &mut s.num, &mut s.pos_fraction, &mut s.neg_pos_ub);
    ui.horizontal(|ui| {
        let mut floor = s.floor_thr >= 0.0;
        if ui.checkbox(&mut floor, "IoU floor").changed() {
            s.floor_thr = if floor { 0.0 } else { -1.0 };
        }
        if floor {
            ui.add(
                egui::Slider::new(&mut s.floor_thr, 0.0..=0.5)
                    .text("floor_thr")
                    .step_by(0.01),
            );
        }
    });
    ui.add_enabled(
        s.floor_thr >= 0.0,
        egui::Slider::new(&mut s.floor_fraction, 0.0..=1.0)
            .text("Fraction below the floor")
            .step_by(0.05),
    );
    ui.add(egui::Slider::new(&mut s.num_bins, 1..=10).text("IoU bins"));
    ui.checkbox(&mut s.instance_balanced_pos, "Instance-balanced positives");
    presets(ui, s, [("Libra R-CNN", IouBalancedNegSampler::libra())]);
    ui.weak(
        "Negatives are split into IoU bins and drawn evenly from each, so the rare \
         high-IoU (hard) negatives are picked far more often than at random.",
    );
}

/// PISA: ISR-P on positives, Score-HLR on negatives, CARL for regression.
fn pisa_ui(ui: &mut egui::Ui, s: &mut PisaSampler) {
    ui.checkbox(
        &mut s.dense,
        "Dense (one-stage: keep every anchor, reweight positives)",
    );
    ui.add_enabled_ui(!s.dense, |ui| {
        common_ui(ui, &mut s.num, &mut s.pos_fraction, &mut s.neg_pos_ub);
    });
    let k = |v: &mut f32, text: &str, ui: &mut egui::Ui| {
        ui.add(
            egui::Slider::new(v, 0.0..=5.0)
                .text(text.to_owned())
                .step_by(0.05),
        );
    };
    k(&mut s.isr_k, "ISR-P k", ui);
    k(&mut s.isr_bias, "ISR-P bias", ui);
    k(&mut s.hlr.k, "Score-HLR k", ui);
    k(&mut s.hlr.bias, "Score-HLR bias", ui);
    ui.add(egui::Slider::new(&mut s.hlr.score_thr, 0.0..=1.0).text("Score-HLR score threshold"));
    ui.add(egui::Slider::new(&mut s.hlr.iou_thr, 0.0..=1.0).text("Score-HLR grouping IoU"));
    k(&mut s.carl_k, "CARL k", ui);
    k(&mut s.carl_bias, "CARL bias", ui);
    presets(
        ui,
        s,
        [
            ("Faster R-CNN", PisaSampler::default()),
            ("RetinaNet", PisaSampler::retinanet()),
        ],
    );
}
