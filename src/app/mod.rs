//! The eframe desktop app.

pub mod overlay;
