//! The app's chrome: status bar, overlay bar, help overlay (F1) and the selected-GT window.

use crate::app::AnchorscopeApp;
use crate::app::state::{AppState, OverlayMode, OverlaySettings, SamplerChoice, Tab};
use crate::geometry::iou;
use crate::inspect::Inspection;
use crate::losses::classification::ClsLoss;

/// Keyboard shortcuts, shown by the help overlay.
pub const SHORTCUTS: &[(&str, &str)] = &[
    ("Left / Right", "previous / next image"),
    ("F", "fit the image to the view"),
    (
        "C",
        "compare view: two halves, own overlays, same pan / zoom",
    ),
    ("Wheel / drag", "zoom / pan"),
    ("Click a GT box", "highlight its positives"),
    (
        "1 2 3 4",
        "overlay: assignment, max IoU, sampler pick, loss weight",
    ),
    ("Space", "start / pause training"),
    ("Ctrl+S", "save a checkpoint (Training tab)"),
    ("T", "dark / light theme"),
    ("Ctrl+Z / Ctrl+Shift+Z", "undo / redo a settings change"),
    ("F1", "this help"),
];

/// `frame` without its fill. The app clears the window to the panel colour
/// ([`eframe::App::clear_color`]), so filling every panel again only costs fill rate, which
/// is what a software rasterizer (lavapipe) runs short of: about 40% of a frame there.
pub fn unfilled(frame: egui::Frame) -> egui::Frame {
    frame.fill(egui::Color32::TRANSPARENT)
}

/// The status bar at the bottom.
pub fn status_bar_ui(ui: &mut egui::Ui, app: &AnchorscopeApp) {
    let frame = unfilled(egui::Frame::side_top_panel(ui.style()));
    egui::Panel::bottom("status").frame(frame).show(ui, |ui| {
        ui.horizontal(|ui| {
            match &app.dataset {
                Some(d) => ui.label(format!("{} ({} images)", d.name, d.len)),
                None => ui.label("no dataset"),
            };
            ui.separator();
            let n = app.dataset.as_ref().map(|d| d.len).unwrap_or(0);
            ui.label(format!("image {} / {n}", app.state.image_index));
            if let Some(ins) = &app.inspection {
                let (w, h) = ins.sample.size();
                ui.separator();
                ui.label(format!("{w} x {h}"));
                ui.separator();
                ui.label(format!("{} anchors", ins.anchors.len()));
                ui.separator();
                ui.label(format!(
                    "{} positive / {} negative / {} ignored",
                    ins.assign.num_pos(),
                    ins.assign.num_neg(),
                    ins.assign.num_ignored()
                ));
            }
            if let Some(ins) = &app.inspection {
                ui.separator();
                ui.label(ins.model.caption());
            }
            ui.separator();
            // the trainer's backend once a run reports it; the views always run on the CPU
            let backend = app.training.backend.as_deref().unwrap_or("cpu");
            ui.label(format!(
                "training backend: {backend} | adapter: {}",
                app.adapter()
            ));
            if let Some(s) = app.training.state {
                let step = app.training.runs.last().and_then(|r| r.metrics.last());
                let step = step
                    .map(|m| format!(", step {}", m.step))
                    .unwrap_or_default();
                ui.separator();
                ui.label(format!("training: {s:?}{step}").to_lowercase());
            }
            if app.state.tab == crate::app::state::Tab::Evaluation
                && let Some(line) = app.evaluation.status_line()
            {
                ui.separator();
                ui.label(line);
            }
            if matches!(app.state.tab, Tab::Sweep | Tab::Evaluation)
                && let Some(line) = app.sweep.status_line()
            {
                ui.separator();
                ui.label(line);
            }
            ui.separator();
            ui.label(format!("frame {:.1} ms", app.frame_ms()));
            if let Some((what, f)) = &app.progress {
                ui.separator();
                ui.add(
                    egui::ProgressBar::new(*f)
                        .desired_width(160.0)
                        .text(progress_text(what, *f)),
                );
            }
            if let Some(e) = &app.error {
                ui.separator();
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            if let Some(n) = app.notice() {
                ui.separator();
                ui.label(n);
            }
        });
    });
}

/// The status bar's progress label: what, and how far as a percentage (`Indexing dataset 42%`).
pub fn progress_text(what: &str, fraction: f32) -> String {
    format!("{what} {:.0}%", 100.0 * fraction.clamp(0.0, 1.0))
}

/// The classification losses the loss-weight overlay offers (name, label): all eight.
pub const OVERLAY_LOSSES: &[(&str, &str)] = &[
    ("ce", "CE"),
    ("balanced_ce", "Balanced CE"),
    ("focal", "Focal"),
    ("focal_star", "FL*"),
    ("ghm_c", "GHM-C"),
    ("qfl", "QFL"),
    ("varifocal", "Varifocal"),
    ("eql", "EQL"),
];

/// The bar above the image: overlay mode, sampler / loss shown, opacity, what to draw.
pub fn overlay_bar_ui(ui: &mut egui::Ui, state: &mut AppState) {
    overlay_settings_bar_ui(ui, &mut state.overlay, "overlay");
}

/// The overlay bar of one view; `salt` keeps the widget ids of two views apart.
pub fn overlay_settings_bar_ui(ui: &mut egui::Ui, o: &mut OverlaySettings, salt: &str) {
    ui.horizontal_wrapped(|ui| {
        ui.label("Overlay:");
        for m in OverlayMode::ALL {
            ui.selectable_value(&mut o.mode, m, m.label());
        }
        ui.separator();
        overlay_choice_ui(ui, o, salt);
        ui.add(egui::Slider::new(&mut o.opacity, 0.05..=1.0).text("opacity"));
        ui.checkbox(&mut o.show_negatives, "negatives");
        ui.checkbox(&mut o.show_ignored, "ignored");
        ui.checkbox(&mut o.show_gt, "GT");
        ui.checkbox(&mut o.only_selected_gt, "only the selected GT's positives");
    });
}

/// The compact bar of a compare half: the mode and the sampler or loss it shows.
pub fn compact_overlay_bar_ui(ui: &mut egui::Ui, o: &mut OverlaySettings, salt: &str) {
    ui.horizontal(|ui| {
        egui::ComboBox::from_id_salt((salt, "mode"))
            .selected_text(o.mode.label())
            .show_ui(ui, |ui| {
                for m in OverlayMode::ALL {
                    ui.selectable_value(&mut o.mode, m, m.label());
                }
            });
        overlay_choice_ui(ui, o, salt);
    });
}

/// The sampler (sampler-pick mode) or the loss (loss-weight mode) an overlay shows.
fn overlay_choice_ui(ui: &mut egui::Ui, o: &mut OverlaySettings, salt: &str) {
    match o.mode {
        OverlayMode::SamplerPick => {
            egui::ComboBox::from_id_salt((salt, "sampler"))
                .selected_text(o.sampler.label())
                .show_ui(ui, |ui| {
                    for s in SamplerChoice::ALL {
                        ui.selectable_value(&mut o.sampler, s, s.label());
                    }
                });
        }
        OverlayMode::LossWeight => {
            let shown = OVERLAY_LOSSES
                .iter()
                .find(|(n, _)| *n == o.loss.name())
                .map_or(o.loss.name(), |(_, l)| l);
            egui::ComboBox::new((salt, "loss"), "loss")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    for (name, label) in OVERLAY_LOSSES {
                        let on = o.loss.name() == *name;
                        if ui.selectable_label(on, *label).clicked()
                            && !on
                            && let Ok(l) = ClsLoss::default_for(name)
                        {
                            o.loss = l;
                        }
                    }
                });
        }
        _ => {}
    }
}

