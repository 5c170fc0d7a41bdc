//! The eframe desktop app.
