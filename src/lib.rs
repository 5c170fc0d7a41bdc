//! anchorscope: a desktop lab for imbalance in object detection.
//!
//! Every formula of the product is written once in the library modules below and called by
//! the app, the command line and the trainer. Layers import only downwards: `geometry`,
//! `anchors`, `assign`, `sample`, `losses`, `data`, `config`, `inspect`, `backend`, `model`,
//! `train`, `eval`, `sweep`, `interop`, then `cli` and `app`.
//!
//! Features (both on by default): `gpu` adds the wgpu backend ([`backend::gpu`], GPU
//! training); `app` (which implies `gpu`) adds the eframe desktop app (`app`) and its
//! commands. Without them the library and the headless commands build with no GPU or UI
//! crate linked.
//!
//! Conventions used everywhere:
//! - boxes are `xyxy` in continuous pixel coordinates (no `+1`), see [`geometry::Box4`];
//! - assignment labels follow MMDetection: `-1` ignored, `0` negative, `k > 0` matched GT `k-1`.

pub mod anchors;
#[cfg(feature = "app")]
pub mod app;
pub mod assign;
pub mod backend;
pub mod cli;
pub mod config;
pub mod data;
pub mod eval;
pub mod geometry;
pub mod inspect;
pub mod interop;
pub mod losses;
pub mod model;
pub mod sample;
pub mod sweep;
pub mod train;
