//! The one dataset type of COCO, VOC and YOLO sources: [`FileDataset`], a view (a split or all
//! images) over the checked images of one source, decoding images lazily through a bounded
//! [`ImageCache`]. Opening reads every annotation and every image header and writes the
//! [`Report`]; it never writes a file.

mod cache;
mod finalize;
pub mod image_io;
mod raw;
#[cfg(test)]
mod tests;

pub use cache::ImageCache;
pub use finalize::{DEFAULT_MAX_PIXELS, LoadedImage, MIN_SIDE, OUTSIDE_TOLERANCE, finalize};
pub use raw::{RawBox, RawImage, Split};

use super::report::Report;
use super::{Annotations, DataError, Dataset, DatasetSpec, Sample};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How to open a dataset.
#[derive(Clone, Debug)]
pub struct OpenOptions {
    /// [`crate::data::report::Code::ImageTooLarge`] limit in pixels.
    pub max_pixels: u64,
    /// Fully decode every image while opening (finds truncated files; `check` does this).
    pub decode_all: bool,
    /// Decoded images kept in memory.
    pub cache_images: usize,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            max_pixels: DEFAULT_MAX_PIXELS,
            decode_all: false,
            cache_images: 64,
        }
    }
}

/// Everything the views of one opened source share.
pub struct Source {
    /// The SPEC it was opened from.
    pub spec: String,
    /// The file or folder the SPEC names (errors about the whole dataset name it).
    pub origin: PathBuf,
    /// Class names.
    pub classes: Vec<String>,
    /// The images that passed the checks.
    pub images: Vec<LoadedImage>,
    /// Annotation records read (kept or not).
    pub annotations_read: usize,
    /// What was wrong.
    pub report: Report,
    cache: ImageCache,
}

/// A view of an opened COCO, VOC or YOLO dataset: some of its images, in order.
#[derive(Clone)]
pub struct FileDataset {
    source: Arc<Source>,
    indices: Arc<Vec<usize>>,
    label: String,
}

impl FileDataset {
    /// Opens a non-synthetic SPEC. Fails (one line naming the file) when the source cannot be
    /// read at all or when no image is loadable; otherwise bad records are in [`Self::report`].
    pub fn open(spec: &DatasetSpec, opts: &OpenOptions) -> Result<Self, DataError> {
        Self::open_checked(spec, opts).map_err(|(e, _)| e)
    }

    /// [`Self::open`], handing back the report with the error when the dataset is unusable.
    pub fn open_checked(
        spec: &DatasetSpec,
        opts: &OpenOptions,
    ) -> Result<Self, (DataError, Report)> {
        let mut report = Report::default();
        match Self::open_into(spec, opts, &mut report, &|_| {}) {
            Ok(d) => Ok(d),
            Err(e) => Err((e, report)),
        }
    }

    /// [`Self::open`], telling `progress` the fraction of the image headers read so far.
    pub fn open_with_progress(
        spec: &DatasetSpec,
        opts: &OpenOptions,
        progress: &(dyn Fn(f32) + Sync),
    ) -> Result<Self, DataError> {
        Self::open_into(spec, opts, &mut Report::default(), progress)
    }

