//! The dataset panel (left): the synthetic generator's preset, seed and knobs, or a dataset
//! file (typed SPEC, file dialog or drag-and-drop), and the image list.

use super::PanelContext;
use crate::app::state::AppState;
use crate::data::SyntheticConfig;
use crate::data::synthetic::PRESET_NAMES;
use crate::data::synthetic::{Background, Location};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A path picked by the file dialog thread, taken by the next frame.
static PICKED: Mutex<Option<PathBuf>> = Mutex::new(None);

/// The dataset SPEC a dropped or picked path stands for (by extension).
pub fn spec_for_path(p: &Path) -> String {
    let ext = p
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "json" => format!("coco:{}", p.display()),
        "yaml" | "yml" => format!("yolo:{}", p.display()),
        _ => format!("voc:{}", p.display()),
    }
}

/// Shows the dataset panel.
pub fn dataset_ui(ui: &mut egui::Ui, state: &mut AppState, ctx: &PanelContext) {
    ui.horizontal(|ui| {
        ui.heading("Dataset");
        if ui
            .small_button("Save lesson")
            .on_hover_text(
                "Write the app's state (dataset, image, tab, overlay, losses, samplers) to \
                 lesson.toml in the export folder; `anchorscope gui --config lesson.toml` \
                 reopens it",
            )
            .clicked()
            && let Ok(text) = crate::app::lesson::to_toml(state)
        {
            let path = ctx.exports.path_for("lesson", "toml");
            ctx.exports
                .push(crate::app::plot_export::ExportRequest::Text { path, text });
        }
    });
    if let Some(info) = ctx.dataset {
        super::report_window::report_window_ui(ui.ctx(), info, state);
    }
    // Files dropped on the window or picked in the dialog.
    let dropped: Option<PathBuf> =
        ui.input(|i| i.raw.dropped_files.first().map(|f| f.path().to_path_buf()));
    let picked = PICKED.lock().ok().and_then(|mut p| p.take());
    if let Some(p) = dropped.or(picked) {
        state.dataset.spec = spec_for_path(&p);
        state.image_index = 0;
    }
    let d = &mut state.dataset;
    let mut synthetic = d.spec.trim().is_empty();
    ui.horizontal(|ui| {
        if ui.radio_value(&mut synthetic, true, "Synthetic").clicked() {
            d.spec.clear();
        }
        if ui.radio_value(&mut synthetic, false, "Files").clicked() && d.spec.is_empty() {
            d.spec = "coco:".into();
        }
    });
    if synthetic {
        egui::ComboBox::from_label("preset")
            .selected_text(d.preset.as_str())
            .show_ui(ui, |ui| {
                for p in PRESET_NAMES {
                    if ui.selectable_label(d.preset == *p, *p).clicked() {
                        d.preset = p.to_string();
                        d.synthetic = SyntheticConfig::preset(p).unwrap_or_default();
                    }
                }
            });
        ui.add(egui::DragValue::new(&mut d.seed).prefix("seed "));
        ui.add(
            egui::DragValue::new(&mut d.len)
                .range(1..=100_000)
                .prefix("images "),
        );
        egui::CollapsingHeader::new("Generator knobs")
            .show(ui, |ui| knobs_ui(ui, &mut d.synthetic));
    } else {
        let label = ui.label("SPEC (coco:FILE.json[:IMAGES], voc:DIR, yolo:DATA.yaml):");
        let mut spec = d.spec.clone();
        if ui
            .text_edit_singleline(&mut spec)
            .labelled_by(label.id)
            .lost_focus()
        {
            d.spec = spec;
        }
        ui.horizontal(|ui| {
            let file = ui
                .button("Open file...")
                .on_hover_text("A COCO annotations .json or a YOLO data.yaml")
                .clicked();
            let folder = ui
                .button("Open folder...")
                .on_hover_text("A Pascal VOC folder (Annotations/, JPEGImages/)")
                .clicked();
            if file || folder {
                // the dialog runs on its own thread; the pick arrives through PICKED
                std::thread::spawn(move || {
                    let dialog = rfd::FileDialog::new().set_title("Open a dataset");
                    let pick = if folder {
                        dialog.pick_folder()
                    } else {
                        dialog
                            .add_filter("COCO json / YOLO yaml", &["json", "yaml", "yml"])
                            .pick_file()
                    };
                    if let Some(p) = pick
                        && let Ok(mut slot) = PICKED.lock()
                    {
                        *slot = Some(p);
                    }
                });
            }
        });
        ui.small("...or drop a file or folder on the window.");
        if let Some(r) = ctx.dataset.and_then(|i| i.report.as_ref()) {
            let text = format!(
                "Report: {}",
                r.summary().replace("; `anchorscope check` lists them", "")
            );
            if ui.button(text).clicked() {
                super::report_window::set_open(ui.ctx(), true);
            }
        }
    }
    super::remedies::remedies_ui(ui, state, ctx.dataset);
    ui.separator();
    ui.heading("Images");
    let d = &state.dataset;
    let files = ctx
        .dataset
        .filter(|i| !d.spec.trim().is_empty() || i.image_names.is_some());
    let n = files.map_or(d.len, |i| i.len);
    let names = files.and_then(|i| i.image_names.clone());
    let current = state.image_index;
    egui::ScrollArea::vertical()
        .max_height(ui.available_height() - 8.0)
        .show_rows(ui, 18.0, n, |ui, range| {
            for i in range {
                let label = match &names {
                    Some(v) => format!("{i}: {}", v.get(i).map_or("", String::as_str)),
                    None => format!("image {i}"),
                };
                if ui.selectable_label(current == i, label).clicked() {
                    state.image_index = i;
                }
            }
        });
}

