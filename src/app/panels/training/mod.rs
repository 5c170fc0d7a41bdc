//! The Training tab: start, pause (space) and step a small detector trained on a background
//! thread, change its loss, sampler and weights while it runs, and watch its curves, its
//! histograms, its detections on the image and its held-out AP. Runs are kept and overlaid.

mod checkpoint_io;
mod controls;
mod heatmap;
mod hist_history;
mod labels;
mod level_plots;
mod plots;
mod run;
mod runtime;
mod settings;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_controls;

pub use checkpoint_io::{CheckpointAction, CheckpointDialog, PathPicker, rfd_picker};
pub use heatmap::HeatmapCache;
pub use hist_history::{HistSets, HistogramHistory};
pub use labels::{LabelCandidate, MAX_LABELS, hovered_box, place_labels};
pub use level_plots::level_series;
pub use plots::{fractions, metric_series};
pub use run::{LatestHistograms, LivePreview, Run};
pub use runtime::TrainingRuntime;
pub use settings::{TRAIN_CLS_LOSSES, TRAIN_REG_LOSSES, TrainingSettings};

use super::PanelContext;
use crate::app::image_view::ImageView;
use crate::app::state::AppState;
use crate::train::{Detection, RunState};
use egui::{Color32, RichText, Stroke};

/// Shows the Training tab. `num_classes` is `None` until the dataset is open.
pub fn training_ui(
    ui: &mut egui::Ui,
    state: &mut AppState,
    ctx: &PanelContext,
    rt: &mut TrainingRuntime,
    num_classes: Option<usize>,
) {
    egui::ScrollArea::vertical()
        .id_salt("training_tab")
        .show(ui, |ui| {
            run_bar_ui(ui, state, rt, num_classes);
            ui.separator();
            egui::CollapsingHeader::new("Loss, sampler, optimizer")
                .id_salt("training_settings")
                .default_open(true)
                .show(ui, |ui| controls::settings_ui(ui, &mut state.training));
            egui::CollapsingHeader::new("Curves")
                .id_salt("training_curves")
                .default_open(true)
                .show(ui, |ui| {
                    ui.horizontal(|ui| {
                        ui.checkbox(&mut state.training.log_scale, "log scale");
                        ui.add(
                            egui::Slider::new(&mut state.training.smoothing, 0.0..=0.99)
                                .text("smoothing"),
                        );
                    });
                    let s = &state.training;
                    plots::loss_plot(ui, s, &rt.runs, ctx.exports);
                    let sm = (s.smoothing, false);
                    let metric = |ui: &mut egui::Ui, id, y, f, opts| {
                        plots::metric_plot(ui, ctx.exports, id, y, &rt.runs, f, opts)
                    };
                    metric(
                        ui,
                        "training_share_pos",
                        "share of cls loss from positives",
                        |m| m.share_pos,
                        sm,
                    );
                    metric(
                        ui,
                        "training_grad_norm",
                        "gradient norm",
                        |m| m.grad_norm,
                        (s.smoothing, s.log_scale),
                    );
                    metric(ui, "training_lr", "learning rate", |m| m.lr, (0.0, false));
                });
            egui::CollapsingHeader::new("Per pyramid level")
                .id_salt("training_levels")
                .default_open(true)
                .show(ui, |ui| {
                    level_plots::level_plots_ui(ui, &state.training, &rt.runs, ctx.exports)
                });
            egui::CollapsingHeader::new("Histograms: latest step and over time")
                .id_salt("training_histograms")
                .default_open(true)
                .show(ui, |ui| histograms_section_ui(ui, ctx, rt));
            egui::CollapsingHeader::new("Detections and evaluation")
                .id_salt("training_detections")
                .default_open(true)
                .show(ui, |ui| controls::detections_ui(ui, state, ctx, rt));
        });
}

/// The latest step's IoU and p_t bars, then each of the four sets as a heatmap over the
/// steps (positives left, picked negatives right).
fn histograms_section_ui(ui: &mut egui::Ui, ctx: &PanelContext, rt: &mut TrainingRuntime) {
    let Some(h) = &rt.histograms else {
        ui.weak("No step yet.");
        return;
    };
    plots::histograms_ui(ui, h, ctx.exports);
    let Some(run) = rt.runs.last() else { return };
    let history = &run.histograms;
    ui.separator();
    ui.label(format!(
        "Over time ({} steps kept, every {}): colour = share of the step's anchors per bin",
        history.entries().len(),
        history.stride()
    ));
    let maps = [
        ("training_heatmap_iou_pos", "IoU, positives", "IoU"),
        ("training_heatmap_iou_neg", "IoU, picked negatives", "IoU"),
        ("training_heatmap_p_t_pos", "p_t, positives", "p_t"),
        ("training_heatmap_p_t_neg", "p_t, picked negatives", "p_t"),
    ];
    let cache = &mut rt.heatmaps;
    for row in 0..2 {
        ui.columns(2, |cols| {
            for (k, col) in cols.iter_mut().enumerate() {
                let set = 2 * row + k;
                heatmap::heatmap_ui(col, history, set, maps[set], cache, ctx.exports);
            }
        });
    }
}