    fn open_into(
        spec: &DatasetSpec,
        opts: &OpenOptions,
        report_out: &mut Report,
        progress: &(dyn Fn(f32) + Sync),
    ) -> Result<Self, DataError> {
        let report = report_out;
        let fail = |path: &Path, reason: String| DataError::Format {
            path: path.to_path_buf(),
            record: "dataset".into(),
            reason,
        };
        let mut aliases = std::collections::HashMap::new();
        let (origin, classes, raw, annotations_read) = match spec {
            DatasetSpec::Coco {
                annotations,
                images,
            } => {
                let bytes = std::fs::read(annotations).map_err(|e| DataError::Io {
                    path: annotations.clone(),
                    source: e,
                })?;
                let text = String::from_utf8_lossy(&bytes);
                let dir = match images {
                    Some(d) => d.clone(),
                    None => annotations
                        .parent()
                        .map(Path::to_path_buf)
                        .unwrap_or_default(),
                };
                match super::coco::parse(&text, annotations, &dir, report) {
                    Ok(f) => {
                        aliases = f.annotation_images;
                        (annotations.clone(), f.classes, f.images, f.annotations)
                    }
                    Err(()) => {
                        let why = report
                            .problems
                            .last()
                            .map(|p| p.to_string())
                            .unwrap_or_default();
                        return Err(fail(annotations, format!("cannot be used: {why}")));
                    }
                }
            }
            DatasetSpec::Voc { dir } => {
                let (c, r) = super::voc::load(dir, report).map_err(|e| fail(dir, e))?;
                let n = r.iter().map(|i| i.boxes.len()).sum();
                (dir.clone(), c, r, n)
            }
            DatasetSpec::Yolo { data } => {
                let (c, r) = super::yolo::load(data, report).map_err(|e| fail(data, e))?;
                let n = r.iter().map(|i| i.boxes.len()).sum();
                (data.clone(), c, r, n)
            }
            DatasetSpec::Synthetic { .. } => {
                return Err(DataError::Spec {
                    spec: spec.to_string(),
                    reason: "not a file dataset".into(),
                });
            }
        };
        let images = finalize(raw, opts.max_pixels, opts.decode_all, report, progress);
        if images.is_empty() {
            return Err(fail(
                &origin,
                format!("nothing loadable: {}", report.summary()),
            ));
        }
        link_problems(&images, report, &aliases);
        let report = std::mem::take(report);
        let n = images.len();
        let source = Source {
            spec: spec.to_string(),
            origin,
            classes,
            images,
            annotations_read,
            report,
            cache: ImageCache::new(opts.cache_images),
        };
        Ok(Self {
            label: source.spec.clone(),
            source: Arc::new(source),
            indices: Arc::new((0..n).collect()),
        })
    }

    /// The shared source (all images, classes, report).
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The validation report of the whole source.
    pub fn report(&self) -> &Report {
        &self.source.report
    }

    /// Image `i` of this view (no decoding).
    pub fn image(&self, i: usize) -> &LoadedImage {
        &self.source.images[self.indices[i]]
    }

    /// Index in the source of this view's image `i` (what [`crate::data::report::Problem::image`] holds).
    pub fn source_index(&self, i: usize) -> usize {
        self.indices[i]
    }

    /// The view's images that belong to `split`.
    pub fn split(&self, split: Split) -> Self {
        let idx: Vec<usize> = self
            .indices
            .iter()
            .copied()
            .filter(|&i| self.source.images[i].split == split)
            .collect();
        self.view(idx, split.as_str())
    }

    /// Training and held-out views: the `train` and `val` splits when the dataset has a
    /// validation split, else a seeded random 10% (at least one image) held out. With a single
    /// image both views hold it.
    pub fn train_val(&self, seed: u64) -> (Self, Self) {
        let val = self.split(Split::Val);
        if !val.is_empty() {
            let train = self.split(Split::Train);
            let train = if train.is_empty() {
                self.clone()
            } else {
                train
            };
            return (train, val);
        }
        let mut idx: Vec<usize> = self.indices.to_vec();
        if idx.len() < 2 {
            return (self.clone(), self.clone());
        }
        idx.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
        let k = (idx.len() / 10).max(1);
        let (mut v, mut t) = (idx[..k].to_vec(), idx[k..].to_vec());
        v.sort_unstable();
        t.sort_unstable();
        (self.view(t, "train"), self.view(v, "held-out 10%"))
    }

    fn view(&self, indices: Vec<usize>, what: &str) -> Self {
        Self {
            source: self.source.clone(),
            indices: Arc::new(indices),
            label: format!("{} ({what})", self.source.spec),
        }
    }

    fn out_of_range(&self, index: usize) -> DataError {
        DataError::IndexOutOfRange {
            dataset: self.name(),
            index,
            len: self.len(),
        }
    }

