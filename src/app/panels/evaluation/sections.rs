//! The tables and bar charts of the Evaluation tab: the 12 stats, per-class AP beside GT
//! counts, APs / APm / APl beside the box-size histogram, TIDE's dAP bars.

use super::EvalView;
use crate::app::plot_export::{PlotExports, Series};
use crate::eval::STAT_NAMES;
use egui_plot::{Bar, BarChart, Legend, Plot, VLine};

const PLOT_HEIGHT: f32 = 150.0;

/// pycocotools' description of each stat.
pub(super) const STAT_LABELS: [&str; 12] = [
    "AP @[IoU 0.50:0.95, all, 100]",
    "AP @[IoU 0.50, all, 100]",
    "AP @[IoU 0.75, all, 100]",
    "AP @[0.50:0.95, small, 100]",
    "AP @[0.50:0.95, medium, 100]",
    "AP @[0.50:0.95, large, 100]",
    "AR @[0.50:0.95, all, 1]",
    "AR @[0.50:0.95, all, 10]",
    "AR @[0.50:0.95, all, 100]",
    "AR @[0.50:0.95, small, 100]",
    "AR @[0.50:0.95, medium, 100]",
    "AR @[0.50:0.95, large, 100]",
];

/// A stat as pycocotools prints it (-1.000: nothing to average).
pub fn fmt_stat(v: f64) -> String {
    format!("{v:.3}")
}

/// The 12 COCO stats in a two-column grid.
pub fn stats_table_ui(ui: &mut egui::Ui, view: &EvalView) {
    ui.strong("COCO stats (pycocotools' COCOeval, bbox)");
    egui::Grid::new("eval-stats")
        .striped(true)
        .num_columns(3)
        .show(ui, |ui| {
            for ((name, label), v) in STAT_NAMES.iter().zip(STAT_LABELS).zip(view.stats) {
                ui.label(*name);
                ui.weak(label);
                ui.monospace(fmt_stat(v));
                ui.end_row();
            }
        });
}

/// Per-class AP beside each class's GT count (does AP follow frequency?).
pub fn per_class_ui(ui: &mut egui::Ui, view: &EvalView, exports: &PlotExports) {
    ui.strong("Per class: AP beside GT count (foreground-foreground imbalance)");
    egui::Grid::new("eval-per-class")
        .striped(true)
        .show(ui, |ui| {
            for h in [
                "class", "GT", "AP", "AP50", "AP75", "APs", "APm", "APl", "AR100",
            ] {
                ui.strong(h);
            }
            ui.end_row();
            for c in &view.per_class {
                ui.label(&c.name);
                ui.monospace(c.num_gt.to_string());
                for v in [c.ap, c.ap50, c.ap75, c.aps, c.apm, c.apl, c.ar100] {
                    ui.monospace(fmt_stat(v));
                }
                ui.end_row();
            }
        });
    let total: usize = view
        .per_class
        .iter()
        .map(|c| c.num_gt)
        .sum::<usize>()
        .max(1);
    let bars = |f: &dyn Fn(usize) -> f64, off: f64| -> Vec<Bar> {
        (0..view.per_class.len())
            .map(|k| Bar::new(k as f64 + off, f(k)).width(0.35))
            .collect()
    };
    let share = |k: usize| view.per_class[k].num_gt as f64 / total as f64;
    let ap = |k: usize| view.per_class[k].ap.max(0.0);
    let names: Vec<String> = view.per_class.iter().map(|c| c.name.clone()).collect();
    let resp = Plot::new("eval-ap-vs-gt")
        .height(PLOT_HEIGHT)
        .legend(Legend::default())
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .include_y(0.0)
        .include_y(1.0)
        .x_axis_formatter(move |m, _| {
            names
                .get(m.value.round() as usize)
                .filter(|_| (m.value - m.value.round()).abs() < 1e-6)
                .cloned()
                .unwrap_or_default()
        })
        .show(ui, |p| {
            p.bar_chart(BarChart::new("AP", bars(&ap, -0.2)));
            p.bar_chart(BarChart::new("share of GT", bars(&share, 0.2)));
        });
    let series = || -> Vec<Series> {
        let k = view.per_class.len();
        vec![
            ("AP".into(), (0..k).map(|i| [i as f64, ap(i)]).collect()),
            (
                "share of GT".into(),
                (0..k).map(|i| [i as f64, share(i)]).collect(),
            ),
        ]
    };
    exports.buttons(ui, "eval-ap-vs-gt", series, resp.response.rect);
}