/// The help overlay (F1).
pub fn help_ui(ctx: &egui::Context, open: &mut bool) {
    egui::Window::new("Keyboard shortcuts")
        .open(open)
        .collapsible(false)
        .resizable(false)
        .show(ctx, |ui| {
            egui::Grid::new("shortcuts").striped(true).show(ui, |ui| {
                for (k, what) in SHORTCUTS {
                    ui.label(egui::RichText::new(*k).monospace().strong());
                    ui.label(*what);
                    ui.end_row();
                }
            });
        });
}

/// Window listing the positives of the selected GT and their IoUs.
pub fn selected_gt_ui(ctx: &egui::Context, ins: &Inspection, g: usize) {
    let Some(b) = ins.sample.boxes.get(g) else {
        return;
    };
    let c = ins.sample.classes[g];
    let name = ins.class_names.get(c).map(String::as_str).unwrap_or("?");
    egui::Window::new(format!("GT {g}: {name}"))
        .default_width(220.0)
        .show(ctx, |ui| {
            ui.label(format!(
                "[{:.1}, {:.1}, {:.1}, {:.1}]",
                b[0], b[1], b[2], b[3]
            ));
            let mut pos: Vec<(usize, f32)> = ins
                .assign
                .labels
                .iter()
                .enumerate()
                .filter(|(_, l)| **l == g as i32 + 1)
                .map(|(i, _)| (i, iou(&ins.anchors.boxes[i], b)))
                .collect();
            pos.sort_by(|a, b| b.1.total_cmp(&a.1));
            ui.label(format!("{} positive anchors", pos.len()));
            egui::ScrollArea::vertical()
                .max_height(220.0)
                .show(ui, |ui| {
                    egui::Grid::new("gt-positives")
                        .striped(true)
                        .show(ui, |ui| {
                            ui.strong("anchor");
                            ui.strong("level");
                            ui.strong("IoU");
                            ui.end_row();
                            for (i, v) in pos {
                                ui.label(i.to_string());
                                ui.label(format!("P{}", ins.anchors.meta(i).level + 3));
                                ui.label(format!("{v:.3}"));
                                ui.end_row();
                            }
                        });
                });
        });
}

#[cfg(test)]
mod tests {
    #[test]
    fn progress_text_shows_the_fraction() {
        assert_eq!(
            super::progress_text("Indexing dataset", 0.424),
            "Indexing dataset 42%"
        );
        assert_eq!(super::progress_text("x", 1.5), "x 100%");
    }
}