    /// Number of boxes (ignore regions included) in this view.
    pub fn box_count(&self) -> usize {
        self.indices
            .iter()
            .map(|&i| self.source.images[i].boxes.len())
            .sum()
    }
}

impl Dataset for FileDataset {
    fn name(&self) -> String {
        self.label.clone()
    }

    fn len(&self) -> usize {
        self.indices.len()
    }

    fn class_names(&self) -> Vec<String> {
        self.source.classes.clone()
    }

    fn load(&self, index: usize) -> Result<Sample, DataError> {
        let Some(&i) = self.indices.get(index) else {
            return Err(self.out_of_range(index));
        };
        let rec = &self.source.images[i];
        let img = self.source.cache.get_or_decode(i, || {
            image_io::decode(&rec.file).map_err(|e| DataError::Format {
                path: rec.file.clone(),
                record: "image".into(),
                reason: match e {
                    image_io::ReadError::Missing => {
                        "not found (it was there when the dataset was opened)".into()
                    }
                    image_io::ReadError::Unreadable(m) => m,
                },
            })
        })?;
        let mut image = (*img).clone();
        if image.dimensions() != rec.size {
            // The header and the decoder disagree (a changed file): keep the checked frame.
            image = image::imageops::resize(
                &image,
                rec.size.0,
                rec.size.1,
                image::imageops::FilterType::Triangle,
            );
        }
        let mut s = Sample {
            image,
            boxes: rec.boxes.clone(),
            classes: rec.classes.clone(),
            crowd: rec.crowd.clone(),
        };
        s.sort_crowd_last();
        Ok(s)
    }

    fn report(&self) -> Option<&Report> {
        Some(&self.source.report)
    }

    fn annotations(&self, index: usize) -> Result<Annotations, DataError> {
        let Some(&i) = self.indices.get(index) else {
            return Err(self.out_of_range(index));
        };
        let rec = &self.source.images[i];
        let mut a = Annotations {
            size: rec.size,
            boxes: rec.boxes.clone(),
            classes: rec.classes.clone(),
            crowd: rec.crowd.clone(),
        };
        a.sort_crowd_last();
        Ok(a)
    }

    fn image_file(&self, index: usize) -> Option<PathBuf> {
        let i = *self.indices.get(index)?;
        Some(self.source.images[i].file.clone())
    }

    fn source_image(&self, index: usize) -> Option<usize> {
        self.indices.get(index).copied()
    }

    fn image_name(&self, index: usize) -> String {
        match self.indices.get(index) {
            Some(&i) => {
                let f = &self.source.images[i].file;
                f.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| f.display().to_string())
            }
            None => format!("image {index}"),
        }
    }
}

/// Points problems found while parsing a per-image annotation file (a VOC XML, a YOLO label
/// file), or naming a kept image's record (COCO `image id N`, or an annotation record that
/// `aliases` maps to one), at that image, so the app can show it.
fn link_problems(
    images: &[LoadedImage],
    report: &mut Report,
    aliases: &std::collections::HashMap<String, String>,
) {
    let by_file: std::collections::HashMap<&Path, usize> = images
        .iter()
        .enumerate()
        .filter(|(_, im)| im.record.is_empty())
        .map(|(i, im)| (im.ann_file.as_path(), i))
        .collect();
    let by_record: std::collections::HashMap<(&Path, &str), usize> = images
        .iter()
        .enumerate()
        .filter(|(_, im)| !im.record.is_empty())
        .map(|(i, im)| ((im.ann_file.as_path(), im.record.as_str()), i))
        .collect();
    for p in &mut report.problems {
        if p.image.is_none() {
            p.image = by_file
                .get(p.file.as_path())
                .or_else(|| by_record.get(&(p.file.as_path(), p.record.as_str())))
                .or_else(|| {
                    let rec = aliases.get(&p.record)?;
                    by_record.get(&(p.file.as_path(), rec.as_str()))
                })
                .copied();
        }
    }
}
