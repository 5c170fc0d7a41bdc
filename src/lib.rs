//! anchorscope: a desktop lab for imbalance in object detection.
//!
//! The pure, GPU-free library lives in the modules below; every formula of the product is
//! written once here and called by the app, the command line and the trainer.
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
