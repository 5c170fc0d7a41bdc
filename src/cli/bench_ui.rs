//! UI figures for `anchorscope bench`: the CPU time of one app frame (egui pass plus
//! tessellation) with the UI idle, measured headless.

use super::bench::Figure;
use crate::app::{AnchorscopeApp, AppOptions};
use eframe::App;
use std::time::{Duration, Instant};

/// The app's figures for `anchorscope bench`: an idle frame, and the image view with 100k
/// and 200k anchors offscreen.
pub fn push_app_figures(quick: bool, figures: &mut Vec<Figure>) {
    match idle_frame_ms(60) {
        Ok(ms) => figures.push(Figure {
            name: "app frame, UI idle (egui pass + tessellation)".into(),
            value: ms,
            unit: "ms".into(),
            reference: Some(16.7),
            reference_label: "one 60 Hz frame".into(),
        }),
        Err(e) => eprintln!("bench: idle frame: {e}"),
    }

    for n in [100_000, 200_000] {
        match overlay_frame_ms(if quick { 2 } else { 5 }, n) {
            Ok((ms, adapter)) => figures.push(Figure {
                name: format!("image view, {n} anchors offscreen on {adapter}"),
                value: ms,
                unit: "ms".into(),
                reference: Some(16.7),
                reference_label: "one 60 Hz frame".into(),
            }),
            Err(e) => eprintln!("bench: overlay frame: {e}"),
        }
    }
}

/// Median CPU time in ms of an idle app frame (UI code + tessellation, no GPU submission),
/// after the default dataset's first image is inspected.
pub fn idle_frame_ms(frames: usize) -> Result<f64, String> {
    let ctx = egui::Context::default();
    let cc = eframe::CreationContext::_new_kittest(ctx.clone());
    let mut frame = eframe::Frame::_new_kittest();
    let mut app = AnchorscopeApp::new(&cc, AppOptions::default(), None);
    let input = || egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1280.0, 800.0),
        )),
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

/// Mean time in ms of an offscreen frame of the image-view overlay drawing `n` (at most
/// 228,915) anchor outlines (RetinaNet P3-P7 anchors of a 1100 x 1100 image, zoom 0.73) into
/// 1280 x 800, and the adapter.
pub fn overlay_frame_ms(frames: u32, n: usize) -> Result<(f64, String), String> {
    use crate::app::overlay::{BoxInstance, BoxSet, OffscreenOverlay, OverlayView, request_device};
    let (device, queue, info) = request_device().map_err(|e| format!("{e:#}"))?;
    let anchors = crate::anchors::AnchorConfig::retinanet_p3_p7().generate(1100, 1100);
    let colours = [
        [0.3, 0.9, 0.4, 0.6],
        [0.35, 0.55, 0.9, 0.6],
        [1.0, 0.65, 0.15, 0.6],
    ];
    let boxes: Vec<BoxInstance> = anchors
        .boxes
        .iter()
        .take(n)
        .enumerate()
        .map(|(i, b)| BoxInstance::new(*b).with_outline(colours[i % 3], 1.0))
        .collect();
    let set = BoxSet::new(boxes);
    let mut target = OffscreenOverlay::new(&device, 1280, 800, 1);
    let view = OverlayView::new(800.0 / 1100.0, [240.0, 0.0]);
    let t = target.time_frames(&device, &queue, &set, &view, frames);
    Ok((
        t.mean.as_secs_f64() * 1e3,
        format!("{} ({:?})", info.name, info.backend),
    ))
}