/// APs / APm / APl beside the histogram of GT box sides (sqrt of the area).
pub fn scale_ui(ui: &mut egui::Ui, view: &EvalView, exports: &PlotExports) {
    ui.strong("Scale: AP small / medium / large beside the GT box sizes (scale imbalance)");
    let n = |lo: f64, hi: f64| {
        view.gt_sides
            .iter()
            .filter(|&&s| s >= lo && s <= hi)
            .count()
    };
    ui.label(format!(
        "APs {} ({} GT, side < 32 px) · APm {} ({} GT) · APl {} ({} GT, side > 96 px)",
        fmt_stat(view.stats[3]),
        n(0.0, 32.0),
        fmt_stat(view.stats[4]),
        n(32.0, 96.0),
        fmt_stat(view.stats[5]),
        n(96.0, f64::INFINITY)
    ));
    let bin = 8.0;
    let max = view.gt_sides.iter().copied().fold(0.0f64, f64::max);
    let bins = ((max / bin).floor() as usize + 1).min(200);
    let mut counts = vec![0u64; bins];
    for &s in &view.gt_sides {
        counts[((s / bin) as usize).min(bins - 1)] += 1;
    }
    let peak = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let aps = [view.stats[3], view.stats[4], view.stats[5]];
    let resp = Plot::new("eval-scale")
        .height(PLOT_HEIGHT)
        .legend(Legend::default())
        .x_axis_label("GT box side sqrt(area), px")
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .include_y(0.0)
        .show(ui, |p| {
            let hist = counts
                .iter()
                .enumerate()
                .map(|(i, &c)| Bar::new((i as f64 + 0.5) * bin, c as f64 / peak).width(bin * 0.9))
                .collect();
            p.bar_chart(BarChart::new("GT boxes (share of the peak)", hist));
            let ranges = [(0.0, 32.0), (32.0, 96.0), (96.0, max.max(128.0))];
            let ap_bars = ranges
                .iter()
                .zip(aps)
                .filter(|(_, a)| *a >= 0.0)
                .map(|(&(lo, hi), a)| Bar::new((lo + hi) / 2.0, a).width((hi - lo) * 0.95))
                .collect();
            p.bar_chart(
                BarChart::new("AP of the range", ap_bars)
                    .color(egui::Color32::from_rgba_unmultiplied(230, 120, 40, 90)),
            );
            p.vline(VLine::new("32 px", 32.0));
            p.vline(VLine::new("96 px", 96.0));
        });
    let series = || -> Vec<Series> {
        vec![
            (
                "GT boxes".into(),
                counts
                    .iter()
                    .enumerate()
                    .map(|(i, &c)| [(i as f64 + 0.5) * bin, c as f64])
                    .collect(),
            ),
            (
                "AP small/medium/large".into(),
                vec![[16.0, aps[0]], [64.0, aps[1]], [128.0, aps[2]]],
            ),
        ]
    };
    exports.buttons(ui, "eval-scale", series, resp.response.rect);
}

/// TIDE's error types, their dAP and one sentence each.
pub const TIDE_TYPES: [(&str, &str); 6] = [
    (
        "Classification",
        "found the object but named the wrong class (IoU >= 0.5 with a GT of another class).",
    ),
    (
        "Localisation",
        "right class, box off target (IoU in [0.1, 0.5) with a GT of its class).",
    ),
    (
        "Both",
        "wrong class and a poor box (IoU in [0.1, 0.5) with a GT of another class).",
    ),
    (
        "Duplicate",
        "a second detection of a GT a higher-scoring detection already took.",
    ),
    (
        "Background",
        "fired on background (IoU < 0.1 with every GT).",
    ),
    ("Missed", "a GT no detection covers at all."),
];

/// TIDE's dAP bars with one sentence per error type.
pub fn tide_ui(ui: &mut egui::Ui, view: &EvalView, exports: &PlotExports) {
    ui.strong("Errors (TIDE): AP50 gained by fixing each kind");
    let Some(t) = &view.tide else {
        ui.weak("TIDE could not be computed for this evaluation.");
        return;
    };
    let d = [t.cls, t.loc, t.both, t.dupe, t.bkg, t.miss];
    ui.label(format!(
        "AP50 {:.3}; dAP is AP50 with that error type fixed minus AP50.",
        t.ap50
    ));
    let resp = Plot::new("eval-tide")
        .height(PLOT_HEIGHT)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .include_y(0.0)
        .x_axis_formatter(|m, _| {
            let i = m.value.round();
            if (m.value - i).abs() < 1e-6 && (0.0..6.0).contains(&i) {
                ["cls", "loc", "both", "dupe", "bkg", "miss"][i as usize].to_string()
            } else {
                String::new()
            }
        })
        .show(ui, |p| {
            let bars = d
                .iter()
                .enumerate()
                .map(|(i, &v)| Bar::new(i as f64, v).width(0.6).name(TIDE_TYPES[i].0))
                .collect();
            p.bar_chart(BarChart::new("dAP", bars));
        });
    exports.buttons(
        ui,
        "eval-tide",
        || {
            vec![(
                "dAP".into(),
                d.iter().enumerate().map(|(i, &v)| [i as f64, v]).collect(),
            )]
        },
        resp.response.rect,
    );
    egui::Grid::new("eval-tide-text")
        .striped(true)
        .show(ui, |ui| {
            for (i, (name, what)) in TIDE_TYPES.iter().enumerate() {
                ui.strong(*name);
                ui.monospace(format!("dAP {:.3}", d[i]));
                ui.monospace(format!("{} errors", t.counts[i]));
                ui.label(*what);
                ui.end_row();
            }
        });
}
