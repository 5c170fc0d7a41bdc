//! The dataset abstraction: one annotated image ([`Sample`]), the [`Dataset`] trait every source
//! implements (synthetic scenes, and [`super::FileDataset`] for COCO, VOC and YOLO) and [`DataError`].

use std::path::PathBuf;

use crate::geometry::Box4;

/// One image with its annotations. The three annotation vectors have the same length.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The image, 8-bit RGB.
    pub image: image::RgbImage,
    /// Ground-truth boxes, `xyxy` in continuous pixel coordinates.
    pub boxes: Vec<Box4>,
    /// Class of each box, 0-based (index into [`Dataset::class_names`]).
    pub classes: Vec<usize>,
    /// COCO `iscrowd` flag of each box (always `false` for synthetic scenes).
    pub crowd: Vec<bool>,
}

/// A borrowed view of one image's annotations: boxes, classes and image size `(width, height)`.
/// The statistics in [`super::stats`] take iterators of these, so they work for any source.
pub type AnnotationView<'a> = (&'a [Box4], &'a [usize], (u32, u32));

impl Sample {
    /// Number of annotated objects.
    pub fn len(&self) -> usize {
        self.boxes.len()
    }

    /// `true` when the image has no annotated object.
    pub fn is_empty(&self) -> bool {
        self.boxes.is_empty()
    }

    /// Image size `(width, height)` in pixels.
    pub fn size(&self) -> (u32, u32) {
        self.image.dimensions()
    }

    /// The boxes to learn from, their classes, and the ignore regions (crowd / difficult
    /// boxes), as the assigners take them. Sources keep crowd boxes last
    /// ([`Self::sort_crowd_last`]), so a GT index into the first slice is also an index into
    /// `boxes`.
    pub fn split_crowd(&self) -> (&[Box4], &[usize], &[Box4]) {
        let n = self
            .crowd
            .iter()
            .position(|&c| c)
            .unwrap_or(self.boxes.len());
        debug_assert!(self.crowd[n..].iter().all(|&c| c), "crowd boxes come last");
        (&self.boxes[..n], &self.classes[..n], &self.boxes[n..])
    }

    /// Moves crowd boxes after the others (stable), as [`Self::split_crowd`] expects.
    pub fn sort_crowd_last(&mut self) {
        crowd_last(&mut self.boxes, &mut self.classes, &mut self.crowd);
    }

    /// The annotations without the pixels.
    pub fn annotations(&self) -> Annotations {
        Annotations {
            size: self.size(),
            boxes: self.boxes.clone(),
            classes: self.classes.clone(),
            crowd: self.crowd.clone(),
        }
    }

    /// The annotation view used by the statistics functions.
    pub fn view(&self) -> AnnotationView<'_> {
        (&self.boxes, &self.classes, self.size())
    }
}

/// Moves the crowd entries of three parallel vectors after the others (stable order).
fn crowd_last(boxes: &mut Vec<Box4>, classes: &mut Vec<usize>, crowd: &mut Vec<bool>) {
    if crowd.windows(2).all(|w| w[0] <= w[1]) {
        return;
    }
    let mut idx: Vec<usize> = (0..boxes.len()).collect();
    idx.sort_by_key(|&i| crowd[i]);
    *boxes = idx.iter().map(|&i| boxes[i]).collect();
    *classes = idx.iter().map(|&i| classes[i]).collect();
    *crowd = idx.iter().map(|&i| crowd[i]).collect();
}

/// One image's annotations without its pixels: what the data remedies and the class counts
/// read (cheap for file datasets: no image is decoded). Same conventions as [`Sample`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Annotations {
    /// Image size `(width, height)` in pixels.
    pub size: (u32, u32),
    /// Boxes, `xyxy` continuous pixels.
    pub boxes: Vec<Box4>,
    /// Class of each box.
    pub classes: Vec<usize>,
    /// Whether each box is an ignore region (crowd / difficult).
    pub crowd: Vec<bool>,
}

