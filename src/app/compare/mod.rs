//! The compare view (key C): the image twice, side by side, each half with its own overlay
//! settings (CE against focal weights, random against OHEM picks, ...), pan and zoom kept
//! the same, and the numbers of each half with those that differ marked.

#[cfg(test)]
mod tests;

use crate::app::chrome::compact_overlay_bar_ui;
use crate::app::image_view::ImageView;
use crate::app::state::{OverlayMode, OverlaySettings};
use crate::inspect::Inspection;
use crate::inspect::summary::{ViewNumbers, view_numbers};
use crate::losses::classification::ClsLoss;
use egui::Vec2;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Settings of the compare view; the left half uses the main overlay settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CompareSettings {
    /// The view is split in two.
    pub on: bool,
    /// The right half's overlay.
    pub right: OverlaySettings,
}

impl Default for CompareSettings {
    /// Off; the right half shows CE's loss weights (against the left's focal loss).
    fn default() -> Self {
        Self {
            on: false,
            right: OverlaySettings {
                mode: OverlayMode::LossWeight,
                loss: ClsLoss::Ce,
                ..OverlaySettings::default()
            },
        }
    }
}

/// The runtime side: the right half's view and the pan / zoom both halves last agreed on.
#[derive(Default)]
pub struct CompareView {
    /// The right half's image view (the left half is the app's main view).
    pub right: ImageView,
    synced: Option<(f32, Vec2)>,
}

/// Gives an EQL loss the dataset's class frequencies (`freq`, one per class) when its own
/// do not match them; other losses are left alone.
pub fn fill_class_freq(loss: &mut ClsLoss, freq: &[f64]) {
    if let ClsLoss::Eql { class_freq, .. } = loss
        && !freq.is_empty()
        && class_freq.as_slice() != freq
    {
        *class_freq = freq.to_vec();
    }
}

/// One line of a half's numbers; `other` are the other half's, and what differs is marked.
pub fn numbers_text(n: &ViewNumbers, other: &ViewNumbers) -> String {
    let mark = |d: bool| if d { " *" } else { "" };
    format!(
        "{} positives, picked {} pos{} / {} neg{}\npositives' share of the loss {:.1}%{}",
        n.positives,
        n.picked_pos,
        mark(n.picked_pos != other.picked_pos),
        n.picked_neg,
        mark(n.picked_neg != other.picked_neg),
        100.0 * n.pos_share,
        mark((n.pos_share - other.pos_share).abs() > 5e-4),
    )
}

impl CompareView {
    /// Draws both halves. `left` is the main view and its settings, `right` the compare
    /// settings; `scores` the model's probabilities (the draw lists' cache key).
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        ins: &Arc<Inspection>,
        left: (&mut ImageView, &mut OverlaySettings),
        right: &mut OverlaySettings,
        scores: Option<&Arc<Vec<f32>>>,
    ) {
        let (lv, lo) = left;
        self.right.layer = lv.layer + 1;
        self.sync(lv);
        let nums = [
            view_numbers(ins, lo.sampler.key(), &lo.loss),
            view_numbers(ins, right.sampler.key(), &right.loss),
        ];
        ui.columns(2, |cols| {
            let halves: [(&mut ImageView, &mut OverlaySettings); 2] =
                [(&mut *lv, &mut *lo), (&mut self.right, &mut *right)];
            for (k, ((view, o), col)) in halves.into_iter().zip(cols.iter_mut()).enumerate() {
                compact_overlay_bar_ui(
                    col,
                    o,
                    if k == 0 {
                        "compare-left"
                    } else {
                        "compare-right"
                    },
                );
                col.label(numbers_text(&nums[k], &nums[1 - k]));
                view.update(ins, o, scores);
                view.ui(col, ins, o);
            }
        });
        self.sync(lv);
    }

    /// Pan and zoom follow whichever half changed them since the last frame.
    fn sync(&mut self, left: &mut ImageView) {
        let l = (left.zoom, left.centre);
        let r = (self.right.zoom, self.right.centre);
        let agreed = match self.synced {
            Some(s) if r != s && l == s => r,
            _ => l,
        };
        left.zoom = agreed.0;
        left.centre = agreed.1;
        self.right.zoom = agreed.0;
        self.right.centre = agreed.1;
        self.synced = Some(agreed);
    }
}
