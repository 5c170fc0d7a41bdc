//! Histograms over time as heatmaps: x = step, y = bin over `[0, 1]`, colour = share of that
//! step's anchors in the bin. This is where p_t of the negatives is seen climbing to 1.

use super::hist_history::HistogramHistory;
use crate::app::anchor_colors::viridis;
use crate::app::plot_export::{PlotExports, Series};
use crate::train::thread::HIST_BINS;
use egui::{Color32, ColorImage, TextureHandle, TextureOptions, vec2};
use egui_plot::{Plot, PlotImage, PlotPoint};

/// Height of each heatmap plot.
const HEIGHT: f32 = 140.0;
/// Columns of a heatmap texture at most.
const MAX_COLUMNS: usize = 512;

/// The texture of one heatmap and what it was built from.
struct CachedHeatmap {
    key: (u64, usize),
    texture: TextureHandle,
    shares: Vec<Option<[f32; HIST_BINS]>>,
    max_share: f32,
}

/// Textures of the four heatmaps, rebuilt only when the history changed.
#[derive(Default)]
pub struct HeatmapCache {
    sets: [Option<CachedHeatmap>; 4],
    /// Texture builds so far (for tests).
    pub builds: u64,
}

/// One heatmap of set `set` (0: IoU of positives, 1: IoU of picked negatives, 2: p_t of
/// positives, 3: p_t of picked negatives) with a hover read-out and export buttons.
pub fn heatmap_ui(
    ui: &mut egui::Ui,
    history: &HistogramHistory,
    set: usize,
    (id, title, y_label): (&str, &str, &str),
    cache: &mut HeatmapCache,
    exports: &PlotExports,
) {
    let entries = history.entries();
    let (Some((first, _)), Some((last, _))) = (entries.first(), entries.last()) else {
        ui.weak("No step yet.");
        return;
    };
    let (first, last) = (*first, *last);
    let columns = ((last - first + 1) as usize).min(MAX_COLUMNS);
    let key = (history.version(), columns);
    let slot = &mut cache.sets[set];
    if slot.as_ref().is_none_or(|c| c.key != key) {
        let shares = history.shares(set, columns);
        let max_share = shares
            .iter()
            .flatten()
            .flat_map(|c| c.iter().copied())
            .fold(0.0f32, f32::max)
            .max(1e-6);
        let image = heatmap_image(&shares, max_share);
        let texture = match slot.take() {
            Some(mut c) => {
                c.texture.set(image, TextureOptions::NEAREST);
                c.texture
            }
            None => ui
                .ctx()
                .load_texture(format!("{id}_texture"), image, TextureOptions::NEAREST),
        };
        cache.builds += 1;
        *slot = Some(CachedHeatmap {
            key,
            texture,
            shares,
            max_share,
        });
    }
    let cached = slot.as_ref().expect("built above");
    // each column covers one step width around its step
    let dx = if columns > 1 {
        (last - first) as f64 / (columns - 1) as f64
    } else {
        1.0
    };
    let width = (last - first) as f64 + dx;
    ui.label(egui::RichText::new(title).small().strong());
    let resp = Plot::new(id)
        .show_background(false) // see chrome::unfilled: fill rate on lavapipe
        .height(HEIGHT)
        .x_axis_label("step")
        .y_axis_label(y_label)
        .allow_drag(false)
        .allow_scroll(false)
        .allow_zoom(false)
        .allow_boxed_zoom(false)
        .show_grid(false)
        .include_y(0.0)
        .include_y(1.0)
        .include_x(first as f64 - dx / 2.0)
        .include_x(last as f64 + dx / 2.0)
        .set_margin_fraction(vec2(0.0, 0.0))
        .show(ui, |p| {
            let centre = PlotPoint::new((first + last) as f64 / 2.0, 0.5);
            p.image(PlotImage::new(
                title,
                cached.texture.id(),
                centre,
                vec2(width as f32, 1.0),
            ));
        });
    if let Some(pos) = resp.response.hover_pos() {
        let v = resp.transform.value_from_position(pos);
        let col = ((v.x - (first as f64 - dx / 2.0)) / dx).floor();
        let bin = (v.y * HIST_BINS as f64).floor();
        if (0.0..columns as f64).contains(&col) && (0.0..HIST_BINS as f64).contains(&bin) {
            let (col, bin) = (col as usize, bin as usize);
            let step = first as f64 + col as f64 * dx;
            let w = 1.0 / HIST_BINS as f64;
            let text = match cached.shares[col] {
                Some(s) => format!(
                    "step {step:.0}, {y_label} {:.2}-{:.2}: {:.1}% of the step's anchors",
                    bin as f64 * w,
                    (bin + 1) as f64 * w,
                    100.0 * s[bin]
                ),
                None => format!("step {step:.0}: no anchors"),
            };
            resp.response.clone().on_hover_text(text);
        }
    }
    ui.horizontal(|ui| {
        ramp_legend(ui, cached.max_share);
        exports.buttons(ui, id, || heatmap_series(history, set), resp.response.rect);
    });
}

/// The cells as an image: one column per step, bin 0 at the bottom; steps without samples
/// are transparent (the plot background shows, in either theme).
fn heatmap_image(shares: &[Option<[f32; HIST_BINS]>], max_share: f32) -> ColorImage {
    let w = shares.len().max(1);
    let mut pixels = vec![Color32::TRANSPARENT; w * HIST_BINS];
    for (c, col) in shares.iter().enumerate() {
        let Some(col) = col else { continue };
        for (b, &s) in col.iter().enumerate() {
            pixels[(HIST_BINS - 1 - b) * w + c] = viridis(s / max_share);
        }
    }
    ColorImage::new([w, HIST_BINS], pixels)
}

/// A small colour ramp: 0 to the largest share shown.
fn ramp_legend(ui: &mut egui::Ui, max_share: f32) {
    ui.small("share: 0");
    let (r, _) = ui.allocate_exact_size(vec2(80.0, 10.0), egui::Sense::hover());
    let n = 40;
    for k in 0..n {
        let x0 = r.left() + r.width() * k as f32 / n as f32;
        let cell = egui::Rect::from_min_max(
            egui::pos2(x0, r.top()),
            egui::pos2(x0 + r.width() / n as f32 + 0.5, r.bottom()),
        );
        ui.painter()
            .rect_filled(cell, 0.0, viridis(k as f32 / (n - 1) as f32));
    }
    ui.small(format!("{:.0}%", 100.0 * max_share));
}

/// Export: one series per bin, `(step, share)` over the kept steps.
fn heatmap_series(history: &HistogramHistory, set: usize) -> Vec<Series> {
    let w = 1.0 / HIST_BINS as f64;
    (0..HIST_BINS)
        .map(|b| {
            let pts = history
                .entries()
                .iter()
                .map(|(step, sets)| {
                    let total: u32 = sets[set].iter().sum();
                    [*step as f64, sets[set][b] as f64 / total.max(1) as f64]
                })
                .collect();
            (
                format!("bin {:.2}-{:.2}", b as f64 * w, (b + 1) as f64 * w),
                pts,
            )
        })
        .collect()
}
