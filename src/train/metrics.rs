//! Per-step metrics, their CSV file (`metrics.csv`) and the divergence check.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// What one training step reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StepMetrics {
    /// Step index (0-based).
    pub step: u64,
    /// Weighted total loss.
    pub loss_total: f64,
    /// Normalised classification loss.
    pub loss_cls: f64,
    /// Normalised regression loss.
    pub loss_reg: f64,
    /// Picked positive anchors in the batch.
    pub num_pos: usize,
    /// Picked negative anchors in the batch.
    pub num_neg: usize,
    /// Share of the classification loss from positives, in `[0, 1]`.
    pub share_pos: f64,
    /// Global L2 norm of the gradient (before clipping).
    pub grad_norm: f64,
    /// Learning rate used.
    pub lr: f64,
    /// Wall time of the step in milliseconds.
    pub step_ms: f64,
}

/// The CSV header, in column order.
pub const CSV_HEADER: &str =
    "step,loss_total,loss_cls,loss_reg,num_pos,num_neg,share_pos,grad_norm,lr,step_ms";

impl StepMetrics {
    /// The figures of step `step` from its objective, before backward (gradient norm and
    /// step time 0 until known).
    pub fn of_objective(step: u64, o: &crate::train::objective::ObjectiveOutput, lr: f64) -> Self {
        Self {
            step,
            loss_total: o.total,
            loss_cls: o.loss_cls,
            loss_reg: o.loss_reg,
            num_pos: o.num_pos,
            num_neg: o.num_neg_used,
            share_pos: o.share_pos(),
            grad_norm: 0.0,
            lr,
            step_ms: 0.0,
        }
    }

    /// One CSV row (no newline), columns as [`CSV_HEADER`]; floats in Rust's shortest
    /// round-trip form (`NaN`, `inf` for non-finite values).
    pub fn csv_row(&self) -> String {
        format!(
            "{},{},{},{},{},{},{},{},{},{}",
            self.step,
            self.loss_total,
            self.loss_cls,
            self.loss_reg,
            self.num_pos,
            self.num_neg,
            self.share_pos,
            self.grad_norm,
            self.lr,
            self.step_ms
        )
    }

    /// Parses one CSV row written by [`Self::csv_row`] (the error names the column).
    pub fn from_csv_row(row: &str) -> Result<Self, String> {
        let cols: Vec<&str> = row.trim_end().split(',').collect();
        let names: Vec<&str> = CSV_HEADER.split(',').collect();
        if cols.len() != names.len() {
            return Err(format!("{} columns, expected {}", cols.len(), names.len()));
        }
        let f = |i: usize| {
            cols[i]
                .parse::<f64>()
                .map_err(|_| format!("{}: not a number: {}", names[i], cols[i]))
        };
        let u = |i: usize| {
            cols[i]
                .parse::<u64>()
                .map_err(|_| format!("{}: not a count: {}", names[i], cols[i]))
        };
        Ok(Self {
            step: u(0)?,
            loss_total: f(1)?,
            loss_cls: f(2)?,
            loss_reg: f(3)?,
            num_pos: u(4)? as usize,
            num_neg: u(5)? as usize,
            share_pos: f(6)?,
            grad_norm: f(7)?,
            lr: f(8)?,
            step_ms: f(9)?,
        })
    }

    /// The last row of a `metrics.csv` file (`None` when it has only its header); errors
    /// name the file and the line.
    pub fn last_in_file(path: &Path) -> Result<Option<Self>, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        match lines.next() {
            Some((_, h)) if h == CSV_HEADER => {}
            _ => {
                return Err(format!(
                    "{}: line 1: not a metrics.csv header",
                    path.display()
                ));
            }
        }
        lines
            .last()
            .map(|(i, l)| {
                Self::from_csv_row(l)
                    .map_err(|e| format!("{}: line {}: {e}", path.display(), i + 1))
            })
            .transpose()
    }

    /// The first non-finite component, by name, in the order `loss_cls`, `loss_reg`,
    /// `grad_norm` (then `loss_total`); `None` when the step is healthy.
    pub fn divergence(&self) -> Option<&'static str> {
        divergence(self.loss_cls, self.loss_reg, self.grad_norm)
            .or((!self.loss_total.is_finite()).then_some("loss_total"))
    }
}

/// Which component is non-finite: `"loss_cls"`, `"loss_reg"` or `"grad_norm"`, checked in
/// that order; `None` when all are finite.
pub fn divergence(loss_cls: f64, loss_reg: f64, grad_norm: f64) -> Option<&'static str> {
    [
        ("loss_cls", loss_cls),
        ("loss_reg", loss_reg),
        ("grad_norm", grad_norm),
    ]
    .into_iter()
    .find(|(_, v)| !v.is_finite())
    .map(|(name, _)| name)
}

