//! The Sweep tab: a folder `anchorscope sweep` wrote (finished or still running) as a
//! sortable results table ([`table`]), every run's curves overlaid ([`curves`]), and any
//! finished run reopened ([`reopen`]): its checkpoint behind the views, its evaluation in the
//! Evaluation tab. The folder dialog, the folder's reading and the checkpoint's all run on
//! helper threads; the UI only polls their answers.

pub mod curves;
pub mod load;
pub mod reopen;
pub mod table;
#[cfg(test)]
mod tests;

use crate::app::plot_export::PlotExports;
use crossbeam_channel::{Receiver, bounded};
pub use curves::{CurveLine, CurveMetric};
pub use load::{SweepData, SweepRun, load_sweep};
pub use reopen::Reopened;
use std::path::PathBuf;
use std::sync::Arc;

/// Asks the user for a sweep folder (runs on a helper thread; `None`: cancelled).
pub type FolderPicker = Arc<dyn Fn() -> Option<PathBuf> + Send + Sync>;

/// The native folder dialog (rfd).
pub fn rfd_folder() -> FolderPicker {
    Arc::new(|| {
        rfd::FileDialog::new()
            .set_title("Open a sweep folder (anchorscope sweep --out DIR)")
            .pick_folder()
    })
}

/// The column the table is sorted by, and which way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort {
    /// Index into [`table::header`].
    pub column: usize,
    /// Largest first.
    pub descending: bool,
}

/// The tab's runtime: the opened sweep, its table's order and selection, and the helper
/// threads' answers still to come.
pub struct SweepTab {
    wake: egui::Context,
    picker: FolderPicker,
    dialog: Option<Receiver<Option<PathBuf>>>,
    loading: Option<(PathBuf, Receiver<Result<SweepData, String>>)>,
    reopening: Option<(String, Receiver<Result<Reopened, String>>)>,
    /// The opened sweep.
    pub data: Option<Arc<SweepData>>,
    /// The last error (one line naming the file).
    pub error: Option<String>,
    /// The table's sort (`None`: plan order).
    pub sort: Option<Sort>,
    /// The runs in table order (indices into [`SweepData::runs`]).
    pub order: Vec<usize>,
    /// The selected run.
    pub selected: Option<usize>,
    /// The run under the pointer in the last frame.
    pub hovered: Option<usize>,
    /// The column the curves show.
    pub metric: CurveMetric,
    /// Curves on a log10 axis.
    pub log_scale: bool,
    /// What was reopened last (for the status bar).
    pub reopened: Option<String>,
    /// The lines the plot drew in the last frame.
    pub drawn: Vec<CurveLine>,
}

/// Runs `f` on a named helper thread; its answer arrives on the receiver, and `wake` repaints.
fn on_thread<T: Send + 'static>(
    name: &str,
    wake: egui::Context,
    f: impl FnOnce() -> T + Send + 'static,
) -> Option<Receiver<T>> {
    let (tx, rx) = bounded(1);
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let _ = tx.send(f());
            wake.request_repaint();
        })
        .ok()
        .map(|_| rx)
}

impl SweepTab {
    /// A tab with rfd's folder dialog; `ctx` is woken by its threads.
    pub fn new(ctx: egui::Context) -> Self {
        Self::with_picker(ctx, rfd_folder())
    }

    /// A tab whose folders come from `picker` (tests pass one that needs no user).
    pub fn with_picker(ctx: egui::Context, picker: FolderPicker) -> Self {
        Self {
            wake: ctx,
            picker,
            dialog: None,
            loading: None,
            reopening: None,
            data: None,
            error: None,
            sort: None,
            order: Vec::new(),
            selected: None,
            hovered: None,
            metric: CurveMetric::default(),
            log_scale: true,
            reopened: None,
            drawn: Vec::new(),
        }
    }

    /// True while a dialog is open, a folder is read or a checkpoint is loaded.
    pub fn busy(&self) -> bool {
        self.dialog.is_some() || self.loading.is_some() || self.reopening.is_some()
    }

    /// Reads the sweep in `dir` on a helper thread (a folder being read is forgotten).
    pub fn open(&mut self, dir: PathBuf) {
        self.error = None;
        let d = dir.clone();
        let rx = on_thread("anchorscope-sweep-load", self.wake.clone(), move || {
            load_sweep(&d)
        });
        self.loading = rx.map(|rx| (dir, rx));
    }

    /// Opens the folder dialog on a helper thread.
    fn open_dialog(&mut self) {
        if self.dialog.is_none() {
            let picker = self.picker.clone();
            self.dialog = on_thread("anchorscope-sweep-dialog", self.wake.clone(), move || {
                picker()
            });
        }
    }

