//! What the Training tab keeps of a run: its curves, the latest histograms, the live preview.

use super::hist_history::HistogramHistory;
use crate::train::{Detection, StepMetrics};
use std::sync::Arc;

/// One training run's curves.
#[derive(Clone, Debug, Default)]
pub struct Run {
    /// Shown name, e.g. `run 1: focal g=2 a=0.25`.
    pub name: String,
    /// Every step's metrics, in step order.
    pub metrics: Vec<StepMetrics>,
    /// IoU and p_t histograms over the steps (bounded: every k-th step once long).
    pub histograms: HistogramHistory,
}

/// The latest binned histograms (see [`HIST_BINS`](crate::train::thread::HIST_BINS)).
#[derive(Clone, Debug, Default)]
pub struct LatestHistograms {
    /// Step they come from.
    pub step: u64,
    /// IoU of the positives, IoU of the picked negatives, p_t of positives, of negatives.
    pub sets: [Vec<u32>; 4],
}

/// The live model on one image.
#[derive(Clone, Debug)]
pub struct LivePreview {
    /// Steps done.
    pub step: u64,
    /// Image index.
    pub index: usize,
    /// Class probabilities `[anchors][C]`.
    pub probs: Arc<Vec<f32>>,
    /// Detections.
    pub detections: Vec<Detection>,
}
