//! The app's persisted settings: plain serde structs with defaults. Runtime handles (threads,
//! channels, textures, GPU resources) live in the app, never here.

use crate::app::panels::loss_explorer::LossExplorerSettings;
use crate::app::panels::training::TrainingSettings;
use crate::config::LabConfig;
use crate::data::SyntheticConfig;
use crate::losses::classification::ClsLoss;
use serde::{Deserialize, Serialize};

/// The tabs on the right.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tab {
    /// Anchor generator and assigner.
    #[default]
    Anchors,
    /// Samplers.
    Sampler,
    /// Loss explorer.
    Loss,
    /// Dataset statistics.
    Stats,
    /// Training a detector live.
    Training,
    /// COCO evaluation and error analysis.
    Evaluation,
    /// A sweep's results table and curves (`anchorscope sweep`).
    Sweep,
}

impl Tab {
    /// Every tab in display order.
    pub const ALL: [Tab; 7] = [
        Tab::Anchors,
        Tab::Sampler,
        Tab::Loss,
        Tab::Stats,
        Tab::Training,
        Tab::Evaluation,
        Tab::Sweep,
    ];

    /// Title shown on the tab button.
    pub fn title(self) -> &'static str {
        match self {
            Tab::Anchors => "Anchors",
            Tab::Sampler => "Sampler",
            Tab::Loss => "Loss explorer",
            Tab::Stats => "Dataset stats",
            Tab::Training => "Training",
            Tab::Evaluation => "Evaluation",
            Tab::Sweep => "Sweep",
        }
    }

    /// Short name used by `--tab`.
    pub fn short(self) -> &'static str {
        match self {
            Tab::Anchors => "anchors",
            Tab::Sampler => "sampler",
            Tab::Loss => "loss",
            Tab::Stats => "stats",
            Tab::Training => "training",
            Tab::Evaluation => "evaluation",
            Tab::Sweep => "sweep",
        }
    }

    /// Parses a tab name as given to `--tab` (case-insensitive, short name or title).
    pub fn parse(s: &str) -> Option<Tab> {
        let s = s.to_ascii_lowercase();
        Tab::ALL
            .into_iter()
            .find(|t| t.short() == s || t.title().to_ascii_lowercase() == s)
    }
}

/// What colours the anchors in the image view.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum OverlayMode {
    /// Positive / negative / ignored.
    #[default]
    Assignment,
    /// Each anchor's max IoU with any GT, as a colour map.
    MaxIou,
    /// Picked by the chosen sampler or not.
    SamplerPick,
    /// The chosen loss's weight of each anchor (focal: alpha_t (1 - p_t)^gamma), as heat.
    LossWeight,
}

impl OverlayMode {
    /// Every mode in display order.
    pub const ALL: [OverlayMode; 4] = [
        OverlayMode::Assignment,
        OverlayMode::MaxIou,
        OverlayMode::SamplerPick,
        OverlayMode::LossWeight,
    ];

    /// Label shown in the UI.
    pub fn label(self) -> &'static str {
        match self {
            OverlayMode::Assignment => "Assignment",
            OverlayMode::MaxIou => "Max IoU",
            OverlayMode::SamplerPick => "Sampler pick",
            OverlayMode::LossWeight => "Loss weight",
        }
    }
}

/// Which sampler's picks the overlay and the sampler tab show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SamplerChoice {
    /// Random sampling.
    #[default]
    Random,
    /// Hard-negative mining (SSD).
    HardNegative,
    /// OHEM.
    Ohem,
    /// IoU-balanced negatives (Libra R-CNN).
    IouBalanced,
    /// Instance-balanced positives (Libra R-CNN), random negatives.
    InstanceBalanced,
    /// PISA.
    Pisa,
}

impl SamplerChoice {
    /// Every choice in display order.
    pub const ALL: [SamplerChoice; 6] = [
        SamplerChoice::Random,
        SamplerChoice::HardNegative,
        SamplerChoice::Ohem,
        SamplerChoice::IouBalanced,
        SamplerChoice::InstanceBalanced,
        SamplerChoice::Pisa,
    ];

    /// The key used by [`crate::inspect::Inspection::samplers`].
    pub fn key(self) -> &'static str {
        match self {
            SamplerChoice::Random => "random",
            SamplerChoice::HardNegative => "hard_negative",
            SamplerChoice::Ohem => "ohem",
            SamplerChoice::IouBalanced => "iou_balanced",
            SamplerChoice::InstanceBalanced => "instance_balanced",
            SamplerChoice::Pisa => "pisa",
        }
    }

    /// Label shown in the UI.
    pub fn label(self) -> &'static str {
        match self {
            SamplerChoice::Random => "Random",
            SamplerChoice::HardNegative => "Hard negatives 3:1",
            SamplerChoice::Ohem => "OHEM",
            SamplerChoice::IouBalanced => "IoU-balanced",
            SamplerChoice::InstanceBalanced => "Instance-balanced",
            SamplerChoice::Pisa => "PISA",
        }
    }
}

