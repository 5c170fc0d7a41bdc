//! The eframe desktop app. Until the visualizer lands this is a small window that shows the
//! first synthetic scene with its ground-truth boxes and the anchor assignment counts.

use anyhow::{Result, anyhow};

/// Arguments of `anchorscope gui`.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct GuiArgs {
    /// Dataset SPEC: `synthetic[:PRESET][@SEED]` (default `synthetic:shapes@0`).
    #[arg(long)]
    pub dataset: Option<String>,
}

/// Opens the app window and blocks until it is closed.
pub fn run(args: GuiArgs) -> Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("anchorscope")
            .with_inner_size([1100.0, 760.0]),
        renderer: eframe::Renderer::Wgpu,
        ..Default::default()
    };
    eframe::run_native(
        "anchorscope",
        options,
        Box::new(move |_cc| Ok(Box::new(PlaceholderApp::new(args)))),
    )
    .map_err(|e| anyhow!("cannot open the window: {e}"))
}

/// The placeholder app.
struct PlaceholderApp {
    args: GuiArgs,
}

impl PlaceholderApp {
    fn new(args: GuiArgs) -> Self {
        Self { args }
    }
}

impl eframe::App for PlaceholderApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.heading("anchorscope");
            ui.label(format!(
                "Dataset: {}",
                self.args.dataset.as_deref().unwrap_or("synthetic:shapes@0")
            ));
        });
    }
}
