//! The `[data]` settings of a run config (TOML): the model input size and resize mode, the
//! image limits, the data remedies ([`super::remedies`]: `[data.tile]`, `[data.merge]`,
//! `[data.undersample]`, `[data.repeat_factor]`), and opening a file dataset for training
//! (the remedies applied to the training view only, both views brought to the input size).

use super::files::{DEFAULT_MAX_PIXELS, FileDataset, OpenOptions};
use super::input::{InputSize, ResizeMode, ResizedDataset};
use super::remedies::Remedies;
use super::remedies::{RepeatFactorConfig, TileConfig, UndersampleConfig};
use super::{DataError, Dataset, DatasetSpec};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// `[data]`: how a file dataset is read and fed to the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataConfig {
    /// Model input width in pixels.
    pub width: u32,
    /// Model input height in pixels.
    pub height: u32,
    /// `letterbox` (keep the aspect ratio, pad) or `stretch`.
    pub resize: ResizeMode,
    /// Images over this many pixels are dropped (`image_too_large`).
    pub max_pixels: u64,
    /// Decoded images kept in memory.
    pub cache_images: usize,
    /// `[data.tile]`: tiling of large images (off when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tile: Option<TileConfig>,
    /// `[data.merge]`: class name -> merged name (off when empty).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub merge: BTreeMap<String, String>,
    /// `[data.undersample]`: undersampling of images of frequent classes (off when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undersample: Option<UndersampleConfig>,
    /// `[data.repeat_factor]`: repeat-factor oversampling (off when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat_factor: Option<RepeatFactorConfig>,
}

impl Default for DataConfig {
    fn default() -> Self {
        let i = InputSize::default();
        Self {
            width: i.width,
            height: i.height,
            resize: i.resize,
            max_pixels: DEFAULT_MAX_PIXELS,
            cache_images: 256,
            tile: None,
            merge: BTreeMap::new(),
            undersample: None,
            repeat_factor: None,
        }
    }
}

/// A file dataset ready to train on.
pub struct TrainingViews {
    /// The opened dataset (all images; its report).
    pub dataset: FileDataset,
    /// Training images at the input size.
    pub train: Arc<dyn Dataset>,
    /// Held-out images at the input size: the validation split, or a seeded 10%.
    pub held_out: Arc<dyn Dataset>,
}

impl DataConfig {
    /// The model input.
    pub fn input(&self) -> InputSize {
        InputSize {
            width: self.width,
            height: self.height,
            resize: self.resize,
        }
    }

    /// The `[data]` table of a TOML document (every other table ignored), checked; errors
    /// are one line naming `origin` (and the line, or the field).
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, String> {
        #[derive(Deserialize)]
        struct Doc {
            #[serde(default)]
            data: DataConfig,
        }
        let doc: Doc = crate::config::parse_toml(text, origin)?;
        doc.data.validate().map_err(|e| format!("{origin}: {e}"))?;
        Ok(doc.data)
    }

    /// The data remedies of this table.
    pub fn remedies(&self) -> Remedies {
        Remedies {
            tile: self.tile.clone(),
            merge: self.merge.clone(),
            undersample: self.undersample.clone(),
            repeat_factor: self.repeat_factor.clone(),
        }
    }

    /// This table with the remedies set to `r`.
    pub fn with_remedies(mut self, r: Remedies) -> Self {
        self.tile = r.tile;
        self.merge = r.merge;
        self.undersample = r.undersample;
        self.repeat_factor = r.repeat_factor;
        self
    }

    /// Options for opening a dataset.
    pub fn open_options(&self) -> OpenOptions {
        OpenOptions {
            max_pixels: self.max_pixels,
            cache_images: self.cache_images,
            ..OpenOptions::default()
        }
    }

    /// Checks the values; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        self.input().validate()?;
        if self.max_pixels < 64 {
            return Err(format!(
                "[data] max_pixels must be at least 64, got {}",
                self.max_pixels
            ));
        }
        self.remedies().validate()
    }

    /// Opens a COCO, VOC or YOLO SPEC for training; `seed` draws the held-out 10% when the
    /// dataset has no validation split. The remedies apply to the training view only; the
    /// held-out view is the untouched images (with the merged class names when classes are
    /// merged, so both views share one class list).
    pub fn open_for_training(
        &self,
        spec: &DatasetSpec,
        seed: u64,
    ) -> Result<TrainingViews, DataError> {
        let dataset = FileDataset::open(spec, &self.open_options())?;
        let (t, v) = dataset.train_val(seed);
        let input = self.input();
        let remedies = self.remedies();
        let train = remedies.apply(Arc::new(t))?.dataset();
        let held_out: Arc<dyn Dataset> = if remedies.merge.is_empty() {
            Arc::new(v)
        } else {
            Arc::new(super::remedies::MergedDataset::new(
                Arc::new(v),
                &remedies.merge,
            )?)
        };
        Ok(TrainingViews {
            train: Arc::new(ResizedDataset::new(train, input)),
            held_out: Arc::new(ResizedDataset::new(held_out, input)),
            dataset,
        })
    }
}
