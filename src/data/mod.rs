//! Datasets: the built-in synthetic scenes, dataset SPEC parsing and dataset statistics.
//!
//! - [`Sample`] and the [`Dataset`] trait are what every source provides (the synthetic
//!   generator now; COCO, VOC and YOLO loaders later), [`DataError`] what they fail with.
//! - [`DatasetSpec`] parses the command-line SPEC (`synthetic[:PRESET][@SEED]`,
//!   `coco:ANNOTATIONS.json[:IMAGES_DIR]`, `voc:DIR`, `yolo:DATA.yaml`) and opens it.
//! - [`synthetic`] draws deterministic scenes with class, scale, location and crowding knobs.
//! - [`stats`] holds pure statistics (histograms, class counts, centre heatmaps, anchor label
//!   counts) for the plots.

mod dataset_stats;
mod sample;
mod spec;
pub mod stats;
pub mod synthetic;

pub use dataset_stats::{DatasetStats, dataset_stats};
pub use sample::{AnnotationView, DataError, Dataset, Sample};
pub use spec::DatasetSpec;
pub use synthetic::{SyntheticConfig, SyntheticDataset};
