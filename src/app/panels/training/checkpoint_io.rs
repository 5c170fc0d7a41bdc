//! Save / load checkpoint file dialogs that never block the UI thread: the dialog runs on a
//! helper thread and its answer comes back on a channel the app polls every frame.

use crossbeam_channel::{Receiver, bounded};
use std::path::PathBuf;
use std::sync::Arc;

/// What a dialog is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckpointAction {
    /// Write the live model to a file.
    Save,
    /// Read a checkpoint into the run.
    Load,
}

/// Asks the user for a path (runs on the helper thread; `None`: cancelled).
pub type PathPicker = Arc<dyn Fn(CheckpointAction) -> Option<PathBuf> + Send + Sync>;

/// The native file dialog (rfd), filtered to `.safetensors`.
pub fn rfd_picker() -> PathPicker {
    Arc::new(|action| {
        let d = rfd::FileDialog::new().add_filter("safetensors checkpoint", &["safetensors"]);
        match action {
            CheckpointAction::Save => d
                .set_title("Save checkpoint")
                .set_file_name("checkpoint.safetensors")
                .save_file(),
            CheckpointAction::Load => d.set_title("Load checkpoint").pick_file(),
        }
    })
}

/// At most one open file dialog and where its answer arrives.
pub struct CheckpointDialog {
    picker: PathPicker,
    pending: Option<(CheckpointAction, Receiver<Option<PathBuf>>)>,
}

impl CheckpointDialog {
    /// Dialogs shown by `picker` (e.g. [`rfd_picker`]).
    pub fn new(picker: PathPicker) -> Self {
        Self {
            picker,
            pending: None,
        }
    }

    /// True while a dialog is open.
    pub fn is_open(&self) -> bool {
        self.pending.is_some()
    }

    /// Opens a dialog on a helper thread (nothing when one is open); `wake` repaints the UI
    /// when the answer is there.
    pub fn open(&mut self, action: CheckpointAction, wake: egui::Context) {
        if self.is_open() {
            return;
        }
        let (tx, rx) = bounded(1);
        let picker = self.picker.clone();
        let spawned = std::thread::Builder::new()
            .name("anchorscope-file-dialog".into())
            .spawn(move || {
                let _ = tx.send(picker(action));
                wake.request_repaint();
            });
        if spawned.is_ok() {
            self.pending = Some((action, rx));
        }
    }

    /// The chosen path once the dialog closed (`None` while open, when cancelled or when
    /// there is none).
    pub fn poll(&mut self) -> Option<(CheckpointAction, PathBuf)> {
        let (action, rx) = self.pending.as_ref()?;
        let answer = match rx.try_recv() {
            Ok(a) => a,
            Err(crossbeam_channel::TryRecvError::Empty) => return None,
            Err(crossbeam_channel::TryRecvError::Disconnected) => None,
        };
        let action = *action;
        self.pending = None;
        answer.map(|p| (action, p))
    }
}
