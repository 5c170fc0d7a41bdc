//! What the parsers produce before the images are looked at: [`RawImage`]s with
//! [`RawBox`]es, each still carrying the file and record it came from for the report.

use crate::geometry::Box4;
use std::path::PathBuf;

/// Which split an image belongs to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Training images (also: a dataset without splits).
    #[default]
    Train,
    /// Validation images (the held-out split of `train`).
    Val,
    /// Test images.
    Test,
}

impl Split {
    /// `train`, `val` or `test`.
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Val => "val",
            Split::Test => "test",
        }
    }
}

/// One parsed box, `xyxy` in continuous pixel coordinates of the (EXIF-oriented) image.
#[derive(Clone, Debug, PartialEq)]
pub struct RawBox {
    /// The box.
    pub bbox: Box4,
    /// Class, 0-based.
    pub class: usize,
    /// A region the assigners ignore (COCO `iscrowd`, VOC `difficult`).
    pub ignore: bool,
    /// The record it came from (`annotation id 7`, `object 2`, `line 3`).
    pub record: String,
    /// Normalised YOLO coordinates, scaled once the image size is known.
    pub normalized: bool,
}

/// One parsed image entry.
#[derive(Clone, Debug, PartialEq)]
pub struct RawImage {
    /// The image file.
    pub file: PathBuf,
    /// The annotation file describing it (named by the report).
    pub ann_file: PathBuf,
    /// The record naming the image inside `ann_file` (`image id 3`, empty for a whole file).
    pub record: String,
    /// Size declared by the annotations `(width, height)`, if any.
    pub declared: Option<(u32, u32)>,
    /// Its boxes.
    pub boxes: Vec<RawBox>,
    /// Its split.
    pub split: Split,
}
