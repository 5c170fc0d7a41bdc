//! `anchorscope bench-ui`: the whole app frame (logic, UI, tessellation, wgpu rendering into an
//! offscreen target and waiting for the GPU) with the Training tab open and a run training on
//! the default synthetic `shapes` data (256 x 256), headless. Prints p50 / p95 / max beside the
//! 50 ms target.

use crate::app::state::Tab;
use crate::app::{AnchorscopeApp, AppOptions};
use anyhow::{Context as _, Result, anyhow, bail};
use eframe::App;
use eframe::egui_wgpu::{self, RenderState, ScreenDescriptor, wgpu};
use std::time::{Duration, Instant};

/// Frame time the UI must stay under while training.
pub const TARGET_MS: f64 = 50.0;

/// Arguments of `anchorscope bench-ui`.
#[derive(clap::Args, Debug, Clone)]
pub struct BenchUiArgs {
    /// Frames measured.
    #[arg(long, default_value_t = 300)]
    pub frames: usize,
    /// Pause between frames in ms (the trainer asks for a repaint 20 ms after each event).
    #[arg(long, default_value_t = 20)]
    pub interval_ms: u64,
    /// Measure with no run training (the idle Training tab).
    #[arg(long)]
    pub no_training: bool,
}

/// An offscreen egui renderer on the adapter wgpu picks (`WGPU_BACKEND` is honoured).
struct Offscreen {
    rs: RenderState,
    size: [u32; 2],
}

impl Offscreen {
    fn new(size: [u32; 2]) -> Result<Self> {
        let mut setup = egui_wgpu::WgpuSetupCreateNew::without_display_handle();
        if let Some(b) = wgpu::Backends::from_env() {
            setup.instance_descriptor.backends = b;
        }
        let setup = egui_wgpu::WgpuSetup::CreateNew(setup);
        let instance = pollster::block_on(setup.new_instance());
        let config = egui_wgpu::WgpuConfiguration {
            wgpu_setup: setup,
            ..Default::default()
        };
        let rs = pollster::block_on(RenderState::create(
            &config,
            &instance,
            None,
            egui_wgpu::RendererOptions::default(),
        ))
        .map_err(|e| anyhow!("no wgpu adapter: {e}"))?;
        Ok(Self { rs, size })
    }

    /// Uploads textures, tessellates and renders one frame, and waits for the GPU.
    fn render(&self, ctx: &egui::Context, out: egui::FullOutput, clear: [f32; 4]) -> Result<()> {
        let mut renderer = self.rs.renderer.write();
        let (device, queue) = (&self.rs.device, &self.rs.queue);
        for (id, deltas) in &out.textures_delta.set {
            for delta in deltas {
                renderer.update_texture(device, queue, *id, delta);
            }
        }
        let ppp = out.pixels_per_point;
        let jobs = ctx.tessellate(out.shapes, ppp);
        let screen = ScreenDescriptor {
            size_in_pixels: self.size,
            pixels_per_point: ppp,
        };
        let mut enc = device.create_command_encoder(&Default::default());
        let user = renderer.update_buffers(device, queue, &mut enc, &jobs, &screen);
        let texture = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("bench-ui target"),
            size: wgpu::Extent3d {
                width: self.size[0],
                height: self.size[1],
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: self.rs.target_format,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
            view_formats: &[],
        });
        let view = texture.create_view(&Default::default());
        {
            let mut pass = enc
                .begin_render_pass(&wgpu::RenderPassDescriptor {
                    label: Some("bench-ui pass"),
                    color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                        view: &view,
                        resolve_target: None,
                        ops: wgpu::Operations {
                            load: wgpu::LoadOp::Clear(wgpu::Color {
                                r: clear[0] as f64,
                                g: clear[1] as f64,
                                b: clear[2] as f64,
                                a: clear[3] as f64,
                            }),
                            store: wgpu::StoreOp::Store,
                        },
                        depth_slice: None,
                    })],
                    ..Default::default()
                })
                .forget_lifetime();
            renderer.render(&mut pass, &jobs, &screen);
        }
        queue.submit(user.into_iter().chain(std::iter::once(enc.finish())));
        device
            .poll(wgpu::PollType::Wait {
                submission_index: None,
                timeout: Some(Duration::from_secs(10)),
            })
            .map_err(|e| anyhow!("GPU wait: {e}"))?;
        for id in &out.textures_delta.free {
            renderer.free_texture(id);
        }
        Ok(())
    }
}

