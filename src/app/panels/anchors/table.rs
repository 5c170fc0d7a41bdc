//! The anchors tab's results: counts per level, totals, the fg:bg ratio, positives per GT and
//! the overlay filters.

use super::cache::{cached, inspection_key};
use crate::app::state::AppState;
use crate::inspect::Inspection;

/// Label counts of one pyramid level.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LevelRow {
    /// Stride in pixels.
    pub stride: u32,
    /// Feature map size in cells.
    pub feat: (u32, u32),
    /// Anchors on the level.
    pub anchors: usize,
    /// Positive anchors.
    pub pos: usize,
    /// Negative anchors.
    pub neg: usize,
    /// Ignored anchors.
    pub ignored: usize,
}

/// Counts positives, negatives and ignored anchors level by level.
pub fn level_rows(ins: &Inspection) -> Vec<LevelRow> {
    ins.anchors
        .levels
        .iter()
        .map(|l| {
            let labels = &ins.assign.labels[l.start..l.start + l.count];
            let pos = labels.iter().filter(|&&v| v > 0).count();
            let neg = labels.iter().filter(|&&v| v == 0).count();
            LevelRow {
                stride: l.stride,
                feat: (l.feat_w, l.feat_h),
                anchors: l.count,
                pos,
                neg,
                ignored: l.count - pos - neg,
            }
        })
        .collect()
}

/// Pyramid level name from its stride: P3 for 8, P4 for 16, ...; `s<stride>` otherwise.
pub fn level_name(stride: u32) -> String {
    if stride.is_power_of_two() {
        format!("P{}", stride.trailing_zeros())
    } else {
        format!("s{stride}")
    }
}

/// The fg:bg ratio as "1 : N" (N negatives per positive), or a note when there is no positive.
pub fn fg_bg_text(pos: u64, neg: u64) -> String {
    if pos == 0 {
        format!("fg : bg = 0 : {neg} (no positive anchor)")
    } else {
        let n = neg as f64 / pos as f64;
        let n = if n >= 10.0 {
            format!("{n:.0}")
        } else {
            format!("{n:.1}")
        };
        format!("fg : bg = 1 : {n}")
    }
}

/// Table, totals, ratio, positives per GT and filters for the image on screen.
pub fn results_ui(ui: &mut egui::Ui, state: &mut AppState, ins: &Inspection) {
    let id = ui.make_persistent_id("level_rows");
    let rows = cached(ui, id, inspection_key(ins), || level_rows(ins));
    let (w, h) = ins.sample.size();
    ui.strong(format!(
        "Image: {w} x {h} px, {} anchors",
        ins.anchors.len()
    ));
    egui::Grid::new("anchor_levels")
        .striped(true)
        .num_columns(7)
        .show(ui, |ui| {
            for head in [
                "Level",
                "Stride",
                "Feature map",
                "Anchors",
                "Positives",
                "Negatives",
                "Ignored",
            ] {
                ui.strong(head);
            }
            ui.end_row();
            for r in rows.iter() {
                ui.label(level_name(r.stride));
                ui.label(r.stride.to_string());
                ui.label(format!("{} x {}", r.feat.0, r.feat.1));
                ui.label(r.anchors.to_string());
                ui.label(r.pos.to_string());
                ui.label(r.neg.to_string());
                ui.label(r.ignored.to_string());
                ui.end_row();
            }
            let sum = |f: fn(&LevelRow) -> usize| rows.iter().map(f).sum::<usize>().to_string();
            ui.strong("Total");
            ui.label("");
            ui.label("");
            ui.strong(sum(|r| r.anchors));
            ui.strong(sum(|r| r.pos));
            ui.strong(sum(|r| r.neg));
            ui.strong(sum(|r| r.ignored));
            ui.end_row();
        });
    let pos = rows.iter().map(|r| r.pos as u64).sum();
    let neg = rows.iter().map(|r| r.neg as u64).sum();
    ui.heading(fg_bg_text(pos, neg));
    ui.weak(
        "Foreground-background imbalance: a handful of anchors cover objects; almost all \
         of them are background.",
    );
    ui.separator();
    positives_per_gt_ui(ui, ins);
    ui.separator();
    filters_ui(ui, state, ins);
}

/// One line per GT with its class and number of positives (GTs without any in red), then the
/// ignore regions (crowd / difficult boxes: no GT, they only make anchors ignored).
fn positives_per_gt_ui(ui: &mut egui::Ui, ins: &Inspection) {
    let (gts, classes, ignore) = ins.sample.split_crowd();
    let n = gts.len();
    ui.strong(format!("Positives per GT ({n} objects)"));
    let per_gt = ins.assign.pos_per_gt(n);
    let missing = per_gt.iter().filter(|&&p| p == 0).count();
    let name = |c: usize| ins.class_names.get(c).map(String::as_str).unwrap_or("?");
    for (g, (&p, b)) in per_gt.iter().zip(gts).enumerate() {
        let class = classes.get(g).copied().unwrap_or(0);
        let (bw, bh) = (b[2] - b[0], b[3] - b[1]);
        let text = format!("GT {g} ({}, {bw:.0} x {bh:.0}): {p} positives", name(class));
        if p == 0 {
            ui.colored_label(ui.visuals().error_fg_color, text)
                .on_hover_text("No anchor is assigned to this object: it gets no training signal");
        } else {
            ui.label(text);
        }
    }
    if missing > 0 {
        ui.colored_label(
            ui.visuals().error_fg_color,
            format!("{missing} GT(s) without a positive anchor"),
        );
    }
    if !ignore.is_empty() {
        ui.strong(format!("Ignore regions ({})", ignore.len()));
        let all_classes = &ins.sample.classes[n..];
        for (k, (b, &c)) in ignore.iter().zip(all_classes).enumerate() {
            let (bw, bh) = (b[2] - b[0], b[3] - b[1]);
            ui.colored_label(
                crate::app::image_view::IGNORE_COLOUR,
                format!("ignore {k} ({}, {bw:.0} x {bh:.0})", name(c)),
            )
            .on_hover_text("A crowd / difficult box: anchors mostly inside it are ignored");
        }
    }
}

/// Checkboxes writing the overlay's level / scale / ratio filters.
fn filters_ui(ui: &mut egui::Ui, state: &mut AppState, ins: &Inspection) {
    ui.strong("Overlay filters");
    let levels: Vec<String> = ins
        .anchors
        .levels
        .iter()
        .map(|l| format!("{} (stride {})", level_name(l.stride), l.stride))
        .collect();
    let scales: Vec<String> = ins
        .anchors
        .scales
        .iter()
        .map(|s| format!("scale {s:.2}"))
        .collect();
    let ratios: Vec<String> = ins
        .anchors
        .ratios
        .iter()
        .map(|r| format!("ratio {r}"))
        .collect();
    let ov = &mut state.overlay;
    filter_row(ui, "Levels:", &levels, &mut ov.levels);
    filter_row(ui, "Scales:", &scales, &mut ov.scales);
    filter_row(ui, "Ratios:", &ratios, &mut ov.ratios);
}

/// One row of filter checkboxes; `shown` grows (with `true`) only when the user clicks.
fn filter_row(ui: &mut egui::Ui, title: &str, names: &[String], shown: &mut Vec<bool>) {
    ui.horizontal_wrapped(|ui| {
        ui.label(title);
        for (i, name) in names.iter().enumerate() {
            let mut on = shown.get(i).copied().unwrap_or(true);
            if ui.checkbox(&mut on, name).changed() {
                if shown.len() <= i {
                    shown.resize(names.len().max(i + 1), true);
                }
                shown[i] = on;
            }
        }
    });
}
