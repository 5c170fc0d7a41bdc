//! The data remedies of the seed article, each a [`Dataset`] view over another dataset and a
//! setting of the `[data]` TOML table (and of the app's Dataset panel):
//!
//! - [`tile`]: large images cut into overlapping tiles (`[data.tile]`: `size`, `overlap`,
//!   `min_visible`).
//! - [`merge`]: classes renamed onto each other (`[data.merge]`: `"old" = "new"`).
//! - [`undersample`]: some images whose object classes are all frequent dropped
//!   (`[data.undersample]`: `keep`, `frequent`, `seed`).
//! - [`repeat`]: LVIS repeat-factor oversampling (`[data.repeat_factor]`: `threshold`,
//!   `rounding`, `seed`).
//!
//! [`Remedies::apply`] chains them in that order: classes are merged first (the other remedies
//! count the merged classes), tiles are the images the frequencies are counted over, and the
//! oversampling sees the undersampled set. Training applies them to the training split only.

pub mod merge;
pub mod repeat;
#[cfg(test)]
mod tests;
pub mod tile;
pub mod undersample;
mod view;

pub use merge::MergedDataset;
pub use repeat::{RepeatFactorConfig, Rounding, oversample, repeat_counts, repeat_factors};
pub use tile::{Tile, TileConfig, TiledDataset, tile_origins};
pub use undersample::{UndersampleConfig, undersample, undersample_keep};
pub use view::IndexView;

use super::{DataError, Dataset, Report};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Every remedy's setting; `None` / empty turns a remedy off.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Remedies {
    /// Tiling (`[data.tile]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tile: Option<TileConfig>,
    /// Class merging (`[data.merge]`): class name -> the name it becomes.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub merge: BTreeMap<String, String>,
    /// Undersampling of images whose classes are all frequent (`[data.undersample]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undersample: Option<UndersampleConfig>,
    /// Repeat-factor oversampling (`[data.repeat_factor]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat_factor: Option<RepeatFactorConfig>,
}

/// Objects per class and images of a dataset (what the Stats tab shows before and after
/// each remedy).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClassHistogram {
    /// Number of images.
    pub images: usize,
    /// Class names.
    pub names: Vec<String>,
    /// Objects (ignore regions left out) of each class.
    pub counts: Vec<u64>,
    /// Ignore regions (crowd / difficult boxes).
    pub ignore: u64,
}

/// One applied remedy: what it is and the class histogram before and after it.
#[derive(Clone, Debug, PartialEq)]
pub struct RemedyStep {
    /// The remedy and its setting, e.g. `tiling 512 px, overlap 64 px`.
    pub name: String,
    /// Before the remedy.
    pub before: ClassHistogram,
    /// After it.
    pub after: ClassHistogram,
}

/// The datasets after each remedy: `stages[0]` is the input.
pub struct Applied {
    /// `(remedy, dataset after it)`; the first is `("original", input)`.
    pub stages: Vec<(String, Arc<dyn Dataset>)>,
}

impl Applied {
    /// The remedied dataset (the input when no remedy is on).
    pub fn dataset(&self) -> Arc<dyn Dataset> {
        self.stages.last().expect("the input stage").1.clone()
    }

    /// The before / after class histograms of every applied remedy (reads every image's
    /// annotations; no image is decoded for file datasets).
    pub fn steps(&self) -> Result<Vec<RemedyStep>, DataError> {
        let hists = self
            .stages
            .iter()
            .map(|(_, d)| class_histogram(d.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.stages[1..]
            .iter()
            .zip(hists.windows(2))
            .map(|((name, _), w)| RemedyStep {
                name: name.clone(),
                before: w[0].clone(),
                after: w[1].clone(),
            })
            .collect())
    }
}

/// The class histogram of `ds`.
pub fn class_histogram(ds: &dyn Dataset) -> Result<ClassHistogram, DataError> {
    let names = ds.class_names();
    let mut h = ClassHistogram {
        images: ds.len(),
        counts: vec![0; names.len()],
        names,
        ignore: 0,
    };
    for i in 0..ds.len() {
        let a = ds.annotations(i)?;
        h.ignore += a.crowd.iter().filter(|&&c| c).count() as u64;
        for c in a.object_classes() {
            if c >= h.counts.len() {
                h.counts.resize(c + 1, 0);
            }
            h.counts[c] += 1;
        }
    }
    Ok(h)
}

/// `report` with each problem's image (a source index) pointed at the first image of `ds`
/// that shows it or is cut from it (none when the remedies dropped it), so a click on a
/// problem shows the right image of a remedied dataset.
pub fn relink_report(report: &Report, ds: &dyn Dataset) -> Report {
    let mut first = std::collections::HashMap::new();
    for i in (0..ds.len()).rev() {
        if let Some(s) = ds.source_image(i) {
            first.insert(s, i);
        }
    }
    let mut out = report.clone();
    for p in &mut out.problems {
        p.image = p.image.and_then(|s| first.get(&s).copied());
    }
    out
}

/// The object classes of every image of `ds` (ignore regions left out).
pub fn image_classes(ds: &dyn Dataset) -> Result<Vec<Vec<usize>>, DataError> {
    (0..ds.len())
        .map(|i| Ok(ds.annotations(i)?.object_classes()))
        .collect()
}

impl Remedies {
    /// `true` when at least one remedy is on.
    pub fn is_active(&self) -> bool {
        self.tile.is_some()
            || !self.merge.is_empty()
            || self.undersample.is_some()
            || self.repeat_factor.is_some()
    }

    /// Checks every setting; the error names the field (`[data.tile] overlap ...`).
    pub fn validate(&self) -> Result<(), String> {
        if let Some(t) = &self.tile {
            t.validate()?;
        }
        for (from, to) in &self.merge {
            if to.trim().is_empty() {
                return Err(format!("[data.merge] \"{from}\": the new name is empty"));
            }
        }
        if let Some(u) = &self.undersample {
            u.validate()?;
        }
        if let Some(r) = &self.repeat_factor {
            r.validate()?;
        }
        Ok(())
    }

    /// Applies the remedies that are on to `ds`: merging, tiling, undersampling, repeat
    /// factors, in that order. Fails (naming the setting) on a bad setting or a merge of a
    /// class the dataset does not have.
    pub fn apply(&self, ds: Arc<dyn Dataset>) -> Result<Applied, DataError> {
        self.validate().map_err(|reason| DataError::Config {
            field: "[data]".into(),
            reason,
        })?;
        let mut stages: Vec<(String, Arc<dyn Dataset>)> = vec![("original".into(), ds.clone())];
        let mut cur = ds;
        if !self.merge.is_empty() {
            cur = Arc::new(MergedDataset::new(cur, &self.merge)?);
            stages.push((merge::describe(&self.merge), cur.clone()));
        }
        if let Some(t) = &self.tile {
            cur = Arc::new(TiledDataset::new(cur, t.clone())?);
            stages.push((t.describe(), cur.clone()));
        }
        if let Some(u) = &self.undersample {
            cur = Arc::new(undersample(cur, u)?);
            stages.push((u.describe(), cur.clone()));
        }
        if let Some(r) = &self.repeat_factor {
            cur = Arc::new(oversample(cur, r)?);
            stages.push((r.describe(), cur.clone()));
        }
        Ok(Applied { stages })
    }
}