impl Annotations {
    /// The classes of the objects (ignore regions left out), one entry per box.
    pub fn object_classes(&self) -> Vec<usize> {
        self.classes
            .iter()
            .zip(&self.crowd)
            .filter(|(_, c)| !**c)
            .map(|(k, _)| *k)
            .collect()
    }

    /// Moves crowd boxes after the others (stable), as [`Sample::split_crowd`] expects.
    pub fn sort_crowd_last(&mut self) {
        crowd_last(&mut self.boxes, &mut self.classes, &mut self.crowd);
    }
}

/// A random-access source of annotated images.
pub trait Dataset: Send + Sync {
    /// A short human-readable name (for example the dataset SPEC it was opened from).
    fn name(&self) -> String;
    /// Number of images.
    fn len(&self) -> usize;
    /// `true` when the dataset holds no image.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Class names; a sample's class `k` is `class_names()[k]`.
    fn class_names(&self) -> Vec<String>;
    /// Loads image `index` (0-based, `< len()`) with its annotations.
    fn load(&self, index: usize) -> Result<Sample, DataError>;
    /// A short name of image `index` for lists (its file name for files).
    fn image_name(&self, index: usize) -> String {
        format!("image {index}")
    }
    /// The validation report of a dataset read from files (`None` for generated data).
    fn report(&self) -> Option<&super::report::Report> {
        None
    }
    /// Image `index`'s annotations without decoding it where the source can (the default
    /// loads the sample).
    fn annotations(&self, index: usize) -> Result<Annotations, DataError> {
        Ok(self.load(index)?.annotations())
    }
    /// The file image `index` is read from unchanged, when there is one (files, not tiles or
    /// generated scenes): `export` copies it instead of re-encoding.
    fn image_file(&self, _index: usize) -> Option<PathBuf> {
        None
    }
    /// The index in the opened source (what [`super::report::Problem::image`] holds) of the
    /// image that image `index` shows or is cut from, for file datasets and views over them.
    fn source_image(&self, _index: usize) -> Option<usize> {
        None
    }
}

/// Errors of dataset specs, loaders and configs. `Display` is one line naming the input
/// (file, record or spec) and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A dataset SPEC that does not parse.
    #[error("dataset spec `{spec}`: {reason}")]
    Spec {
        /// The spec as given.
        spec: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A dataset kind whose loader is not built in (yet).
    #[error("dataset spec `{spec}`: the {kind} loader is not available yet")]
    Unavailable {
        /// The spec as given.
        spec: String,
        /// Dataset kind (`coco`, `voc`, `yolo`).
        kind: String,
    },
    /// A file that cannot be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file whose content is wrong: `record` names the entry (e.g. `annotation 17`, `line 4`).
    #[error("{}: {record}: {reason}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// The record inside the file.
        record: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An invalid configuration value (`field` names the setting).
    #[error("config `{field}`: {reason}")]
    Config {
        /// The setting.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An image index past the end of a dataset.
    #[error("{dataset}: image index {index} out of range (dataset has {len} images)")]
    IndexOutOfRange {
        /// The dataset name.
        dataset: String,
        /// The requested index.
        index: usize,
        /// The dataset length.
        len: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_one_line_and_name_the_input() {
        let io = DataError::Io {
            path: "data/ann.json".into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "No such file"),
        };
        let fmt = DataError::Format {
            path: "labels/a.txt".into(),
            record: "line 4".into(),
            reason: "class 7 >= 3 classes".into(),
        };
        let oob = DataError::IndexOutOfRange {
            dataset: "d".into(),
            index: 5,
            len: 5,
        };
        assert_eq!(io.to_string(), "data/ann.json: No such file");
        assert_eq!(
            fmt.to_string(),
            "labels/a.txt: line 4: class 7 >= 3 classes"
        );
        for e in [io, fmt, oob] {
            assert!(!e.to_string().contains('\n'));
        }
    }
}