/// Runs the benchmark and prints the figures.
pub fn run(args: &BenchUiArgs) -> Result<()> {
    let size = [1280u32, 800];
    let gpu = Offscreen::new(size)?;
    let info = gpu.rs.adapter.get_info();
    let adapter = format!("{} ({:?})", info.name, info.backend);
    let ctx = egui::Context::default();
    let mut cc = eframe::CreationContext::_new_kittest(ctx.clone());
    cc.wgpu_render_state = Some(gpu.rs.clone());
    let mut frame = eframe::Frame::_new_kittest();
    frame.wgpu_render_state = Some(gpu.rs.clone());
    let opts = AppOptions {
        tab: Some(Tab::Training),
        ..AppOptions::default()
    };
    let mut app = AnchorscopeApp::new(&cc, opts, None);
    let started = Instant::now();
    let mut one_frame = |app: &mut AnchorscopeApp| -> Result<f64> {
        let raw = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(
                egui::Pos2::ZERO,
                egui::vec2(size[0] as f32, size[1] as f32),
            )),
            time: Some(started.elapsed().as_secs_f64()),
            ..Default::default()
        };
        let t = Instant::now();
        let _ = ctx.run_logic(&raw, |c| app.logic(c, &mut frame));
        let out = ctx.run_ui(raw, |ui| app.ui(ui, &mut frame));
        let clear = app.clear_color(&ctx.global_style().visuals);
        gpu.render(&ctx, out, clear)?;
        Ok(t.elapsed().as_secs_f64() * 1e3)
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while !app.is_idle() {
        one_frame(&mut app)?;
        if Instant::now() > deadline {
            bail!("the app did not settle within 120 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let ins = app.inspection.clone().context("no inspection")?;
    let (w, h) = ins.sample.size();
    if !args.no_training {
        let nc = app
            .dataset
            .as_ref()
            .map_or(1, |d| d.class_names.len().max(1));
        app.training.start(&app.state, nc);
        // wait for the first steps so the plots have data
        while app.training.metrics_received < 3 {
            one_frame(&mut app)?;
            if let Some(e) = &app.training.error {
                bail!("training: {e}");
            }
            if Instant::now() > deadline {
                bail!("no training step within 120 s");
            }
            std::thread::sleep(Duration::from_millis(args.interval_ms));
        }
    }
    let steps0 = app.training.metrics_received;
    let t0 = Instant::now();
    let mut times = Vec::with_capacity(args.frames);
    for _ in 0..args.frames.max(1) {
        times.push(one_frame(&mut app)?);
        std::thread::sleep(Duration::from_millis(args.interval_ms));
    }
    let secs = t0.elapsed().as_secs_f64();
    let steps = app.training.metrics_received - steps0;
    times.sort_by(f64::total_cmp);
    let q = |f: f64| times[((times.len() - 1) as f64 * f).round() as usize];
    let (p50, p95, max) = (q(0.5), q(0.95), *times.last().unwrap_or(&0.0));
    println!(
        "UI frame (logic + UI + tessellation + wgpu render, GPU waited), Training tab, {w} x {h} \
         synthetic shapes, {}",
        if args.no_training {
            "no training".to_string()
        } else {
            format!("training running ({steps} steps in {secs:.1} s)")
        }
    );
    println!(
        "adapter {adapter}, {} frames, {} CPU threads available",
        times.len(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "frame time p50 {p50:.1} ms, p95 {p95:.1} ms, max {max:.1} ms (target: {TARGET_MS:.0} ms)"
    );
    let verdict = if p95 <= TARGET_MS { "within" } else { "over" };
    println!("p95 is {verdict} the {TARGET_MS:.0} ms target");
    Ok(())
}
