//! The `[data]` settings of a run config (TOML): the model input size and resize mode, the
//! image limits, and opening a file dataset for training (train and held-out views brought to
//! the input size).

use super::files::{DEFAULT_MAX_PIXELS, FileDataset, OpenOptions};
use super::input::{InputSize, ResizeMode, ResizedDataset};
use super::{DataError, Dataset, DatasetSpec};
use serde::{Deserialize, Serialize};
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
        Ok(())
    }

    /// Opens a COCO, VOC or YOLO SPEC for training; `seed` draws the held-out 10% when the
    /// dataset has no validation split.
    pub fn open_for_training(
        &self,
        spec: &DatasetSpec,
        seed: u64,
    ) -> Result<TrainingViews, DataError> {
        let dataset = FileDataset::open(spec, &self.open_options())?;
        let (t, v) = dataset.train_val(seed);
        let input = self.input();
        Ok(TrainingViews {
            train: Arc::new(ResizedDataset::new(Arc::new(t), input)),
            held_out: Arc::new(ResizedDataset::new(Arc::new(v), input)),
            dataset,
        })
    }
}
