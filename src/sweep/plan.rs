//! A sweep file (or shipped preset) read into its runs.
//!
//! The file holds the base settings of every run (any key of a `train --config` file, the
//! `[model]` and `[data]` tables) plus two sweep keys, `dataset` (a SPEC, default
//! `synthetic:shapes@0`) and `eval_images` (default 200), and a `[grid]` table, or several
//! `[[grid]]` tables whose runs follow one another. Every array in a grid is an axis; see
//! [`super::grid`] for the order and [`super::naming`] for the names.

use super::grid::{self, Point};
use super::naming::{label, run_name};
use crate::data::DatasetSpec;
use crate::train::run::RunSettings;
use anyhow::{Result, anyhow, bail};
use toml::{Table, Value};

/// Default held-out images per run.
pub const DEFAULT_EVAL_IMAGES: usize = 200;

/// Keys of a sweep file that are not training settings (and may not be varied: every run
/// trains and is evaluated on the same data).
const SWEEP_KEYS: [&str; 3] = ["dataset", "eval_images", "grid"];

/// Command-line settings over the file's base (a grid value still wins over them).
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `steps`.
    pub steps: Option<u64>,
    /// `batch`.
    pub batch: Option<usize>,
    /// `seed`.
    pub seed: Option<u64>,
    /// The dataset SPEC.
    pub dataset: Option<String>,
    /// Held-out images per run.
    pub eval_images: Option<usize>,
}