/// Writes `metrics.csv`: the header on creation, then one flushed row per step.
pub struct MetricsWriter {
    out: std::io::BufWriter<std::fs::File>,
    path: std::path::PathBuf,
}

impl MetricsWriter {
    /// Creates (truncates) the file and writes the header.
    pub fn create(path: &Path) -> Result<Self, String> {
        let err = |e: std::io::Error| format!("{}: {e}", path.display());
        let f = std::fs::File::create(path).map_err(err)?;
        let mut w = Self {
            out: std::io::BufWriter::new(f),
            path: path.to_path_buf(),
        };
        writeln!(w.out, "{CSV_HEADER}")
            .and_then(|_| w.out.flush())
            .map_err(err)?;
        Ok(w)
    }

    /// Opens `path` to append rows after the ones it has (a resumed run); a missing or empty
    /// file gets the header first. A file with another header is refused (one line).
    pub fn append(path: &Path) -> Result<Self, String> {
        let err = |e: std::io::Error| format!("{}: {e}", path.display());
        let old = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(err(e)),
        };
        if let Some(h) = old.lines().next()
            && h != CSV_HEADER
        {
            return Err(format!(
                "{}: line 1: not a metrics.csv header of this version; not appending",
                path.display()
            ));
        }
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(err)?;
        let mut w = Self {
            out: std::io::BufWriter::new(f),
            path: path.to_path_buf(),
        };
        if old.is_empty() {
            writeln!(w.out, "{CSV_HEADER}")
                .and_then(|_| w.out.flush())
                .map_err(err)?;
        } else if !old.ends_with('\n') {
            writeln!(w.out).map_err(err)?;
        }
        Ok(w)
    }

    /// Appends one row and flushes it (a crash loses no finished step).
    pub fn write(&mut self, m: &StepMetrics) -> Result<(), String> {
        writeln!(self.out, "{}", m.csv_row())
            .and_then(|_| self.out.flush())
            .map_err(|e| format!("{}: {e}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(step: u64) -> StepMetrics {
        StepMetrics {
            step,
            loss_total: 1.25,
            loss_cls: 0.75,
            loss_reg: 0.5,
            num_pos: 40,
            num_neg: 96000,
            share_pos: 0.9375,
            grad_norm: 3.5,
            lr: 0.01,
            step_ms: 120.5,
        }
    }

    #[test]
    fn csv_file() {
        let path =
            std::env::temp_dir().join(format!("anchorscope-metrics-{}.csv", std::process::id()));
        let mut w = MetricsWriter::create(&path).unwrap();
        w.write(&m(0)).unwrap();
        w.write(&m(1)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], CSV_HEADER);
        assert_eq!(lines[1], "0,1.25,0.75,0.5,40,96000,0.9375,3.5,0.01,120.5");
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[2].split(',').count(), CSV_HEADER.split(',').count());
        // read back: the last row, every field
        assert_eq!(StepMetrics::last_in_file(&path).unwrap(), Some(m(1)));
        assert_eq!(StepMetrics::from_csv_row(lines[1]).unwrap(), m(0));
        let e = StepMetrics::from_csv_row("0,1,x,0,1,1,0,0,0,0").unwrap_err();
        assert!(e.starts_with("loss_cls: not a number"), "{e}");
        std::fs::write(&path, format!("{CSV_HEADER}\n")).unwrap();
        assert_eq!(StepMetrics::last_in_file(&path).unwrap(), None);
        std::fs::write(&path, "step,loss\n0,1\n").unwrap();
        assert!(
            StepMetrics::last_in_file(&path)
                .unwrap_err()
                .contains("line 1")
        );
        std::fs::remove_file(path).unwrap();
        assert!(MetricsWriter::create(Path::new("/nonexistent-dir/metrics.csv")).is_err());
    }

    #[test]
    fn divergence_names_the_component() {
        assert_eq!(m(0).divergence(), None);
        assert_eq!(divergence(f64::NAN, f64::NAN, 1.0), Some("loss_cls"));
        assert_eq!(divergence(0.1, f64::INFINITY, f64::NAN), Some("loss_reg"));
        assert_eq!(divergence(0.1, 0.2, f64::NAN), Some("grad_norm"));
        let s = StepMetrics {
            grad_norm: f64::INFINITY,
            ..m(3)
        };
        assert_eq!(s.divergence(), Some("grad_norm"));
        let s = StepMetrics {
            loss_total: f64::NAN,
            ..m(3)
        };
        assert_eq!(s.divergence(), Some("loss_total"));
        assert!(s.csv_row().contains("NaN"));
    }
}