/// Image-view overlay settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OverlaySettings {
    /// What colours the anchors.
    pub mode: OverlayMode,
    /// Sampler whose picks are shown.
    pub sampler: SamplerChoice,
    /// The classification loss whose weight is shown.
    pub loss: ClsLoss,
    /// Levels shown (by level index; missing entries count as shown).
    pub levels: Vec<bool>,
    /// Scales shown (by scale index).
    pub scales: Vec<bool>,
    /// Ratios shown (by ratio index).
    pub ratios: Vec<bool>,
    /// Anchor opacity, 0..1.
    pub opacity: f32,
    /// Draw negative anchors too (there are many).
    pub show_negatives: bool,
    /// Draw ignored anchors.
    pub show_ignored: bool,
    /// Only the positives of the selected GT.
    pub only_selected_gt: bool,
    /// Draw GT boxes.
    pub show_gt: bool,
}

impl Default for OverlaySettings {
    fn default() -> Self {
        Self {
            mode: OverlayMode::Assignment,
            sampler: SamplerChoice::Random,
            loss: ClsLoss::default(),
            levels: Vec::new(),
            scales: Vec::new(),
            ratios: Vec::new(),
            opacity: 0.6,
            show_negatives: false,
            show_ignored: true,
            only_selected_gt: false,
            show_gt: true,
        }
    }
}

impl OverlaySettings {
    /// Whether an anchor of this level / scale / ratio passes the filters.
    pub fn passes(&self, level: usize, scale: usize, ratio: usize) -> bool {
        let on = |v: &Vec<bool>, i: usize| v.get(i).copied().unwrap_or(true);
        on(&self.levels, level) && on(&self.scales, scale) && on(&self.ratios, ratio)
    }
}

/// Where the images come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DatasetSettings {
    /// A dataset SPEC for files (`coco:..`, `voc:..`, `yolo:..`); empty = synthetic.
    pub spec: String,
    /// Synthetic preset name the knobs started from.
    pub preset: String,
    /// Synthetic generator knobs.
    pub synthetic: SyntheticConfig,
    /// Synthetic seed.
    pub seed: u64,
    /// Number of synthetic images.
    pub len: usize,
    /// The data remedies applied to the dataset (tiling, merging, re-sampling).
    pub remedies: crate::data::remedies::Remedies,
}

impl Default for DatasetSettings {
    fn default() -> Self {
        Self {
            spec: String::new(),
            preset: "shapes".into(),
            synthetic: SyntheticConfig::default(),
            seed: 0,
            len: crate::data::synthetic::DEFAULT_LEN,
            remedies: Default::default(),
        }
    }
}

/// Everything the app remembers between sessions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppState {
    /// Dataset source and generator knobs.
    pub dataset: DatasetSettings,
    /// Image on screen.
    pub image_index: usize,
    /// Anchors, assigner, samplers.
    pub lab: LabConfig,
    /// Image-view overlay.
    pub overlay: OverlaySettings,
    /// Loss explorer settings.
    pub loss_explorer: LossExplorerSettings,
    /// Training tab settings.
    pub training: TrainingSettings,
    /// Selected tab.
    pub tab: Tab,
    /// Dark (true) or light theme.
    pub dark: bool,
    /// The compare view (key C) and its right half's overlay.
    pub compare: crate::app::compare::CompareSettings,
    /// UI scale (egui zoom factor; Ctrl + / Ctrl - change it).
    pub ui_scale: f32,
}

impl Default for AppState {
    fn default() -> Self {
        Self {
            dataset: DatasetSettings::default(),
            image_index: 0,
            lab: LabConfig::default(),
            overlay: OverlaySettings::default(),
            loss_explorer: LossExplorerSettings::default(),
            training: TrainingSettings::default(),
            tab: Tab::Anchors,
            dark: true,
            compare: Default::default(),
            ui_scale: 1.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_parse_and_state_round_trips() {
        assert_eq!(Tab::parse("loss"), Some(Tab::Loss));
        assert_eq!(Tab::parse("Dataset stats"), Some(Tab::Stats));
        assert_eq!(Tab::parse("sampler"), Some(Tab::Sampler));
        assert_eq!(Tab::parse("stats"), Some(Tab::Stats));
        assert_eq!(Tab::parse("Anchors"), Some(Tab::Anchors));
        assert_eq!(Tab::parse("training"), Some(Tab::Training));
        assert_eq!(Tab::parse("evaluation"), Some(Tab::Evaluation));
        assert_eq!(Tab::parse("sweep"), Some(Tab::Sweep));
        assert_eq!(Tab::parse("nope"), None);
        let s = AppState::default();
        let back: AppState = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }
}
