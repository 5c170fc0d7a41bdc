//! The right-hand tabs and the left dataset panel. Each panel is a function
//! `xxx_ui(ui, &mut settings, &PanelContext)`: it edits plain settings (the app notices the
//! change and schedules the work off the UI thread) and reads the latest results.

pub mod anchors;
pub mod dataset;
pub mod evaluation;
pub mod loss_explorer;
pub mod remedies;
pub mod report_window;
pub mod sampler;
pub mod stats;
pub mod sweep;
#[cfg(test)]
pub mod test_support;
pub mod training;

use crate::app::plot_export::PlotExports;
pub use crate::data::DatasetStats;
use crate::inspect::Inspection;

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
    /// The open dataset (None while it opens).
    pub dataset: Option<&'a crate::app::worker::DatasetInfo>,
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
