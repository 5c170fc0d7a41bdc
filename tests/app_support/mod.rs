//! The app in an egui_kittest harness, shared by the app tests (`app_ui`, `app_compare`,
//! `app_datasets`): opened at 1280 x 800 with the wgpu renderer (lavapipe in CI), and stepped
//! until it has no outstanding work.

use anchorscope::app::{AnchorscopeApp, AppOptions};
use anchorscope::backend::gpu::skip_without_gpu;
use egui_kittest::Harness;
use std::time::{Duration, Instant};

/// The app with `opts`, or None when there is no wgpu adapter (a printed skip; a failure
/// with `ANCHORSCOPE_REQUIRE_GPU=1`).
pub fn app_harness(opts: AppOptions) -> Option<Harness<'static, AnchorscopeApp>> {
    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    if pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default()))
        .is_err()
    {
        skip_without_gpu("no wgpu adapter");
        return None;
    }
    Some(
        Harness::builder()
            .with_size(egui::vec2(1280.0, 800.0))
            .wgpu()
            .build_eframe(move |cc| AnchorscopeApp::new(cc, opts.clone(), None)),
    )
}

/// Tiny scenes (64 x 64, objects of 12-40 px, `images` of them) so training steps are quick.
#[allow(dead_code)] // app_datasets does not train
pub fn tiny_scenes(s: &mut anchorscope::app::state::AppState, images: usize) {
    s.dataset.synthetic.width = 64;
    s.dataset.synthetic.height = 64;
    s.dataset.synthetic.size_range = [12.0, 40.0];
    s.dataset.len = images;
}

/// Steps the harness until the app has no outstanding work (at most a minute).
pub fn settle(h: &mut Harness<'static, AnchorscopeApp>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    // one frame handles a queued click (a settings change), the next schedules its jobs
    h.step();
    loop {
        h.step();
        if h.state().is_idle() {
            h.run_steps(2);
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the app did not settle: {:?}",
            h.state().error
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
