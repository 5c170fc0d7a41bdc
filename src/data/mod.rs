//! Datasets: the built-in synthetic scenes, COCO / Pascal VOC / YOLO files, dataset SPEC
//! parsing, the validation report, the model-input resize and dataset statistics.
//!
//! - [`Sample`] and the [`Dataset`] trait are what every source provides, [`DataError`] what
//!   they fail with.
//! - [`DatasetSpec`] parses the command-line SPEC (`synthetic[:PRESET][@SEED]`,
//!   `coco:ANNOTATIONS.json[:IMAGES_DIR]`, `voc:DIR`, `yolo:DATA.yaml`) and opens it.
//! - [`synthetic`] draws deterministic scenes with class, scale, location and crowding knobs.
//! - [`coco`], [`voc`] and [`yolo`] parse the three file formats (from memory, so they can be
//!   fuzzed); [`files`] turns what they parse into a [`FileDataset`] with splits, checking every
//!   image; [`report`] names every problem found.
//! - [`config`] is the `[data]` table of a run config; [`input`] resizes or letterboxes samples to the model's input size.
//! - [`remedies`] are the data remedies (tiling, class merging, repeat-factor oversampling,
//!   undersampling), each a [`Dataset`] view over another.
//! - [`stats`] holds pure statistics (histograms, class counts, centre heatmaps, anchor label
//!   counts) for the plots.

pub mod coco;
pub mod config;
mod dataset_stats;
pub mod files;
pub mod input;
pub mod remedies;
pub mod report;
mod sample;
mod spec;
pub mod stats;
pub mod synthetic;
#[cfg(test)]
pub(crate) mod test_support;
pub mod voc;
pub mod yolo;

pub use config::{DataConfig, TrainingViews};
pub use dataset_stats::{DatasetStats, dataset_stats};
pub use files::{FileDataset, OpenOptions, Split};
pub use input::{InputSize, ResizeMode, ResizedDataset};
pub use report::{Code, Problem, Report};
pub use sample::{AnnotationView, Annotations, DataError, Dataset, Sample};
pub use spec::DatasetSpec;
pub use synthetic::{SyntheticConfig, SyntheticDataset};
