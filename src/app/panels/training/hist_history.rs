//! The IoU / p_t histograms of a run over time, in bounded memory: every step while the run is
//! short, then every 2nd, 4th, ... step (the stride doubles whenever the history is full).

use crate::train::thread::HIST_BINS;

/// Entries kept at most; reaching it halves the history and doubles the stride.
pub const MAX_ENTRIES: usize = 512;

/// The four binned sets of one step: IoU of the positives, IoU of the picked negatives,
/// p_t of the positives, p_t of the picked negatives ([`HIST_BINS`] bins over `[0, 1]` each).
pub type HistSets = [Vec<u32>; 4];

/// Binned histograms of one run, oldest step first, at most [`MAX_ENTRIES`] of them.
#[derive(Clone, Debug)]
pub struct HistogramHistory {
    /// `(step, sets)` in step order.
    entries: Vec<(u64, HistSets)>,
    /// Least step distance between two kept entries (1, 2, 4, ...).
    stride: u64,
    /// Bumped on every change (to rebuild cached textures only when needed).
    version: u64,
}

impl Default for HistogramHistory {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            stride: 1,
            version: 0,
        }
    }
}

impl HistogramHistory {
    /// Adds one step's histograms; kept when it is at least the stride after the last kept
    /// step (a step at or before the last one, e.g. after loading a checkpoint, replaces the
    /// history from that step on).
    pub fn push(&mut self, step: u64, sets: HistSets) {
        if self.entries.last().is_some_and(|(s, _)| step <= *s) {
            self.truncate_from(step);
        } else if let Some((last, _)) = self.entries.last()
            && step < last + self.stride
        {
            return;
        }
        self.entries.push((step, sets));
        if self.entries.len() >= MAX_ENTRIES {
            // keep every other entry (the newest always stays)
            let n = self.entries.len();
            let mut k = 0;
            self.entries.retain(|_| {
                k += 1;
                (n - k).is_multiple_of(2)
            });
            self.stride *= 2;
        }
        self.version += 1;
    }

    /// Drops the entries of step `step` and later (a reloaded or loaded model goes on there).
    pub fn truncate_from(&mut self, step: u64) {
        let keep = self.entries.partition_point(|(s, _)| *s < step);
        if keep < self.entries.len() {
            self.entries.truncate(keep);
            self.version += 1;
        }
    }

    /// The kept entries, oldest first.
    pub fn entries(&self) -> &[(u64, HistSets)] {
        &self.entries
    }

    /// The newest entry.
    pub fn latest(&self) -> Option<&(u64, HistSets)> {
        self.entries.last()
    }

    /// Least step distance between kept entries.
    pub fn stride(&self) -> u64 {
        self.stride
    }

    /// Changes on every push or truncation.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Share of each bin of set `set` (0..4) per column: `columns` columns spread evenly
    /// from the first to the last kept step, each showing the latest entry at or before its
    /// step. Row-major `[column][bin]`; `None` in a column whose step had no samples.
    pub fn shares(&self, set: usize, columns: usize) -> Vec<Option<[f32; HIST_BINS]>> {
        let (Some((first, _)), Some((last, _))) = (self.entries.first(), self.entries.last())
        else {
            return Vec::new();
        };
        let span = (last - first) as f64;
        let columns = columns.max(1);
        (0..columns)
            .map(|c| {
                let step = if columns == 1 {
                    *last
                } else {
                    first + (span * c as f64 / (columns - 1) as f64).round() as u64
                };
                let k = self.entries.partition_point(|(s, _)| *s <= step).max(1) - 1;
                let counts = &self.entries[k].1[set];
                let total: u32 = counts.iter().sum();
                (total > 0).then(|| {
                    let mut out = [0.0f32; HIST_BINS];
                    for (o, &n) in out.iter_mut().zip(counts) {
                        *o = n as f32 / total as f32;
                    }
                    out
                })
            })
            .collect()
    }
}
