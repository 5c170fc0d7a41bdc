//! Per-step metrics, their CSV file (`metrics.csv`) and the divergence check.
//!
//! `metrics.csv` has the ten columns of [`CSV_HEADER`], then three per pyramid level
//! ([`level_columns`]): `pos_P3,cls_P3,reg_P3,pos_P4,...`. A level's losses are normalised
//! like `loss_cls` / `loss_reg` (same divisor, before the weighting), so the levels' losses
//! add up to them. Steps on the backend's fused loss kernels reduce the losses on the device:
//! they report each level's positives but leave its two loss cells empty (the host-objective
//! steps such a run takes every 10th step fill them).

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

/// One pyramid level's share of a step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LevelMetrics {
    /// Stride of the level in pixels (names it: 8 is P3).
    pub stride: u32,
    /// Picked positive anchors on the level.
    pub num_pos: usize,
    /// The level's part of `loss_cls` (`None`: not measured, a fused step).
    pub loss_cls: Option<f64>,
    /// The level's part of `loss_reg` (`None`: not measured, a fused step).
    pub loss_reg: Option<f64>,
}

/// The name of a level of stride `stride`: `P{log2 stride}` for a power of two (8: `P3`),
/// `s{stride}` otherwise.
pub fn level_name(stride: u32) -> String {
    if stride.is_power_of_two() {
        format!("P{}", stride.trailing_zeros())
    } else {
        format!("s{stride}")
    }
}

/// The stride a level name of [`level_name`] stands for (`P3`: 8, `s12`: 12).
pub fn level_stride(name: &str) -> Option<u32> {
    if let Some(k) = name.strip_prefix('P') {
        k.parse::<u32>().ok().filter(|&k| k < 32).map(|k| 1 << k)
    } else {
        name.strip_prefix('s')?.parse().ok()
    }
}

/// The per-level CSV columns for levels of strides `strides`, each prefixed with a comma:
/// `,pos_P3,cls_P3,reg_P3,...`.
pub fn level_columns(strides: &[u32]) -> String {
    strides
        .iter()
        .map(|&s| {
            let n = level_name(s);
            format!(",pos_{n},cls_{n},reg_{n}")
        })
        .collect()
}

/// The full `metrics.csv` header for levels of strides `strides`.
pub fn csv_header(strides: &[u32]) -> String {
    format!("{CSV_HEADER}{}", level_columns(strides))
}

/// What one training step reports.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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
    /// Positives and losses per pyramid level, in level order.
    #[serde(default)]
    pub levels: Vec<LevelMetrics>,
}