/// Start / pause / step / new run, the run's status, divergence and errors.
fn run_bar_ui(
    ui: &mut egui::Ui,
    state: &mut AppState,
    rt: &mut TrainingRuntime,
    num_classes: Option<usize>,
) {
    ui.horizontal_wrapped(|ui| {
        let ready = num_classes.is_some();
        let nc = num_classes.unwrap_or(1);
        if rt.is_running() {
            if ui
                .button("Pause")
                .on_hover_text("Pause training (space)")
                .clicked()
            {
                rt.pause();
            }
        } else if ui
            .add_enabled(ready, egui::Button::new("Start"))
            .on_hover_text("Train until paused (space)")
            .clicked()
        {
            rt.start(state, nc);
        }
        if ui
            .add_enabled(ready && !rt.is_running(), egui::Button::new("Step"))
            .on_hover_text("One training step")
            .clicked()
        {
            rt.step(state, nc, 1);
        }
        if ui
            .add_enabled(!rt.runs.is_empty(), egui::Button::new("New run"))
            .on_hover_text("End this run; the next start trains a fresh model. The curves stay.")
            .clicked()
        {
            rt.new_run();
        }
        if ui
            .add_enabled(rt.has_run(), egui::Button::new("Evaluate"))
            .on_hover_text("AP50 and AP on 100 held-out images")
            .clicked()
        {
            rt.evaluate();
        }
    });
    if let (Some(offer), Some(nc)) = (rt.needs_new_run(state), num_classes) {
        ui.horizontal_wrapped(|ui| {
            ui.weak("The settings need another model than this run's.");
            if ui
                .button(&offer)
                .on_hover_text("End this run and start one whose model matches the settings")
                .clicked()
            {
                rt.new_run();
                rt.start(state, nc);
            }
        });
    }
    ui.horizontal_wrapped(|ui| {
        let idle = !rt.dialog.is_open();
        if ui
            .add_enabled(
                rt.has_run() && idle,
                egui::Button::new("Save checkpoint..."),
            )
            .on_hover_text("Write parameters, optimizer state and settings (Ctrl+S)")
            .clicked()
        {
            rt.open_dialog(CheckpointAction::Save);
        }
        if ui
            .add_enabled(
                num_classes.is_some() && idle,
                egui::Button::new("Load checkpoint..."),
            )
            .on_hover_text("Continue from a checkpoint of the same model and anchors")
            .clicked()
        {
            rt.open_dialog(CheckpointAction::Load);
        }
        if !idle {
            ui.weak("choosing a file...");
        }
    });
    let last = rt.runs.last().and_then(|r| r.metrics.last());
    let what = match rt.state {
        None if rt.runs.is_empty() => "No run yet: press Start (or space).".to_string(),
        None => "Run ended: Start trains a new model.".to_string(),
        Some(RunState::Running) => "Training".to_string(),
        Some(RunState::Paused) => "Paused".to_string(),
        Some(RunState::Stopped) => "Stopped".to_string(),
    };
    match last {
        Some(m) if rt.has_run() => ui.label(format!(
            "{what}: step {}, loss {:.4}, {} positives, {:.0} ms/step",
            m.step, m.loss_total, m.num_pos, m.step_ms
        )),
        _ => ui.label(what),
    };
    if let (Some(r), true) = (rt.runs.last(), rt.has_run()) {
        match &rt.backend {
            Some(b) => ui.weak(format!("{} on {b}", r.name)),
            None => ui.weak(&r.name),
        };
    }
    if let Some((_, msg)) = rt.diverged.clone() {
        ui.colored_label(Color32::from_rgb(230, 60, 60), RichText::new(msg).strong());
        if ui
            .button("Reload last good")
            .on_hover_text("Restore the parameters of the last healthy snapshot; lower the learning rate before going on")
            .clicked()
        {
            rt.reload_last_good();
        }
    }
    if let Some(c) = &rt.checkpoint_status {
        ui.label(c);
    }
    if let Some(e) = &rt.error {
        ui.colored_label(ui.visuals().error_fg_color, e);
    }
    if num_classes.is_none() {
        ui.weak("Waiting for the dataset...");
    }
}

/// Draws detections on the image view: boxes in the class colour; labels (class, score) for
/// the hovered box and the best-scoring others, placed so that no two overlap
/// ([`place_labels`]).
pub fn draw_detections(ui: &egui::Ui, view: &ImageView, dets: &[Detection], names: &[String]) {
    let Some(clip) = view.view_rect else {
        return;
    };
    let painter = ui.painter_at(clip);
    let font = egui::FontId::proportional(11.0);
    let shown: Vec<(&Detection, egui::Rect)> = dets
        .iter()
        .filter_map(|d| view.screen_rect(d.bbox).map(|r| (d, r)))
        .collect();
    let rects: Vec<egui::Rect> = shown.iter().map(|(_, r)| *r).collect();
    let pointer = ui.ctx().pointer_hover_pos().filter(|p| clip.contains(*p));
    let hovered = hovered_box(&rects, pointer);
    let mut texts = Vec::with_capacity(shown.len());
    let mut cands = Vec::with_capacity(shown.len());
    for (k, (d, r)) in shown.iter().enumerate() {
        let c = crate::app::anchor_colors::class_colour(d.class);
        painter.rect_stroke(
            *r,
            0.0,
            Stroke::new(2.0, Color32::WHITE),
            egui::StrokeKind::Outside,
        );
        painter.rect_stroke(*r, 0.0, Stroke::new(1.5, c), egui::StrokeKind::Inside);
        let name = names.get(d.class).map(String::as_str).unwrap_or("?");
        let galley = painter.layout_no_wrap(
            format!("{name} {:.2}", d.score),
            font.clone(),
            Color32::WHITE,
        );
        cands.push(LabelCandidate {
            bbox: *r,
            size: galley.size(),
            score: d.score,
            hovered: hovered == Some(k),
        });
        texts.push(galley);
    }
    for (galley, at) in texts.into_iter().zip(place_labels(&cands, MAX_LABELS)) {
        if let Some(at) = at {
            painter.rect_filled(at.expand(1.0), 2.0, Color32::from_black_alpha(160));
            painter.galley(at.min, galley, Color32::WHITE);
        }
    }
}