impl Overrides {
    /// The settings given, as the TOML keys and values they stand for.
    fn entries(&self) -> Vec<(&'static str, Value)> {
        let int = |x: u64| Value::Integer(x.min(i64::MAX as u64) as i64);
        [
            ("steps", self.steps.map(int)),
            ("batch", self.batch.map(|b| int(b as u64))),
            ("seed", self.seed.map(int)),
            ("dataset", self.dataset.clone().map(Value::String)),
            ("eval_images", self.eval_images.map(|n| int(n as u64))),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
    }
}

/// One run of a sweep.
#[derive(Clone, Debug)]
pub struct PlannedRun {
    /// Its name (the folder under the sweep's output).
    pub name: String,
    /// The grid values it sets.
    pub point: Point,
    /// Its settings (base merged with the point, parsed and validated).
    pub settings: RunSettings,
    /// The label of each of the plan's setting columns.
    pub labels: Vec<String>,
}

/// Every run of a sweep.
#[derive(Clone, Debug)]
pub struct SweepPlan {
    /// The file (or `preset NAME`) the plan comes from.
    pub origin: String,
    /// The file's text (written to the output as `sweep.toml`).
    pub text: String,
    /// The data every run trains on.
    pub dataset: DatasetSpec,
    /// Held-out images per run.
    pub eval_images: usize,
    /// The varied settings (dotted keys), in order of first appearance.
    pub columns: Vec<String>,
    /// The runs, in order.
    pub runs: Vec<PlannedRun>,
}

impl SweepPlan {
    /// Reads a sweep file's text; every error names `origin` and the key (one line).
    pub fn parse(text: &str, origin: &str, ov: &Overrides) -> Result<Self> {
        let mut base: Table = crate::config::parse_toml(text, origin).map_err(|e| anyhow!(e))?;
        let grids = match base.remove("grid") {
            Some(Value::Table(t)) => vec![t],
            Some(Value::Array(a)) if !a.is_empty() => a
                .into_iter()
                .map(|v| match v {
                    Value::Table(t) => Ok(t),
                    other => Err(anyhow!(
                        "{origin}: grid: each [[grid]] must be a table, got {}",
                        other.type_str()
                    )),
                })
                .collect::<Result<_>>()?,
            Some(other) => bail!("{origin}: grid: must be a table, got {}", other.type_str()),
            None => bail!("{origin}: no [grid] table (the settings to vary)"),
        };
        let spec = match (&ov.dataset, base.remove("dataset")) {
            (Some(s), _) => s.clone(),
            (None, Some(Value::String(s))) => s,
            (None, Some(other)) => bail!(
                "{origin}: dataset: must be a SPEC string, got {}",
                other.type_str()
            ),
            (None, None) => "synthetic:shapes@0".into(),
        };
        let dataset = DatasetSpec::parse(&spec).map_err(|e| anyhow!("{origin}: dataset: {e}"))?;
        let eval_images = match (ov.eval_images, base.remove("eval_images")) {
            (Some(n), _) => n,
            (None, Some(Value::Integer(n))) if n >= 1 => n as usize,
            (None, Some(other)) => {
                bail!("{origin}: eval_images: must be an integer >= 1, got {other}")
            }
            (None, None) => DEFAULT_EVAL_IMAGES,
        };
        for (k, v) in ov.entries() {
            if !SWEEP_KEYS.contains(&k) {
                base.insert(k.into(), v);
            }
        }
        RunSettings::from_table(base.clone(), origin)?;
        let mut points = Vec::new();
        let mut columns: Vec<String> = Vec::new();
        for g in &grids {
            let axes = grid::axes(g, origin).map_err(|e| anyhow!(e))?;
            for a in &axes {
                check_axis(&base, a, origin)?;
                if !columns.contains(&a.key) {
                    columns.push(a.key.clone());
                }
            }
            points.extend(grid::cross(&axes));
        }
        let total = points.len();
        let runs = points
            .into_iter()
            .enumerate()
            .map(|(i, point)| {
                let name = run_name(i, total, &point);
                let merged =
                    grid::merge(&base, &point).map_err(|e| anyhow!("{origin}: [grid] {e}"))?;
                let settings = RunSettings::from_table(merged, &format!("{origin}: run {name}"))?;
                let resolved = settings.to_table()?;
                let labels = columns
                    .iter()
                    .map(|c| {
                        let own = point.iter().find(|(k, _)| k == c).map(|(_, v)| v);
                        own.or_else(|| grid::get_path(&resolved, c))
                            .map_or_else(|| "-".to_string(), label)
                    })
                    .collect();
                Ok(PlannedRun {
                    name,
                    point,
                    settings,
                    labels,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            origin: origin.to_string(),
            text: with_overrides(text, origin, ov)?,
            dataset,
            eval_images,
            columns,
            runs,
        })
    }
}

/// The sweep file as it ran: `text` itself without command-line overrides; with them, the
/// settings as they took effect (so the folder's `sweep.toml` reads back as the sweep that
/// ran, e.g. in the app), followed by the original text as comments.
fn with_overrides(text: &str, origin: &str, ov: &Overrides) -> Result<String> {
    let given = ov.entries();
    if given.is_empty() {
        return Ok(text.to_string());
    }
    let mut table: Table = crate::config::parse_toml(text, origin).map_err(|e| anyhow!(e))?;
    let mut list = Vec::new();
    for (k, v) in given {
        list.push(format!("{k} = {v}"));
        table.insert(k.to_string(), v);
    }
    let effective = toml::to_string(&table)?;
    let original: String = text.lines().map(|l| format!("# {l}\n")).collect();
    Ok(format!(
        "# {origin} with the command-line overrides {}.\n{effective}\n# The original:\n{original}",
        list.join(", ")
    ))
}

/// Checks each value of an axis alone on the base, so an error names the key and value.
fn check_axis(base: &Table, a: &grid::Axis, origin: &str) -> Result<()> {
    let top = a.key.split('.').next().unwrap_or(&a.key);
    if SWEEP_KEYS.contains(&top) {
        bail!(
            "{origin}: [grid] {}: cannot be varied (every run uses the same data); set it at the top level",
            a.key
        );
    }
    for v in &a.values {
        let at = format!("{origin}: [grid] {} = {}", a.key, label(v));
        let t = grid::merge(base, &vec![(a.key.clone(), v.clone())])
            .map_err(|e| anyhow!("{origin}: [grid] {e}"))?;
        RunSettings::from_table(t, &at)?;
    }
    Ok(())
}
