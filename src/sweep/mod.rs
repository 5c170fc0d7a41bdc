//! Sweeps (`anchorscope sweep`): a grid of training settings crossed into runs, each trained
//! into its own folder by [`crate::train::run`], and one results table.
//!
//! - [`grid`]: axes of a `[grid]` table, their crossing (documented order), merging a point
//!   into the base settings;
//! - [`naming`]: run names and value labels;
//! - [`plan`]: a sweep file (or [`presets`] entry) read and checked into [`SweepPlan`];
//! - [`results`]: the `results.csv` / `results.md` table;
//! - [`runner`]: running the plan, resuming, keeping finished runs when stopped.
//!
//! Above `train` and `eval`, below the command line.

pub mod grid;
pub mod naming;
pub mod plan;
pub mod presets;
pub mod results;
pub mod runner;

pub use plan::{Overrides, PlannedRun, SweepPlan};
pub use presets::{PRESETS, preset};
pub use results::{FIGURE_COLUMNS, ResultRow, to_csv, to_markdown};
pub use runner::{SweepObserver, SweepOptions, SweepOutcome, is_complete, run_sweep};

#[cfg(test)]
mod tests;
