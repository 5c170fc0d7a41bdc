//! UI figures for `anchorscope bench`: the CPU time of one app frame (egui pass plus
//! tessellation) with the UI idle, measured headless.

use crate::app::{AnchorscopeApp, AppOptions};
use eframe::App;
use std::time::{Duration, Instant};

/// Median CPU time in ms of an idle app frame (UI code + tessellation, no GPU submission),
/// after the default dataset's first image is inspected.
pub fn idle_frame_ms(frames: usize) -> Result<f64, String> {
    let ctx = egui::Context::default();
    let cc = eframe::CreationContext::_new_kittest(ctx.clone());
    let mut frame = eframe::Frame::_new_kittest();
    let mut app = AnchorscopeApp::new(&cc, AppOptions::default(), None);
    let input = || egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1280.0, 800.0))),
        ..Default::default()
    };
    let mut run_frame = |app: &mut AnchorscopeApp| {
        let raw = input();
        let _ = ctx.run_logic(&raw, |c| app.logic(c, &mut frame));
        let out = ctx.run_ui(raw, |ui| app.ui(ui, &mut frame));
        std::hint::black_box(ctx.tessellate(out.shapes, out.pixels_per_point));
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !app.is_idle() {
        run_frame(&mut app);
        if Instant::now() > deadline {
            return Err("the app did not settle within 60 s".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    for _ in 0..5 {
        run_frame(&mut app);
    }
    let mut t: Vec<f64> = (0..frames.max(1))
        .map(|_| {
            let s = Instant::now();
            run_frame(&mut app);
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    Ok(t[t.len() / 2])
}
