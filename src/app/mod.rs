//! The eframe desktop app.
//!
//! Until the visualizer lands this is a small window: the first image of the dataset with its
//! GT boxes and the positive anchors of the default assigner, and the assignment counts. The
//! inspection runs on a background thread; the UI only polls a channel.

pub mod panels;
pub mod plot_export;
pub mod state;
pub mod worker;

use crate::config::LabConfig;
use crate::inspect::{Inspection, inspect};
use anyhow::{Result, anyhow};
use crossbeam_channel::{Receiver, bounded};

/// Arguments of `anchorscope gui`.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct GuiArgs {
    /// Dataset SPEC: `synthetic[:PRESET][@SEED]` (default `synthetic:shapes@0`).
    #[arg(long)]
    pub dataset: Option<String>,
}

/// Opens the app window and blocks until it is closed.
pub fn run(args: GuiArgs) -> Result<()> {
    if let Some(spec) = &args.dataset {
        crate::data::DatasetSpec::parse(spec)?;
    }
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("anchorscope")
        .with_inner_size([1100.0, 760.0]);
    if let Ok(icon) = eframe::icon_data::from_png_bytes(include_bytes!("../../assets/icon.png")) {
        viewport = viewport.with_icon(icon);
    }
    let options = eframe::NativeOptions {
        viewport,
        renderer: eframe::Renderer::Wgpu,
        ..Default::default()
    };
    eframe::run_native(
        "anchorscope",
        options,
        Box::new(move |cc| Ok(Box::new(PlaceholderApp::new(args, &cc.egui_ctx)))),
    )
    .map_err(|e| anyhow!("cannot open the window: {e}"))
}

/// The placeholder app.
struct PlaceholderApp {
    spec: String,
    pending: Option<Receiver<Result<Inspection, String>>>,
    result: Option<Result<Inspection, String>>,
    texture: Option<egui::TextureHandle>,
}

impl PlaceholderApp {
    fn new(args: GuiArgs, ctx: &egui::Context) -> Self {
        let spec = args.dataset.unwrap_or_else(|| "synthetic:shapes@0".into());
        let (tx, rx) = bounded(1);
        let (job_spec, repaint) = (spec.clone(), ctx.clone());
        std::thread::spawn(move || {
            let r = inspect(&job_spec, 0, &LabConfig::default()).map_err(|e| format!("{e:#}"));
            let _ = tx.send(r);
            repaint.request_repaint();
        });
        Self { spec, pending: Some(rx), result: None, texture: None }
    }

    fn image_ui(ui: &mut egui::Ui, ins: &Inspection, texture: &egui::TextureHandle) {
        let (w, h) = ins.sample.size();
        let avail = ui.available_size();
        let scale = (avail.x / w as f32).min(avail.y / h as f32).max(0.1);
        let (rect, _) = ui.allocate_exact_size(egui::vec2(w as f32, h as f32) * scale, egui::Sense::hover());
        let painter = ui.painter_at(rect);
        let uv = egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
        painter.image(texture.id(), rect, uv, egui::Color32::WHITE);
        let to_screen = |b: &[f32; 4]| {
            egui::Rect::from_min_max(
                rect.min + egui::vec2(b[0], b[1]) * scale,
                rect.min + egui::vec2(b[2], b[3]) * scale,
            )
        };
        let pos = egui::Stroke::new(1.0, egui::Color32::from_rgba_unmultiplied(80, 220, 120, 160));
        for (a, &l) in ins.anchors.boxes.iter().zip(&ins.assign.labels) {
            if l > 0 {
                painter.rect_stroke(to_screen(a), 0.0, pos, egui::StrokeKind::Middle);
            }
        }
        let gt = egui::Stroke::new(2.0, egui::Color32::from_rgb(255, 200, 40));
        for (b, &c) in ins.sample.boxes.iter().zip(&ins.sample.classes) {
            let r = to_screen(b);
            painter.rect_stroke(r, 0.0, gt, egui::StrokeKind::Outside);
            let name = ins.class_names.get(c).map(String::as_str).unwrap_or("?");
            painter.text(r.left_top(), egui::Align2::LEFT_BOTTOM, name, egui::FontId::proportional(13.0), gt.color);
        }
    }
}

impl eframe::App for PlaceholderApp {
    fn logic(&mut self, _ctx: &egui::Context, _frame: &mut eframe::Frame) {
        if let Some(rx) = &self.pending
            && let Ok(r) = rx.try_recv()
        {
            self.result = Some(r);
            self.pending = None;
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        if self.texture.is_none()
            && let Some(Ok(ins)) = &self.result
        {
            let (w, h) = ins.sample.size();
            let img = egui::ColorImage::from_rgb([w as usize, h as usize], ins.sample.image.as_raw());
            self.texture = Some(ui.ctx().load_texture("image", img, egui::TextureOptions::NEAREST));
        }
        egui::Panel::left("summary").default_size(280.0).show(ui, |ui| {
            ui.heading("anchorscope");
            ui.label(format!("Dataset: {}", self.spec));
            ui.separator();
            match &self.result {
                None => {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label("Generating image 0 and assigning anchors...");
                    });
                }
                Some(Err(e)) => {
                    ui.colored_label(egui::Color32::RED, e);
                }
                Some(Ok(ins)) => {
                    let a = &ins.assign;
                    ui.label(format!("Image 0: {} x {} px, {} GT boxes", ins.sample.size().0, ins.sample.size().1, ins.sample.boxes.len()));
                    ui.label(format!("Anchors: {}", ins.anchors.len()));
                    ui.label(format!("Positive: {}", a.num_pos()));
                    ui.label(format!("Negative: {}", a.num_neg()));
                    ui.label(format!("Ignored: {}", a.num_ignored()));
                    ui.label(format!(
                        "Negatives per positive: {:.0}",
                        a.num_neg() as f64 / a.num_pos().max(1) as f64
                    ));
                    ui.separator();
                    ui.label("Yellow: GT boxes. Green: positive anchors (MaxIoU 0.5 / 0.4, low-quality matching).");
                    ui.label("The full visualizer (overlays, samplers, loss explorer) is on its way.");
                }
            }
        });
        egui::CentralPanel::default().show(ui, |ui| {
            if let (Some(Ok(ins)), Some(tex)) = (&self.result, &self.texture) {
                Self::image_ui(ui, ins, tex);
            }
        });
    }
}
