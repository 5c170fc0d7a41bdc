//! Plot helpers of the stats tab: log-spaced size histograms, log-count axes and the painted
//! centre heatmap.

use crate::app::plot_export::{PlotExports, Series};
use crate::data::stats::Histogram;
use egui::{Color32, Rect, Sense, Stroke, vec2};
use egui_plot::{Bar, BarChart, GridInput, GridMark, Legend, Plot, VLine};

/// Height of every plot on the tab.
pub const PLOT_HEIGHT: f32 = 170.0;

/// A fixed bar plot of object counts per class: one grid line per class, the class names
/// under the bars (`names[i]` at `x = i`).
pub fn class_count_plot<'a>(id: &str, names: &'a [String]) -> Plot<'a> {
    let n = names.len();
    Plot::new(id)
        .height(PLOT_HEIGHT)
        .y_axis_label("objects")
        .x_grid_spacer(move |_| {
            (0..n)
                .map(|i| GridMark {
                    value: i as f64,
                    step_size: 1.0,
                })
                .collect()
        })
        .x_axis_formatter(move |m, _| {
            let i = m.value.round();
            match (i - m.value).abs() < 1e-6 && i >= 0.0 {
                true => names.get(i as usize).cloned().unwrap_or_default(),
                false => String::new(),
            }
        })
        .allow_drag(false)
        .allow_scroll(false)
        .allow_zoom(false)
        .include_y(0.0)
}

/// Log-spaced histograms of the positive finite values of each set, sharing `bins` bins
/// between the smallest and the largest value over all sets.
pub fn log_histograms(sets: &[&[f32]], bins: usize) -> Vec<Histogram> {
    let ok = |v: &&f32| v.is_finite() && **v > 0.0;
    let all = || sets.iter().flat_map(|s| s.iter().filter(ok).copied());
    let lo = all().fold(f32::INFINITY, f32::min);
    let hi = all().fold(0.0f32, f32::max);
    if !lo.is_finite() {
        return vec![Histogram::default(); sets.len()];
    }
    let (lo, hi) = (lo.max(1e-3), hi.max(lo * 1.01));
    let edges = crate::data::stats::log_edges(lo, hi, bins);
    sets.iter()
        .map(|s| Histogram::new(s.iter().filter(ok).copied(), edges.clone()))
        .collect()
}

/// Grid marks at 1, 2 and 5 times the powers of ten, for an axis holding log10 values.
pub fn log10_marks(input: GridInput) -> Vec<GridMark> {
    let (a, b) = input.bounds;
    let mut out = Vec::new();
    for k in (a.floor() as i32 - 1)..=(b.ceil() as i32) {
        for (m, step) in [(1.0f64, 1.0), (2.0, 0.3), (5.0, 0.3)] {
            let v = (m * 10f64.powi(k)).log10();
            if v >= a && v <= b {
                out.push(GridMark {
                    value: v,
                    step_size: step,
                });
            }
        }
    }
    out
}

/// `10^v` as a short number: 3, 250, 12k, 1.5M.
pub fn pow10_label(v: f64) -> String {
    let x = 10f64.powf(v);
    let short = |y: f64, unit: &str| format!("{}{unit}", format!("{y:.1}").trim_end_matches(".0"));
    match x {
        x if x >= 1e6 => short(x / 1e6, "M"),
        x if x >= 1e3 => short(x / 1e3, "k"),
        x if x >= 1.0 => format!("{x:.0}"),
        x => format!("{x:.2}"),
    }
}