    /// Sorts by column `column` of [`table::header`]: ascending, or the other way when it
    /// is the column already sorted by.
    pub fn sort_by(&mut self, column: usize) {
        let descending = self
            .sort
            .is_some_and(|s| s.column == column && !s.descending);
        self.sort = Some(Sort { column, descending });
        if let Some(d) = &self.data {
            self.order = table::sorted_order(d, self.sort);
        }
    }

    /// Reads run `index`'s checkpoint on a helper thread; [`Self::poll`] hands it over.
    pub fn reopen(&mut self, index: usize) {
        let Some(data) = self.data.clone() else {
            return;
        };
        let Some(run) = data.runs.get(index).cloned() else {
            return;
        };
        self.error = None;
        let name = run.name.clone();
        let rx = on_thread("anchorscope-sweep-reopen", self.wake.clone(), move || {
            reopen::reopen_run(&run, &data.dataset)
        });
        self.reopening = rx.map(|rx| (name, rx));
    }

    /// Takes the helper threads' answers; returns a run to reopen once its checkpoint is read.
    pub fn poll(&mut self) -> Option<Reopened> {
        if let Some(rx) = &self.dialog
            && let Ok(answer) = rx.try_recv()
        {
            self.dialog = None;
            if let Some(dir) = answer {
                self.open(dir);
            }
        }
        if let Some((dir, rx)) = &self.loading
            && let Ok(answer) = rx.try_recv()
        {
            let same = self.data.as_ref().is_some_and(|d| &d.dir == dir);
            self.loading = None;
            match answer {
                Ok(data) => self.show(data, same),
                Err(e) => self.error = Some(e),
            }
        }
        let (_, rx) = self.reopening.as_ref()?;
        let answer = rx.try_recv().ok()?;
        self.reopening = None;
        match answer {
            Ok(r) => Some(r),
            Err(e) => {
                self.error = Some(e);
                None
            }
        }
    }

    /// Shows a sweep read from disk; a reload of the same folder keeps sort and selection.
    pub fn show(&mut self, data: SweepData, same_folder: bool) {
        if !same_folder {
            self.selected = None;
            self.reopened = None;
        }
        self.selected = self.selected.filter(|&s| s < data.runs.len());
        self.hovered = None;
        self.sort = self.sort.filter(|s| s.column < table::header(&data).len());
        self.order = table::sorted_order(&data, self.sort);
        self.data = Some(Arc::new(data));
    }

    /// Notes that the app reopened `r` (the status bar names it).
    pub fn reopened_run(&mut self, r: &Reopened) {
        self.reopened = Some(format!(
            "sweep: reopened {} (checkpoint step {}, evaluation of {})",
            r.run,
            r.snapshot.step,
            r.detections.display()
        ));
    }

    /// The status bar's line: the error, or what was reopened.
    pub fn status_line(&self) -> Option<String> {
        self.error
            .as_ref()
            .map(|e| format!("sweep: {e}"))
            .or_else(|| self.reopened.clone())
    }
}

/// The Sweep tab.
pub fn sweep_ui(ui: &mut egui::Ui, tab: &mut SweepTab, exports: &PlotExports) {
    ui.horizontal_wrapped(|ui| {
        if ui.button("Open sweep…").clicked() {
            tab.open_dialog();
        }
        let dir = tab.data.as_ref().map(|d| d.dir.clone());
        if let Some(dir) = dir
            && ui
                .button("Reload")
                .on_hover_text("read the folder again (a sweep still running)")
                .clicked()
        {
            tab.open(dir);
        }
        if tab.busy() {
            ui.spinner();
        }
    });
    if let Some(e) = &tab.error {
        ui.colored_label(ui.visuals().error_fg_color, e);
    }
    let Some(data) = tab.data.clone() else {
        ui.weak(
            "No sweep open: open a folder `anchorscope sweep --out DIR` wrote \
             (or start with `anchorscope gui --sweep DIR`).",
        );
        return;
    };
    ui.label(format!(
        "{}: {} of {} runs finished, on {} ({} held-out images each)",
        data.dir.display(),
        data.finished(),
        data.runs.len(),
        data.dataset,
        data.eval_images
    ));
    // Both ways: a sweep with many varied settings is wider than the panel; the curves keep
    // the panel's width.
    let panel_width = ui.available_width();
    egui::ScrollArea::both().show(ui, |ui| {
        table::table_ui(ui, tab, &data);
        for r in &data.runs {
            if let Some(p) = &r.problem {
                ui.colored_label(ui.visuals().warn_fg_color, format!("{}: {p}", r.name));
            }
        }
        ui.weak("Click a header to sort; double-click a run (or Reopen) to open it.");
        ui.separator();
        let emphasis = tab.hovered.or(tab.selected);
        let (metric, log) = (&mut tab.metric, &mut tab.log_scale);
        tab.drawn = curves::curves_ui(ui, &data, (metric, log), emphasis, exports, panel_width);
    });
}
