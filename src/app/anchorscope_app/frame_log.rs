//! `ANCHORSCOPE_FRAME_LOG=PATH`: the time between successive frames of the real window, one
//! line of milliseconds per frame, for measuring what the offscreen `bench-ui` cannot see
//! (presenting to the window). With the log on, the app repaints continuously, so an
//! interval is one whole frame: logic, UI, rendering and presenting. A diagnostic: off unless
//! the variable is set; the file is started afresh and lines are appended 50 at a time.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// Frame intervals of this run, appended to `path` in batches.
pub(super) struct FrameLog {
    path: PathBuf,
    last: Option<Instant>,
    intervals_ms: Vec<f32>,
}

impl FrameLog {
    /// A log when `ANCHORSCOPE_FRAME_LOG` names a file (emptied now).
    pub(super) fn from_env() -> Option<Self> {
        let path: PathBuf = std::env::var_os("ANCHORSCOPE_FRAME_LOG")?.into();
        if let Err(e) = std::fs::File::create(&path) {
            eprintln!(
                "anchorscope: {}: cannot write the frame log: {e}",
                path.display()
            );
            return None;
        }
        Some(Self {
            path,
            last: None,
            intervals_ms: Vec::new(),
        })
    }

    /// Notes the start of a frame.
    pub(super) fn frame(&mut self) {
        let now = Instant::now();
        if let Some(last) = self.last {
            self.intervals_ms.push((now - last).as_secs_f32() * 1e3);
        }
        self.last = Some(now);
        if self.intervals_ms.len() >= 50 {
            self.write();
        }
    }

    /// Appends the buffered lines to the file.
    fn write(&mut self) {
        let lines: String = self
            .intervals_ms
            .drain(..)
            .map(|v| format!("{v:.2}\n"))
            .collect();
        let appended = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.path)
            .and_then(|mut f| f.write_all(lines.as_bytes()));
        if let Err(e) = appended {
            eprintln!(
                "anchorscope: {}: cannot write the frame log: {e}",
                self.path.display()
            );
        }
    }
}

impl Drop for FrameLog {
    fn drop(&mut self) {
        self.write();
    }
}
