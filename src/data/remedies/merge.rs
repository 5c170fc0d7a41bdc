//! Merging classes: a name map (`[data.merge]`, `"car" = "vehicle"`) renames classes; classes
//! given the same name become one. The merged classes are the new names in the order each
//! first appears along the old class list. Ignore regions keep their (merged) class.

use crate::data::report::Report;
use crate::data::{Annotations, DataError, Dataset, Sample};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// `merge car, truck -> vehicle`.
pub fn describe(map: &BTreeMap<String, String>) -> String {
    let mut by_target: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in map {
        by_target
            .entry(to.as_str())
            .or_default()
            .push(from.as_str());
    }
    let parts: Vec<String> = by_target
        .iter()
        .map(|(to, from)| format!("{} -> {to}", from.join(", ")))
        .collect();
    format!("merge {}", parts.join("; "))
}

/// The merged class list and each old class's new index, or the first name of `map` that is
/// not one of `names` (an error naming the setting).
pub fn merged_classes(
    names: &[String],
    map: &BTreeMap<String, String>,
) -> Result<(Vec<String>, Vec<usize>), String> {
    if let Some(k) = map.keys().find(|k| !names.contains(k)) {
        return Err(format!(
            "[data.merge] \"{k}\": not a class of the dataset (classes: {})",
            names.join(", ")
        ));
    }
    let mut merged: Vec<String> = Vec::new();
    let mut index = Vec::with_capacity(names.len());
    for n in names {
        let to = map.get(n).unwrap_or(n).trim().to_string();
        let k = match merged.iter().position(|m| *m == to) {
            Some(k) => k,
            None => {
                merged.push(to);
                merged.len() - 1
            }
        };
        index.push(k);
    }
    Ok((merged, index))
}

/// `inner` with its classes merged.
pub struct MergedDataset {
    inner: Arc<dyn Dataset>,
    names: Vec<String>,
    index: Vec<usize>,
}

impl MergedDataset {
    /// Merges the classes of `inner` by `map` (old name -> new name); a name that is not a
    /// class of `inner` is an error naming it.
    pub fn new(inner: Arc<dyn Dataset>, map: &BTreeMap<String, String>) -> Result<Self, DataError> {
        let (names, index) =
            merged_classes(&inner.class_names(), map).map_err(|reason| DataError::Config {
                field: "[data.merge]".into(),
                reason,
            })?;
        Ok(Self {
            inner,
            names,
            index,
        })
    }

    fn map(&self, classes: &mut [usize]) {
        for c in classes {
            *c = self.index.get(*c).copied().unwrap_or(*c);
        }
    }
}

impl Dataset for MergedDataset {
    fn name(&self) -> String {
        self.inner.name()
    }
    fn len(&self) -> usize {
        self.inner.len()
    }
    fn class_names(&self) -> Vec<String> {
        self.names.clone()
    }
    fn load(&self, index: usize) -> Result<Sample, DataError> {
        let mut s = self.inner.load(index)?;
        self.map(&mut s.classes);
        Ok(s)
    }
    fn image_name(&self, index: usize) -> String {
        self.inner.image_name(index)
    }
    fn report(&self) -> Option<&Report> {
        self.inner.report()
    }
    fn annotations(&self, index: usize) -> Result<Annotations, DataError> {
        let mut a = self.inner.annotations(index)?;
        self.map(&mut a.classes);
        Ok(a)
    }
    fn image_file(&self, index: usize) -> Option<PathBuf> {
        self.inner.image_file(index)
    }
    fn source_image(&self, index: usize) -> Option<usize> {
        self.inner.source_image(index)
    }
}
