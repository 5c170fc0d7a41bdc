//! [`IndexView`]: a dataset made of another's images picked by an index list (repeats
//! allowed), what undersampling and repeat-factor oversampling produce.

use crate::data::report::Report;
use crate::data::{Annotations, DataError, Dataset, Sample};
use std::path::PathBuf;
use std::sync::Arc;

/// Images `index[0], index[1], ...` of `inner`.
pub struct IndexView {
    inner: Arc<dyn Dataset>,
    index: Vec<usize>,
}

impl IndexView {
    /// The view of `inner` through `index` (every entry `< inner.len()`).
    pub fn new(inner: Arc<dyn Dataset>, index: Vec<usize>) -> Self {
        debug_assert!(index.iter().all(|&i| i < inner.len()));
        Self { inner, index }
    }

    /// The index list: entry `i` is the inner image shown as image `i`.
    pub fn index(&self) -> &[usize] {
        &self.index
    }

    fn inner_index(&self, index: usize) -> Result<usize, DataError> {
        self.index
            .get(index)
            .copied()
            .ok_or_else(|| DataError::IndexOutOfRange {
                dataset: self.inner.name(),
                index,
                len: self.index.len(),
            })
    }
}

impl Dataset for IndexView {
    fn name(&self) -> String {
        self.inner.name()
    }
    fn len(&self) -> usize {
        self.index.len()
    }
    fn class_names(&self) -> Vec<String> {
        self.inner.class_names()
    }
    fn load(&self, index: usize) -> Result<Sample, DataError> {
        self.inner.load(self.inner_index(index)?)
    }
    fn image_name(&self, index: usize) -> String {
        match self.index.get(index) {
            Some(&i) => self.inner.image_name(i),
            None => format!("image {index}"),
        }
    }
    fn report(&self) -> Option<&Report> {
        self.inner.report()
    }
    fn annotations(&self, index: usize) -> Result<Annotations, DataError> {
        self.inner.annotations(self.inner_index(index)?)
    }
    fn image_file(&self, index: usize) -> Option<PathBuf> {
        self.inner.image_file(*self.index.get(index)?)
    }
    fn source_image(&self, index: usize) -> Option<usize> {
        self.inner.source_image(*self.index.get(index)?)
    }
}
