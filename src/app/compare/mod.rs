//! The compare view (key C): the image twice, side by side, each half with its own overlay
//! settings (CE against focal weights, random against OHEM picks, ...) and its own assigner
//! (MaxIoU against ATSS: the right half's assignment is inspected by the worker beside the
//! left's), pan and zoom kept the same, and the numbers of each half with those that differ
//! marked.

#[cfg(test)]
mod tests;

use crate::app::chrome::compact_overlay_bar_ui;
use crate::app::image_view::ImageView;
use crate::app::state::{OverlayMode, OverlaySettings};
use crate::assign::{AssignerConfig, AtssAssigner, MaxIouAssigner};
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
    /// The right half's assigner; `None`: the left's (the lab's).
    pub right_assigner: Option<AssignerConfig>,
}

impl CompareSettings {
    /// The assigner the right half needs inspected on its own: `Some` only while the view is
    /// on and the right half's assigner differs from the left's `left`.
    pub fn right_assigner(&self, left: &AssignerConfig) -> Option<AssignerConfig> {
        (self.right_assigner.clone()).filter(|a| self.on && a != left)
    }
}

/// The assigner's short name.
pub fn assigner_label(a: &AssignerConfig) -> &'static str {
    match a {
        AssignerConfig::MaxIou(_) => "MaxIoU",
        AssignerConfig::Atss(_) => "ATSS",
    }
}

/// The two assigners with their default parameters.
fn assigner_choices() -> [AssignerConfig; 2] {
    [
        AssignerConfig::MaxIou(MaxIouAssigner::default()),
        AssignerConfig::Atss(AtssAssigner::default()),
    ]
}

/// A combo choosing an assigner kind; `same` adds a "same as left" entry (`None`).
fn assigner_combo(ui: &mut egui::Ui, salt: &str, a: &mut Option<AssignerConfig>, same: bool) {
    let text = a.as_ref().map_or("same as left", assigner_label);
    egui::ComboBox::new((salt, "assigner"), "assigner")
        .selected_text(text)
        .show_ui(ui, |ui| {
            if same && ui.selectable_label(a.is_none(), "same as left").clicked() {
                *a = None;
            }
            for c in assigner_choices() {
                let on = a.as_ref().map(assigner_label) == Some(assigner_label(&c));
                if ui.selectable_label(on, assigner_label(&c)).clicked() && !on {
                    *a = Some(c);
                }
            }
        });
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
            right_assigner: None,
        }
    }
}

/// The runtime side: the right half's view, its own inspection and the pan / zoom both
/// halves last agreed on.
#[derive(Default)]
pub struct CompareView {
    /// The right half's image view (the left half is the app's main view).
    pub right: ImageView,
    /// The right half's inspection under its own assigner, with the left inspection it was
    /// made beside (used only while that one is on screen).
    pub inspection: Option<(Arc<Inspection>, Arc<Inspection>)>,
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
        "{} positives{}, picked {} pos{} / {} neg{}\npositives' share of the loss {:.1}%{}",
        n.positives,
        mark(n.positives != other.positives),
        n.picked_pos,
        mark(n.picked_pos != other.picked_pos),
        n.picked_neg,
        mark(n.picked_neg != other.picked_neg),
        100.0 * n.pos_share,
        mark((n.pos_share - other.pos_share).abs() > 5e-4),
    )
}

impl CompareView {
    /// The right half's inspection: its own when it was made beside `left` under `assigner`
    /// (the right half's assigner when it differs), else `left`.
    pub fn right_inspection(
        &self,
        left: &Arc<Inspection>,
        assigner: Option<&AssignerConfig>,
    ) -> Arc<Inspection> {
        match (&self.inspection, assigner) {
            (Some((l, r)), Some(_)) if Arc::ptr_eq(l, left) => r.clone(),
            _ => left.clone(),
        }
    }

    /// Draws both halves. `left` is the main view, its settings and the lab's assigner,
    /// `right` the compare settings; `scores` the model's probabilities (the draw lists'
    /// cache key). The right half's model scores apply only while it shares the left's
    /// inspection (its own is scored the same way by the worker).
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        ins: &Arc<Inspection>,
        left: (&mut ImageView, &mut OverlaySettings, &mut AssignerConfig),
        right: &mut CompareSettings,
        scores: Option<&Arc<Vec<f32>>>,
    ) {
        let (lv, lo, la) = left;
        self.right.layer = lv.layer + 1;
        self.sync(lv);
        let own = right.right_assigner(la);
        let rins = self.right_inspection(ins, own.as_ref());
        let ro = &mut right.right;
        let nums = [
            view_numbers(ins, lo.sampler.key(), &lo.loss),
            view_numbers(&rins, ro.sampler.key(), &ro.loss),
        ];
        let rscores = if Arc::ptr_eq(&rins, ins) {
            scores.cloned()
        } else {
            (rins.model.source != crate::train::ModelSource::Prior).then(|| rins.probs.clone())
        };
        let mut left_assigner = Some(la.clone());
        ui.columns(2, |cols| {
            let halves: [(&mut ImageView, &mut OverlaySettings, &Arc<Inspection>); 2] = [
                (&mut *lv, &mut *lo, ins),
                (&mut self.right, &mut *ro, &rins),
            ];
            for (k, ((view, o, half), col)) in halves.into_iter().zip(cols.iter_mut()).enumerate() {
                let salt = if k == 0 {
                    "compare-left"
                } else {
                    "compare-right"
                };
                compact_overlay_bar_ui(col, o, salt);
                if k == 0 {
                    assigner_combo(col, salt, &mut left_assigner, false);
                } else {
                    assigner_combo(col, salt, &mut right.right_assigner, true);
                }
                col.label(numbers_text(&nums[k], &nums[1 - k]));
                let sc = if k == 0 { scores } else { rscores.as_ref() };
                view.update(half, o, sc);
                view.ui(col, half, o);
            }
        });
        if let Some(a) = left_assigner
            && assigner_label(&a) != assigner_label(la)
        {
            *la = a;
        }
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
