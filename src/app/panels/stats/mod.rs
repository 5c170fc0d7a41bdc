//! The dataset stats tab: the applied data remedies' before / after class histograms, then
//! one plot per kind of imbalance (foreground-foreground, scale, location,
//! foreground-background), each with a caption naming it.

pub mod plots;
pub mod remedies;
#[cfg(test)]
mod tests;

pub use plots::{heat_colour, log_histograms, log10_marks, pow10_label};

use super::anchors::cache::cached;
use super::anchors::fg_bg_text;
use super::{DatasetStats, PanelContext};
use crate::app::plot_export::{PlotExports, Series};
use crate::app::state::AppState;
use crate::assign::AssignerConfig;
use crate::data::stats::Histogram;
use egui::Color32;
use egui_plot::{Bar, BarChart, GridMark, Plot, VLine};
use std::hash::{Hash, Hasher};

/// Bins of the size histograms.
const SIZE_BINS: usize = 24;
/// Fill of the class bars.
const CLASS_FILL: Color32 = Color32::from_rgb(63, 112, 154);
/// COCO's small / medium and medium / large area boundaries (32^2 and 96^2 px^2).
pub const COCO_AREAS: [f64; 2] = [32.0 * 32.0, 96.0 * 96.0];

/// Shows the dataset stats tab.
pub fn stats_ui(ui: &mut egui::Ui, state: &mut AppState, ctx: &PanelContext) {
    egui::ScrollArea::vertical()
        .id_salt("stats_tab")
        .show(ui, |ui| {
            if let Some(info) = ctx.dataset.filter(|i| !i.remedies.is_empty()) {
                remedies::remedies_ui(ui, &info.remedies, ctx.exports);
                ui.separator();
            }
            let Some(st) = ctx.stats else {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Computing statistics...");
                });
                return;
            };
            let objects: u64 = st.class_counts.iter().sum();
            ui.strong(format!("{} images, {objects} objects", st.images));
            classes_ui(ui, st, ctx.exports);
            ui.separator();
            scales_ui(ui, st, ctx.exports);
            ui.separator();
            location_ui(ui, st, ctx.exports);
            ui.separator();
            anchors_ui(ui, st, &state.lab.assigner, ctx.exports);
        });
}

/// "max : min = r : 1 (a : b)" over the class counts.
pub fn class_ratio_text(counts: &[u64], names: &[String]) -> String {
    let name = |i: usize| {
        names
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("class {i}"))
    };
    let Some((imax, &max)) = counts.iter().enumerate().max_by_key(|(_, c)| **c) else {
        return "No classes".into();
    };
    let (imin, &min) = counts
        .iter()
        .enumerate()
        .min_by_key(|(_, c)| **c)
        .expect("non-empty");
    if min == 0 {
        return format!("max : min = {max} : 0 ({} has no objects)", name(imin));
    }
    format!(
        "max : min = {:.1} : 1 ({} : {})",
        max as f64 / min as f64,
        name(imax),
        name(imin)
    )
}

/// Class frequencies: foreground-foreground imbalance.
fn classes_ui(ui: &mut egui::Ui, st: &DatasetStats, exports: &PlotExports) {
    ui.strong("Class frequencies");
    let bars: Vec<Bar> = st
        .class_counts
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let name = st
                .class_names
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("class {i}"));
            Bar::new(i as f64, c as f64)
                .width(0.7)
                .name(name)
                .fill(CLASS_FILL)
        })
        .collect();
    let resp = plots::class_count_plot("stats_class_counts", &st.class_names).show(ui, |p| {
        p.bar_chart(BarChart::new("objects", bars).color(Color32::from_rgb(90, 160, 220)))
    });
    let series = || {
        let pts = st
            .class_counts
            .iter()
            .enumerate()
            .map(|(i, &c)| [i as f64, c as f64]);
        vec![("objects per class".to_string(), pts.collect())]
    };
    exports.buttons(ui, "stats_class_counts", series, resp.response.rect);
    ui.label(class_ratio_text(&st.class_counts, &st.class_names));
    ui.weak("Foreground-foreground imbalance: some classes have far more objects than others.");
}