/// Bars of one or more log-spaced histograms sharing edges, side by side, on a log10 x axis.
/// `marks` adds labelled vertical lines at the given x values (not log10 yet). Returns after
/// drawing the CSV / PNG buttons.
pub fn log_size_plot(
    ui: &mut egui::Ui,
    name: &str,
    x_label: &str,
    hists: &[(&str, &Histogram, Color32)],
    marks: &[(&str, f64, Color32)],
    exports: &PlotExports,
) {
    let n = hists.len().max(1) as f64;
    let mut charts = Vec::new();
    let mut series: Vec<Series> = Vec::new();
    for (k, (label, h, color)) in hists.iter().enumerate() {
        let mut bars = Vec::new();
        let mut pts = Vec::new();
        for (w, &c) in h.edges.windows(2).zip(&h.counts) {
            let (a, b) = ((w[0] as f64).log10(), (w[1] as f64).log10());
            let bw = (b - a) / n;
            let bar = Bar::new(a + bw * (k as f64 + 0.5), c as f64).width(bw * 0.9);
            bars.push(bar.fill(color.gamma_multiply(0.7)));
            pts.push([(w[0] as f64 * w[1] as f64).sqrt(), c as f64]);
        }
        charts.push(BarChart::new(*label, bars).color(*color));
        series.push((label.to_string(), pts));
    }
    let resp = Plot::new(name)
        .height(PLOT_HEIGHT)
        .legend(Legend::default())
        .x_axis_label(x_label)
        .y_axis_label("boxes")
        .x_grid_spacer(log10_marks)
        .x_axis_formatter(|m, _| pow10_label(m.value))
        .allow_drag(false)
        .allow_scroll(false)
        .allow_zoom(false)
        .include_y(0.0)
        .show(ui, |p| {
            for c in charts {
                p.bar_chart(c);
            }
            for (label, x, color) in marks {
                p.vline(VLine::new(*label, x.log10()).color(*color));
            }
        });
    exports.buttons(ui, name, || series, resp.response.rect);
}

/// A colour map from dark blue (0) through green to yellow (1), viridis-like.
pub fn heat_colour(t: f32) -> Color32 {
    const STOPS: [[u8; 3]; 5] = [
        [68, 1, 84],
        [59, 82, 139],
        [33, 145, 140],
        [94, 201, 98],
        [253, 231, 37],
    ];
    let t = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f32;
    let i = (t as usize).min(STOPS.len() - 2);
    let f = t - i as f32;
    let c = |j: usize| STOPS[i][j] as f32 * (1.0 - f) + STOPS[i + 1][j] as f32 * f;
    Color32::from_rgb(c(0) as u8, c(1) as u8, c(2) as u8)
}

/// Paints a `grid x grid` row-major density map as coloured cells, scaled to its maximum;
/// hovering a cell names its share. Returns the painted rectangle.
pub fn heatmap_ui(ui: &mut egui::Ui, values: &[f32], grid: usize) -> Rect {
    let side = ui.available_width().min(260.0);
    let (rect, resp) = ui.allocate_exact_size(vec2(side, side), Sense::hover());
    let g = grid.max(1);
    let max = values
        .iter()
        .copied()
        .fold(0.0f32, f32::max)
        .max(f32::MIN_POSITIVE);
    let cell = side / g as f32;
    let painter = ui.painter_at(rect);
    for (k, &v) in values.iter().enumerate().take(g * g) {
        let (r, c) = (k / g, k % g);
        let min = rect.min + vec2(c as f32 * cell, r as f32 * cell);
        painter.rect_filled(
            Rect::from_min_size(min, vec2(cell, cell)),
            0.0,
            heat_colour(v / max),
        );
    }
    painter.rect_stroke(
        rect,
        0.0,
        Stroke::new(1.0, Color32::GRAY),
        egui::StrokeKind::Inside,
    );
    if let Some(p) = resp.hover_pos() {
        let c = (((p.x - rect.min.x) / cell) as usize).min(g - 1);
        let r = (((p.y - rect.min.y) / cell) as usize).min(g - 1);
        let v = values.get(r * g + c).copied().unwrap_or(0.0);
        resp.on_hover_text(format!(
            "row {r}, column {c}: {:.2}% of the centres",
            100.0 * v
        ));
    }
    rect
}