fn range_ui(ui: &mut egui::Ui, label: &str, r: &mut [f32; 2], lo: f32, hi: f32) {
    ui.horizontal(|ui| {
        ui.label(label);
        ui.add(egui::DragValue::new(&mut r[0]).range(lo..=hi).speed(0.5));
        ui.label("to");
        ui.add(egui::DragValue::new(&mut r[1]).range(lo..=hi).speed(0.5));
    });
    if r[0] > r[1] {
        r.swap(0, 1);
    }
}

fn count_ui(ui: &mut egui::Ui, label: &str, r: &mut [usize; 2], hi: usize) {
    ui.horizontal(|ui| {
        ui.label(label);
        ui.add(egui::DragValue::new(&mut r[0]).range(0..=hi));
        ui.label("to");
        ui.add(egui::DragValue::new(&mut r[1]).range(0..=hi));
    });
    if r[0] > r[1] {
        r.swap(0, 1);
    }
}

/// Every generator knob.
fn knobs_ui(ui: &mut egui::Ui, c: &mut SyntheticConfig) {
    let mut n = c.num_classes();
    if ui
        .add(egui::Slider::new(&mut n, 1..=7).text("classes"))
        .changed()
    {
        c.set_class_count(n);
    }
    ui.label("Class frequencies (relative):");
    for k in c.classes.iter_mut() {
        ui.add(
            egui::Slider::new(&mut k.weight, 0.0..=100.0)
                .logarithmic(true)
                .text(k.name.as_str()),
        );
    }
    range_ui(ui, "object size px", &mut c.size_range, 2.0, 256.0);
    ui.add(egui::Slider::new(&mut c.size_power, 0.25..=6.0).text("small-size bias"));
    count_ui(ui, "objects", &mut c.object_count, 60);
    ui.add(egui::Slider::new(&mut c.max_overlap, 0.0..=1.0).text("max overlap"));
    ui.horizontal(|ui| {
        ui.label("location");
        ui.selectable_value(&mut c.location, Location::Gaussian, "Gaussian");
        ui.selectable_value(&mut c.location, Location::Uniform, "uniform");
    });
    if c.location == Location::Gaussian {
        ui.add(egui::Slider::new(&mut c.location_sigma, 0.02..=1.0).text("sigma (fraction)"));
    }
    count_ui(ui, "distractors", &mut c.distractor_count, 30);
    ui.horizontal(|ui| {
        ui.label("background");
        ui.selectable_value(&mut c.background, Background::Textured, "textured");
        ui.selectable_value(&mut c.background, Background::Gradient, "gradient");
        ui.selectable_value(&mut c.background, Background::Plain, "plain");
    });
    ui.add(egui::Slider::new(&mut c.texture_strength, 0.0..=1.0).text("texture"));
    ui.add(egui::Slider::new(&mut c.noise_std, 0.0..=40.0).text("noise"));
    ui.add(egui::Slider::new(&mut c.hue_jitter_deg, 0.0..=180.0).text("hue jitter"));
    ui.add(egui::Slider::new(&mut c.max_rotation_deg, 0.0..=90.0).text("max rotation"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_from_paths() {
        assert_eq!(
            spec_for_path(Path::new("/d/instances.json")),
            "coco:/d/instances.json"
        );
        assert_eq!(
            spec_for_path(Path::new("/d/data.YAML")),
            "yolo:/d/data.YAML"
        );
        assert_eq!(spec_for_path(Path::new("/d/VOC2007")), "voc:/d/VOC2007");
    }
}
