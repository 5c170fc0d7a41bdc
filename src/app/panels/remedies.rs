//! The Dataset panel's data remedies: tiling, class merging, undersampling and repeat-factor
//! oversampling ([`crate::data::remedies`]). The controls edit a draft; **Apply remedies**
//! writes it to the dataset settings, which makes the app re-open the dataset on the worker
//! thread (the UI keeps drawing).

use crate::app::state::AppState;
use crate::app::worker::DatasetInfo;
use crate::data::remedies::{
    Remedies, RepeatFactorConfig, Rounding, TileConfig, UndersampleConfig,
};

/// The draft and the applied settings it was started from.
#[derive(Clone, Default)]
struct Draft {
    applied: Remedies,
    draft: Remedies,
}

/// The class names before any remedy (the merge editor lists these).
pub fn source_classes(info: &DatasetInfo) -> Vec<String> {
    match info.remedies.first() {
        Some(step) => step.before.names.clone(),
        None => info.class_names.clone(),
    }
}

/// Shows the remedies section; `info` is the open dataset.
pub fn remedies_ui(ui: &mut egui::Ui, state: &mut AppState, info: Option<&DatasetInfo>) {
    let id = ui.make_persistent_id("remedies_draft");
    let applied = state.dataset.remedies.clone();
    let mut d: Draft = ui.data(|m| m.get_temp(id)).unwrap_or_default();
    if d.applied != applied {
        d = Draft {
            draft: applied.clone(),
            applied: applied.clone(),
        };
    }
    let title = match applied.is_active() {
        true => "Data remedies (on)",
        false => "Data remedies",
    };
    egui::CollapsingHeader::new(title)
        .id_salt("remedies")
        .show(ui, |ui| {
            edit_ui(ui, &mut d.draft, info);
            let err = d.draft.validate().err();
            if let Some(e) = &err {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            ui.horizontal(|ui| {
                let changed = d.draft != applied;
                let apply = ui
                    .add_enabled(
                        changed && err.is_none(),
                        egui::Button::new("Apply remedies"),
                    )
                    .on_hover_text("Re-open the dataset with these remedies (on the worker)");
                if apply.clicked() {
                    state.dataset.remedies = d.draft.clone();
                    state.image_index = 0;
                    d.applied = d.draft.clone();
                }
                if ui
                    .add_enabled(changed, egui::Button::new("Revert"))
                    .clicked()
                {
                    d.draft = applied.clone();
                }
            });
            if let Some(i) = info.filter(|i| !i.remedies.is_empty()) {
                let first = &i.remedies[0].before;
                ui.weak(format!(
                    "{} -> {} images (the Dataset stats tab shows each step)",
                    first.images, i.len
                ));
            }
        });
    ui.data_mut(|m| m.insert_temp(id, d));
}

/// A checkbox that turns an optional setting on (with its default) or off.
fn toggle<T: Default>(ui: &mut egui::Ui, v: &mut Option<T>, label: &str) {
    let mut on = v.is_some();
    if ui.checkbox(&mut on, label).changed() {
        *v = on.then(T::default);
    }
}

fn edit_ui(ui: &mut egui::Ui, r: &mut Remedies, info: Option<&DatasetInfo>) {
    toggle::<TileConfig>(ui, &mut r.tile, "Tile large images");
    if let Some(t) = &mut r.tile {
        ui.indent("tile", |ui| {
            ui.add(
                egui::DragValue::new(&mut t.size)
                    .range(8..=8192)
                    .prefix("tile size px "),
            );
            let max_overlap = t.size.saturating_sub(1);
            ui.add(
                egui::DragValue::new(&mut t.overlap)
                    .range(0..=max_overlap)
                    .prefix("overlap px "),
            );
            ui.add(egui::Slider::new(&mut t.min_visible, 0.05..=1.0).text("min visible fraction"));
        });
    }
    let mut merging = !r.merge.is_empty();
    let merge_box = ui.checkbox(&mut merging, "Merge classes");
    if merge_box.changed() && !merging {
        r.merge.clear();
    }
    let open_merge = merging || merge_box.changed();
    if open_merge {
        ui.indent("merge", |ui| {
            let names = info.map(source_classes).unwrap_or_default();
            if names.is_empty() {
                ui.weak("Open a dataset to merge its classes.");
            }
            ui.weak("New name of each class (empty: unchanged):");
            egui::Grid::new("merge_grid").num_columns(2).show(ui, |ui| {
                for n in &names {
                    ui.label(n);
                    let mut to = r.merge.get(n).cloned().unwrap_or_default();
                    if ui.text_edit_singleline(&mut to).changed() {
                        match to.trim() {
                            t if t.is_empty() || t == n => r.merge.remove(n),
                            t => r.merge.insert(n.clone(), t.to_string()),
                        };
                    }
                    ui.end_row();
                }
            });
        });
    }
    toggle::<UndersampleConfig>(ui, &mut r.undersample, "Undersample frequent classes");
    if let Some(u) = &mut r.undersample {
        ui.indent("undersample", |ui| {
            ui.add(egui::Slider::new(&mut u.keep, 0.0..=1.0).text("keep fraction"));
            ui.add(
                egui::Slider::new(&mut u.frequent, 0.01..=1.0)
                    .text("frequent: in >= this of images"),
            );
            ui.add(egui::DragValue::new(&mut u.seed).prefix("seed "));
        });
    }
    toggle::<RepeatFactorConfig>(ui, &mut r.repeat_factor, "Repeat-factor oversampling");
    if let Some(f) = &mut r.repeat_factor {
        ui.indent("repeat", |ui| {
            ui.add(
                egui::Slider::new(&mut f.threshold, 1e-4..=1.0)
                    .logarithmic(true)
                    .text("threshold t"),
            );
            ui.horizontal(|ui| {
                ui.radio_value(&mut f.rounding, Rounding::Ceil, "ceil (MMDetection)");
                ui.radio_value(&mut f.rounding, Rounding::Stochastic, "stochastic");
            });
            if f.rounding == Rounding::Stochastic {
                ui.add(egui::DragValue::new(&mut f.seed).prefix("seed "));
            }
            ui.weak("r_c = max(1, sqrt(t / f_c)), f_c: the fraction of images with class c; an image repeats by the largest r_c of its classes, rounded as chosen.");
        });
    }
}
