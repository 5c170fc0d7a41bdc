//! The eframe desktop app: an image with its anchors coloured by the assigner, the sampler or
//! the loss, and tabs to change and study each of them. The UI thread only draws and polls
//! channels: datasets, inspections and statistics come from a worker thread.

pub mod anchor_colors;
mod anchorscope_app;
mod chrome;
pub mod compare;
pub mod image_view;
pub mod lesson;
pub mod overlay;
pub mod panels;
pub mod plot_export;
pub mod state;
pub mod worker;

pub use anchorscope_app::{AnchorscopeApp, AppOptions};

use anyhow::{Result, anyhow, bail};
use std::path::PathBuf;

/// Arguments of `anchorscope gui`.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct GuiArgs {
    /// Dataset SPEC: `synthetic[:PRESET][@SEED]` (default: the last session's, or `synthetic:shapes@0`).
    #[arg(long)]
    pub dataset: Option<String>,
    /// Render the window, write it as a PNG to this path and exit.
    #[arg(long)]
    pub screenshot: Option<PathBuf>,
    /// Tab to show: anchors, sampler, loss, stats, training, evaluation, sweep.
    #[arg(long)]
    pub tab: Option<String>,
    /// Image index to show.
    #[arg(long)]
    pub image: Option<usize>,
    /// COCO ground truth to evaluate at start (with `--eval-dt`; shown in the Evaluation tab).
    #[arg(long, requires = "eval_dt")]
    pub eval_gt: Option<PathBuf>,
    /// COCO results to evaluate at start (with `--eval-gt`).
    #[arg(long, requires = "eval_gt")]
    pub eval_dt: Option<PathBuf>,
    /// Open the compare view (two halves, key C).
    #[arg(long)]
    pub compare: bool,
    /// A folder `anchorscope sweep` wrote, opened in the Sweep tab (shown unless --tab says
    /// otherwise).
    #[arg(long, value_name = "DIR")]
    pub sweep: Option<PathBuf>,
    /// A lesson file (TOML of the app's state: dataset, image, tab, overlay, losses,
    /// samplers) to open instead of the last session's settings.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// Opens the app window and blocks until it is closed.
pub fn run(args: GuiArgs) -> Result<()> {
    let opts = AppOptions::from_args(&args)?;
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("anchorscope")
        .with_inner_size([1280.0, 800.0]);
    if let Ok(icon) = eframe::icon_data::from_png_bytes(include_bytes!("../../assets/icon.png")) {
        viewport = viewport.with_icon(icon);
    }
    let options = eframe::NativeOptions {
        viewport,
        renderer: eframe::Renderer::Wgpu,
        persist_window: opts.screenshot.is_none(),
        ..Default::default()
    };
    let outcome = std::sync::Arc::new(std::sync::Mutex::new(None::<Result<(), String>>));
    let out2 = outcome.clone();
    eframe::run_native(
        "anchorscope",
        options,
        Box::new(move |cc| Ok(Box::new(AnchorscopeApp::new(cc, opts, Some(out2))))),
    )
    .map_err(|e| anyhow!("cannot open the window: {e}"))?;
    let r = outcome.lock().expect("outcome").take();
    match r {
        Some(Err(e)) => bail!(e),
        _ => Ok(()),
    }
}

impl AppOptions {
    /// Options from the command line; the error names the bad argument.
    pub fn from_args(args: &GuiArgs) -> Result<Self> {
        if let Some(spec) = &args.dataset {
            crate::data::DatasetSpec::parse(spec)?;
        }
        let tab = match &args.tab {
            Some(t) => Some(state::Tab::parse(t).ok_or_else(|| {
                anyhow!("--tab {t}: unknown tab (known: anchors, sampler, loss, stats, training, evaluation, sweep)")
            })?),
            None => None,
        };
        let lesson = match &args.config {
            Some(p) => Some(lesson::load(p).map_err(|e| anyhow!(e))?),
            None => None,
        };
        Ok(Self {
            lesson,
            dataset: args.dataset.clone(),
            screenshot: args.screenshot.clone(),
            tab,
            image: args.image,
            eval_files: args.eval_gt.clone().zip(args.eval_dt.clone()),
            compare: args.compare,
            sweep: args.sweep.clone(),
        })
    }
}
