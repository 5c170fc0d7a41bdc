//! Plot exports (CSV, PNG crops of a screenshot) and the `--screenshot` mode.

use super::AnchorscopeApp;
use crate::app::plot_export::{ExportRequest, crop_screenshot, series_csv};
use std::sync::Arc;
use std::time::{Duration, Instant};

impl AnchorscopeApp {
    /// Performs queued exports: CSV at once (on a thread), PNG after the next screenshot.
    pub(super) fn run_exports(&mut self, ctx: &egui::Context) {
        for r in self.exports.take() {
            match r {
                ExportRequest::Csv { path, series } => {
                    self.write_file(path, series_csv(&series));
                }
                ExportRequest::Text { path, text } => self.write_file(path, text),
                ExportRequest::Png { path, rect } => {
                    self.pending_png.push((path, rect));
                    self.request_screenshot(ctx);
                }
            }
        }
    }

    /// Writes `text` to `path` on a thread (the UI never waits on the disk).
    fn write_file(&mut self, path: std::path::PathBuf, text: String) {
        let shown = path.display().to_string();
        std::thread::spawn(move || {
            if let Some(d) = path.parent() {
                let _ = std::fs::create_dir_all(d);
            }
            let _ = std::fs::write(&path, text);
        });
        self.notice = Some((format!("Wrote {shown}"), Instant::now()));
    }

    /// Handles screenshots: plot PNG exports and the `--screenshot` mode.
    pub(super) fn handle_screenshots(&mut self, ctx: &egui::Context) {
        let shots: Vec<Arc<egui::ColorImage>> =
            std::mem::take(&mut *self.shots.lock().expect("shots"));
        let ppp = ctx.pixels_per_point();
        for image in shots {
            for (path, rect) in std::mem::take(&mut self.pending_png) {
                let crop = crop_screenshot(&image, rect, ppp);
                let shown = path.display().to_string();
                std::thread::spawn(move || {
                    if let Some(d) = path.parent() {
                        let _ = std::fs::create_dir_all(d);
                    }
                    let _ = crop.save(&path);
                });
                self.notice = Some((format!("Wrote {shown}"), Instant::now()));
            }
            if let Some(path) = self.opts.screenshot.clone()
                && self.screenshot_sent
            {
                let [w, h] = image.size;
                let rgba: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_array()).collect();
                let r = image::RgbaImage::from_raw(w as u32, h as u32, rgba)
                    .ok_or_else(|| "screenshot has a wrong size".to_string())
                    .and_then(|img| {
                        img.save(&path)
                            .map_err(|e| format!("{}: {e}", path.display()))
                    });
                self.finish(ctx, r);
            }
        }
        if self.opts.screenshot.is_some() && !self.screenshot_sent {
            let waited = self.started.elapsed();
            if let Some(e) = &self.error {
                let msg = e.clone();
                self.finish(ctx, Err(msg));
            } else if self.is_idle() && waited > Duration::from_millis(800) {
                self.screenshot_sent = true;
                self.request_screenshot(ctx);
            } else if waited > Duration::from_secs(120) {
                self.finish(
                    ctx,
                    Err("--screenshot: timed out waiting for the data".into()),
                );
            }
            ctx.request_repaint_after(Duration::from_millis(50));
        }
    }

    pub(super) fn request_screenshot(&self, ctx: &egui::Context) {
        let (inbox, repaint) = (self.shots.clone(), ctx.clone());
        ctx.request_screenshot(move |img| {
            inbox.lock().expect("shots").push(img);
            repaint.request_repaint();
        });
    }

    pub(super) fn finish(&mut self, ctx: &egui::Context, r: Result<(), String>) {
        if let Some(o) = &self.outcome {
            *o.lock().expect("outcome") = Some(r);
        }
        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
    }
}