/// Width / height / area histograms with COCO's size boundaries: scale imbalance.
fn scales_ui(ui: &mut egui::Ui, st: &DatasetStats, exports: &PlotExports) {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (
        st as *const DatasetStats as usize,
        st.widths.as_ptr() as usize,
        st.widths.len(),
    )
        .hash(&mut h);
    let hists = cached(
        ui,
        ui.make_persistent_id("stats_size_hists"),
        h.finish(),
        || {
            let mut wh = log_histograms(&[&st.widths, &st.heights], SIZE_BINS);
            let a = log_histograms(&[&st.areas], SIZE_BINS).remove(0);
            let hh = wh.pop().expect("two sets");
            [wh.pop().expect("two sets"), hh, a]
        },
    );
    let [w, hh, a]: &[Histogram; 3] = &hists;
    ui.strong("Box sizes (log-spaced bins)");
    let wh = [
        ("width", w, Color32::from_rgb(90, 160, 220)),
        ("height", hh, Color32::from_rgb(230, 150, 60)),
    ];
    plots::log_size_plot(ui, "stats_box_width_height", "pixels", &wh, &[], exports);
    let marks = [
        (
            "32² (small | medium)",
            COCO_AREAS[0],
            Color32::from_rgb(220, 70, 70),
        ),
        (
            "96² (medium | large)",
            COCO_AREAS[1],
            Color32::from_rgb(240, 170, 40),
        ),
    ];
    let area = [("area", a, Color32::from_rgb(120, 190, 110))];
    plots::log_size_plot(
        ui,
        "stats_box_area",
        "square pixels",
        &area,
        &marks,
        exports,
    );
    let n = st.areas.len().max(1) as f64;
    let small = st
        .areas
        .iter()
        .filter(|&&v| (v as f64) < COCO_AREAS[0])
        .count();
    let large = st
        .areas
        .iter()
        .filter(|&&v| (v as f64) >= COCO_AREAS[1])
        .count();
    let medium = st.areas.len() - small - large;
    ui.label(format!(
        "COCO sizes: small {:.0}%, medium {:.0}%, large {:.0}%",
        100.0 * small as f64 / n,
        100.0 * medium as f64 / n,
        100.0 * large as f64 / n
    ));
    ui.weak("Scale imbalance: some object sizes are much more frequent than others.");
}

/// Centre heatmap: location imbalance.
fn location_ui(ui: &mut egui::Ui, st: &DatasetStats, exports: &PlotExports) {
    ui.strong("Object centres");
    let g = st.grid.max(1);
    let rect = plots::heatmap_ui(ui, &st.centre_heatmap, g);
    let series = || -> Vec<Series> {
        (0..g)
            .map(|r| {
                let row = (0..g).map(|c| {
                    [
                        c as f64,
                        st.centre_heatmap.get(r * g + c).copied().unwrap_or(0.0) as f64,
                    ]
                });
                (format!("row {r}"), row.collect())
            })
            .collect()
    };
    exports.buttons(ui, "stats_centre_heatmap", series, rect);
    let max = st.centre_heatmap.iter().copied().fold(0.0f32, f32::max);
    ui.label(format!(
        "Densest cell: {:.1}x the mean of the {g} x {g} cells",
        max * (g * g) as f32
    ));
    ui.weak(
        "Location imbalance: objects gather in some parts of the image (dark: no centre, \
         yellow: the densest cell).",
    );
}

/// Anchor max-IoU histogram on a log count axis and fg / bg / ignored counts:
/// foreground-background imbalance.
fn anchors_ui(
    ui: &mut egui::Ui,
    st: &DatasetStats,
    assigner: &AssignerConfig,
    exports: &PlotExports,
) {
    ui.strong("Anchors: max IoU with any GT (log count axis)");
    let n = st.anchor_max_iou_counts.len().max(1) as f64;
    let bars: Vec<Bar> = st
        .anchor_max_iou_counts
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let bar = Bar::new((i as f64 + 0.5) / n, (c as f64 + 1.0).log10()).width(0.9 / n);
            bar.fill(Color32::from_rgb(105, 84, 140))
        })
        .collect();
    let top = bars.iter().map(|b| b.value).fold(1.0f64, f64::max).ceil() as i32;
    let resp = Plot::new("stats_anchor_max_iou")
        .height(plots::PLOT_HEIGHT)
        .x_axis_label("max IoU")
        .y_axis_label("anchors + 1")
        .y_grid_spacer(move |_| {
            (0..=top)
                .map(|k| GridMark {
                    value: k as f64,
                    step_size: 1.0,
                })
                .collect()
        })
        .y_axis_formatter(|m, _| pow10_label(m.value))
        .allow_drag(false)
        .allow_scroll(false)
        .allow_zoom(false)
        .include_x(0.0)
        .include_x(1.0)
        .include_y(0.0)
        .legend(egui_plot::Legend::default())
        .show(ui, |p| {
            p.bar_chart(BarChart::new("anchors", bars).color(Color32::from_rgb(150, 120, 200)));
            if let AssignerConfig::MaxIou(m) = assigner {
                p.vline(VLine::new("positive threshold", m.pos_iou_thr).color(Color32::GREEN));
                p.vline(VLine::new("negative threshold", m.neg_iou_thr).color(Color32::RED));
            }
        });
    let series = || {
        let pts = st.anchor_max_iou_counts.iter().enumerate();
        vec![(
            "anchors".to_string(),
            pts.map(|(i, &c)| [(i as f64 + 0.5) / n, c as f64])
                .collect(),
        )]
    };
    exports.buttons(ui, "stats_anchor_max_iou", series, resp.response.rect);
    let c = &st.anchor_counts;
    ui.label(format!(
        "Over {} images: {} positive, {} negative, {} ignored anchors",
        st.images, c.fg, c.bg, c.ignored
    ));
    ui.heading(fg_bg_text(c.fg, c.bg));
    ui.weak(
        "Foreground-background imbalance: bar heights are log10(count + 1); almost every \
         anchor sits near IoU 0.",
    );
}
