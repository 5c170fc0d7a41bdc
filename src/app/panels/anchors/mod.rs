//! The anchors tab: generator and assigner settings, and what they make of the image on
//! screen (per-level counts, the fg:bg ratio, positives per GT, overlay filters).

pub mod cache;
mod fields;
mod table;
#[cfg(test)]
mod tests;

pub use table::{LevelRow, fg_bg_text, level_name, level_rows};

use super::PanelContext;
use crate::anchors::AnchorConfig;
use crate::app::state::AppState;
use crate::assign::{AssignerConfig, AtssAssigner, MaxIouAssigner};
use fields::list_field;

/// Smallest stride accepted in the strides field (smaller ones make too many anchors).
pub const MIN_STRIDE: u32 = 4;

/// Shows the anchors tab.
pub fn anchors_ui(ui: &mut egui::Ui, state: &mut AppState, ctx: &PanelContext) {
    egui::ScrollArea::vertical()
        .id_salt("anchors_tab")
        .show(ui, |ui| {
            egui::CollapsingHeader::new("Anchor generator")
                .default_open(true)
                .show(ui, |ui| generator_ui(ui, &mut state.lab.anchors));
            egui::CollapsingHeader::new("Assigner")
                .default_open(true)
                .show(ui, |ui| assigner_ui(ui, &mut state.lab.assigner));
            ui.separator();
            match ctx.inspection {
                Some(ins) => table::results_ui(ui, state, ins),
                None => {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label("Assigning anchors...");
                    });
                }
            }
        });
}

/// Generator settings: strides, scales, ratios, centre offset, size convention, presets.
fn generator_ui(ui: &mut egui::Ui, a: &mut AnchorConfig) {
    ui.horizontal(|ui| {
        if ui
            .button("RetinaNet P3-P7")
            .on_hover_text("Strides 8 to 128, octave base scale 4, 3 scales, ratios 0.5, 1, 2")
            .clicked()
        {
            *a = AnchorConfig::retinanet_p3_p7();
        }
        if ui
            .button("Reference model P3-P5")
            .on_hover_text("The small detector trained here: strides 8, 16, 32")
            .clicked()
        {
            *a = AnchorConfig::default();
        }
    });
    list_field(
        ui,
        "Strides",
        &mut a.strides,
        |s: u32| (MIN_STRIDE..=1024).contains(&s),
        &format!("integers from {MIN_STRIDE} to 1024, e.g. 8, 16, 32"),
    );
    list_field(
        ui,
        "Ratios (h / w)",
        &mut a.ratios,
        |r: f32| r.is_finite() && r > 0.0 && r <= 100.0,
        "positive numbers, e.g. 0.5, 1, 2",
    );
    let explicit = !a.scales.is_empty();
    ui.add_enabled_ui(!explicit, |ui| {
        ui.add(
            egui::Slider::new(&mut a.octave_base_scale, 0.5..=16.0)
                .text("Octave base scale")
                .step_by(0.25),
        );
        ui.add(egui::Slider::new(&mut a.scales_per_octave, 1..=6).text("Scales per octave"));
    });
    if explicit {
        ui.horizontal(|ui| {
            ui.label(format!(
                "Explicit scales {:?} replace the octave scales.",
                a.scales
            ));
            if ui.small_button("Use octave scales").clicked() {
                a.scales.clear();
            }
        });
    }
    let sizes: Vec<String> = a.level_scales().iter().map(|s| format!("{s:.2}")).collect();
    ui.weak(format!("Scale multipliers: {}", sizes.join(", ")));
    ui.add(
        egui::Slider::new(&mut a.center_offset, 0.0..=1.0)
            .text("Centre offset (x stride)")
            .step_by(0.05),
    );
    ui.horizontal(|ui| {
        ui.radio_value(&mut a.integer_sizes, false, "MMDetection (float sizes)");
        ui.radio_value(&mut a.integer_sizes, true, "torchvision (integer sizes)");
    });
    ui.weak(format!("{} anchors per location", a.anchors_per_location()));
}

/// Assigner choice and parameters. The settings of the assigner not chosen are kept in egui
/// memory, so switching back and forth restores them.
fn assigner_ui(ui: &mut egui::Ui, cfg: &mut AssignerConfig) {
    let other_id = ui.make_persistent_id("other_assigner");
    let was_atss = matches!(cfg, AssignerConfig::Atss(_));
    let mut atss = was_atss;
    ui.horizontal(|ui| {
        ui.radio_value(&mut atss, false, "MaxIoU");
        ui.radio_value(&mut atss, true, "ATSS");
    });
    if atss != was_atss {
        let stored = ui.data(|d| d.get_temp::<AssignerConfig>(other_id));
        let next = match stored {
            Some(c) if matches!(c, AssignerConfig::Atss(_)) == atss => c,
            _ if atss => AssignerConfig::Atss(AtssAssigner::default()),
            _ => AssignerConfig::MaxIou(MaxIouAssigner::default()),
        };
        let old = std::mem::replace(cfg, next);
        ui.data_mut(|d| d.insert_temp(other_id, old));
    }
    match cfg {
        AssignerConfig::MaxIou(m) => max_iou_ui(ui, m),
        AssignerConfig::Atss(t) => {
            ui.add(egui::Slider::new(&mut t.topk, 1..=50).text("Top-k per level"));
            ui.weak(
                "ATSS takes the k anchors nearest each GT on every level and makes positive \
                 those above the mean + std of their IoUs, with centres inside the GT.",
            );
        }
    }
}

/// A 0..1 IoU slider.
fn iou<'a>(v: &'a mut f32, text: &str) -> egui::Slider<'a> {
    egui::Slider::new(v, 0.0..=1.0).text(text).step_by(0.01)
}

/// MaxIoU thresholds, low-quality matching and presets.
fn max_iou_ui(ui: &mut egui::Ui, m: &mut MaxIouAssigner) {
    ui.horizontal(|ui| {
        ui.label("Preset:");
        if ui.small_button("RetinaNet").clicked() {
            *m = MaxIouAssigner::default();
        }
        if ui.small_button("RPN").clicked() {
            *m = MaxIouAssigner::rpn();
        }
        if ui.small_button("R-CNN").clicked() {
            *m = MaxIouAssigner::rcnn();
        }
    });
    ui.add(iou(&mut m.pos_iou_thr, "Positive IoU threshold"));
    ui.add(iou(&mut m.neg_iou_thr, "Negative IoU threshold"));
    if m.neg_iou_thr > m.pos_iou_thr {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            "The negative threshold is above the positive one: anchors in between \
             count as positives.",
        );
    }
    ui.add(iou(&mut m.min_pos_iou, "Min positive IoU"));
    ui.checkbox(&mut m.match_low_quality, "Low-quality matching")
        .on_hover_text("Give every GT its best anchor(s) even below the positive threshold");
    ui.add_enabled(
        m.match_low_quality,
        egui::Checkbox::new(
            &mut m.gt_max_assign_all,
            "Assign all anchors tied at a GT's best IoU",
        ),
    );
}