/// The first ten CSV columns, in order (the per-level ones follow, see [`csv_header`]).
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
            levels: o.levels.clone(),
        }
    }

    /// One CSV row (no newline), columns as [`csv_header`] for `num_levels` levels (missing
    /// levels and unmeasured losses are empty cells); floats in Rust's shortest round-trip
    /// form (`NaN`, `inf` for non-finite values).
    pub fn csv_row(&self, num_levels: usize) -> String {
        let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
        let levels: String = (0..num_levels)
            .map(|k| match self.levels.get(k) {
                Some(l) => format!(",{},{},{}", l.num_pos, opt(l.loss_cls), opt(l.loss_reg)),
                None => ",,,".to_string(),
            })
            .collect();
        format!(
            "{},{},{},{},{},{},{},{},{},{}{levels}",
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

    /// Parses one CSV row written by [`Self::csv_row`] under `header` (the file's first line,
    /// [`csv_header`]); the error names the column. A level whose cells are empty is absent.
    pub fn from_csv_row(header: &str, row: &str) -> Result<Self, String> {
        let cols: Vec<&str> = row.trim_end().split(',').collect();
        let names: Vec<&str> = header.trim_end().split(',').collect();
        let base = CSV_HEADER.split(',').count();
        if cols.len() != names.len() || names.len() < base || (names.len() - base) % 3 != 0 {
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
        let opt_f = |i: usize| (!cols[i].is_empty()).then(|| f(i)).transpose();
        let mut levels = Vec::new();
        for k in (base..names.len()).step_by(3) {
            if cols[k].is_empty() {
                continue;
            }
            let name = names[k].strip_prefix("pos_").unwrap_or(names[k]);
            let stride =
                level_stride(name).ok_or_else(|| format!("{}: not a level column", names[k]))?;
            levels.push(LevelMetrics {
                stride,
                num_pos: u(k)? as usize,
                loss_cls: opt_f(k + 1)?,
                loss_reg: opt_f(k + 2)?,
            });
        }
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
            levels,
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
        let header = match lines.next() {
            Some((_, h)) if h.starts_with(CSV_HEADER) => h,
            _ => {
                return Err(format!(
                    "{}: line 1: not a metrics.csv header",
                    path.display()
                ));
            }
        };
        lines
            .last()
            .map(|(i, l)| {
                Self::from_csv_row(header, l)
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
    num_levels: usize,
}

impl MetricsWriter {
    /// Creates (truncates) the file and writes the header for levels of strides `strides`.
    pub fn create(path: &Path, strides: &[u32]) -> Result<Self, String> {
        let err = |e: std::io::Error| format!("{}: {e}", path.display());
        let f = std::fs::File::create(path).map_err(err)?;
        let header = csv_header(strides);
        let mut w = Self {
            out: std::io::BufWriter::new(f),
            path: path.to_path_buf(),
            num_levels: strides.len(),
        };
        writeln!(w.out, "{header}")
            .and_then(|_| w.out.flush())
            .map_err(err)?;
        Ok(w)
    }

    /// Opens `path` to append rows after the ones it has (a resumed run); a missing or empty
    /// file gets the header first. A file with another header (another version or other
    /// levels) is refused (one line).
    pub fn append(path: &Path, strides: &[u32]) -> Result<Self, String> {
        let header = csv_header(strides);
        let err = |e: std::io::Error| format!("{}: {e}", path.display());
        let old = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(err(e)),
        };
        if let Some(h) = old.lines().next()
            && h != header
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
            num_levels: strides.len(),
        };
        if old.is_empty() {
            writeln!(w.out, "{header}")
                .and_then(|_| w.out.flush())
                .map_err(err)?;
        } else if !old.ends_with('\n') {
            writeln!(w.out).map_err(err)?;
        }
        Ok(w)
    }

    /// Appends one row and flushes it (a crash loses no finished step).
    pub fn write(&mut self, m: &StepMetrics) -> Result<(), String> {
        writeln!(self.out, "{}", m.csv_row(self.num_levels))
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
            levels: vec![
                LevelMetrics {
                    stride: 8,
                    num_pos: 30,
                    loss_cls: Some(0.5),
                    loss_reg: Some(0.375),
                },
                LevelMetrics {
                    stride: 16,
                    num_pos: 10,
                    loss_cls: None,
                    loss_reg: None,
                },
            ],
        }
    }

    #[test]
    fn csv_file() {
        let path =
            std::env::temp_dir().join(format!("anchorscope-metrics-{}.csv", std::process::id()));
        let strides = [8, 16, 32];
        let mut w = MetricsWriter::create(&path, &strides).unwrap();
        w.write(&m(0)).unwrap();
        w.write(&m(1)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            format!("{CSV_HEADER},pos_P3,cls_P3,reg_P3,pos_P4,cls_P4,reg_P4,pos_P5,cls_P5,reg_P5")
        );
        // P4's losses unmeasured and P5 missing: empty cells, the column count kept
        assert_eq!(
            lines[1],
            "0,1.25,0.75,0.5,40,96000,0.9375,3.5,0.01,120.5,30,0.5,0.375,10,,,,,"
        );
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[2].split(',').count(), lines[0].split(',').count());
        // read back: every field, the levels included
        assert_eq!(StepMetrics::from_csv_row(lines[0], lines[1]).unwrap(), m(0));
        assert_eq!(StepMetrics::last_in_file(&path).unwrap(), Some(m(1)));
        // appending needs the same levels
        drop(w);
        assert!(MetricsWriter::append(&path, &[8, 16]).is_err());
        let mut w = MetricsWriter::append(&path, &strides).unwrap();
        w.write(&m(2)).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 4);
        assert_eq!(StepMetrics::last_in_file(&path).unwrap(), Some(m(2)));
        let e = StepMetrics::from_csv_row(CSV_HEADER, "0,1,x,0,1,1,0,0,0,0").unwrap_err();
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
        assert!(MetricsWriter::create(Path::new("/nonexistent-dir/metrics.csv"), &[8]).is_err());
    }

    #[test]
    fn level_names() {
        assert_eq!(level_name(8), "P3");
        assert_eq!(level_name(128), "P7");
        assert_eq!(level_name(12), "s12");
        assert_eq!(level_columns(&[]), "");
        for s in [8, 16, 32, 128, 12] {
            assert_eq!(level_stride(&level_name(s)), Some(s));
        }
        assert_eq!(level_stride("Q3"), None);
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
        assert!(s.csv_row(2).contains("NaN"));
    }
}
