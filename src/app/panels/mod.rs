//! The right-hand tabs and the left dataset panel. Each panel is a function
//! `xxx_ui(ui, &mut settings, &PanelContext)`: it edits plain settings (the app notices the
//! change and schedules the work off the UI thread) and reads the latest results.

pub mod anchors;
pub mod dataset;
pub mod loss_explorer;
pub mod sampler;
pub mod stats;
#[cfg(test)]
pub mod test_support;
pub mod training;

use crate::app::plot_export::PlotExports;
use crate::data::stats::AnchorCounts;
use crate::inspect::Inspection;

/// Dataset-wide statistics computed on a worker thread for the Stats tab.
#[derive(Clone, Debug, Default)]
pub struct DatasetStats {
    /// Images the statistics cover.
    pub images: usize,
    /// Class names.
    pub class_names: Vec<String>,
    /// GT count per class (foreground-foreground imbalance).
    pub class_counts: Vec<u64>,
    /// Fraction of the images that contain each class (EQL's class frequencies).
    pub image_class_freq: Vec<f64>,
    /// Box widths, heights and areas (px, px, px^2): scale imbalance.
    pub widths: Vec<f32>,
    /// See `widths`.
    pub heights: Vec<f32>,
    /// See `widths`.
    pub areas: Vec<f32>,
    /// Normalised centre heatmap, `grid x grid`, row-major, sums to 1 (location imbalance).
    pub centre_heatmap: Vec<f32>,
    /// Side of the heatmap grid.
    pub grid: usize,
    /// Anchor labels summed over the images (foreground-background imbalance).
    pub anchor_counts: AnchorCounts,
    /// Max IoU of every anchor of every image with its best GT, binned 0..1 in 50 bins.
    pub anchor_max_iou_counts: Vec<u64>,
}

/// Read-only results the panels show, plus the export queue.
pub struct PanelContext<'a> {
    /// The inspection of the image on screen (None while it is computed).
    pub inspection: Option<&'a Inspection>,
    /// Per-anchor foreground probability of each class, `anchors x classes` row-major, from
    /// the current model; `None` means the untrained prior.
    pub scores: Option<&'a [f32]>,
    /// Prior probability of the untrained classifier.
    pub prior_prob: f64,
    /// Dataset statistics (None until computed).
    pub stats: Option<&'a DatasetStats>,
    /// Plot export queue.
    pub exports: &'a PlotExports,
}

impl PanelContext<'_> {
    /// Foreground probability of anchor `i` for class `c` under the current model.
    pub fn score(&self, i: usize, c: usize, num_classes: usize) -> f64 {
        match self.scores {
            Some(s) => s[i * num_classes + c] as f64,
            None => self.prior_prob,
        }
    }
}
