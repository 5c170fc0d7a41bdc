//! The dataset validation report: every problem a loader found, each naming its file, its record
//! and what is wrong, with a machine-readable [`Code`].
//!
//! Loaders never stop at a bad record: they skip it (or repair it as the code's table says),
//! keep loading and add a [`Problem`]. `anchorscope check` prints the report; `gui`, `inspect`
//! and `train` print its [`Report::summary`] on stderr.

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[cfg(test)]
mod tests;

/// What is wrong, one code per kind of problem (the README's table lists them with what the
/// loader does about each).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// Width or height <= 0 (VOC `xmax <= xmin` or `ymax <= ymin`): record dropped.
    BoxDegenerate,
    /// Box extends more than 1 px beyond the image: clipped (wholly outside: dropped).
    BoxOutside,
    /// A YOLO coordinate or size outside [0, 1] by more than 0.01: dropped.
    YoloUnnormalized,
    /// YOLO class not in `names`, COCO `category_id` not a category: dropped.
    ClassUnknown,
    /// YOLO row that is not 5 numbers nor a polygon: dropped.
    RowMalformed,
    /// The same YOLO row again in one file: the extra copy dropped.
    RowDuplicate,
    /// Image without a label file: a background image.
    LabelMissing,
    /// Image with an empty label file: a background image.
    LabelEmpty,
    /// `data.yaml` `nc` differs from the number of names: the names win.
    NamesMismatch,
    /// COCO annotation for an image id that is not an image: dropped.
    ImageIdUnknown,
    /// Repeated image, annotation or category id: the later one dropped.
    IdDuplicate,
    /// COCO annotation id 0 (pycocotools treats it as "unmatched"): kept, warned.
    AnnotationIdZero,
    /// A field missing or of the wrong type: dropped.
    FieldType,
    /// NaN or Infinity in a number: dropped, the file still loads.
    NonFinite,
    /// COCO image without width / height, VOC file without `<size>`: size from the image.
    SizeMissing,
    /// Declared size differs from the decoded image: the image's size wins.
    SizeMismatch,
    /// Image file not found: image dropped.
    ImageMissing,
    /// Image undecodable or truncated: image dropped.
    ImageUnreadable,
    /// Image under 8 px a side: image dropped.
    ImageTooSmall,
    /// Image over the pixel limit: image dropped.
    ImageTooLarge,
    /// An annotation file that does not parse (JSON, XML, YAML, label not text): file dropped.
    FileMalformed,
    /// XML with a DTD or entity declarations: refused, never expanded.
    XmlDtd,
}

impl Code {
    /// Every code, in the order of the README's table.
    pub const ALL: [Code; 22] = [
        Code::BoxDegenerate,
        Code::BoxOutside,
        Code::YoloUnnormalized,
        Code::ClassUnknown,
        Code::RowMalformed,
        Code::RowDuplicate,
        Code::LabelMissing,
        Code::LabelEmpty,
        Code::NamesMismatch,
        Code::ImageIdUnknown,
        Code::IdDuplicate,
        Code::AnnotationIdZero,
        Code::FieldType,
        Code::NonFinite,
        Code::SizeMissing,
        Code::SizeMismatch,
        Code::ImageMissing,
        Code::ImageUnreadable,
        Code::ImageTooSmall,
        Code::ImageTooLarge,
        Code::FileMalformed,
        Code::XmlDtd,
    ];

    /// The code as written in reports (`box_degenerate`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Code::BoxDegenerate => "box_degenerate",
            Code::BoxOutside => "box_outside",
            Code::YoloUnnormalized => "yolo_unnormalized",
            Code::ClassUnknown => "class_unknown",
            Code::RowMalformed => "row_malformed",
            Code::RowDuplicate => "row_duplicate",
            Code::LabelMissing => "label_missing",
            Code::LabelEmpty => "label_empty",
            Code::NamesMismatch => "names_mismatch",
            Code::ImageIdUnknown => "image_id_unknown",
            Code::IdDuplicate => "id_duplicate",
            Code::AnnotationIdZero => "annotation_id_zero",
            Code::FieldType => "field_type",
            Code::NonFinite => "non_finite",
            Code::SizeMissing => "size_missing",
            Code::SizeMismatch => "size_mismatch",
            Code::ImageMissing => "image_missing",
            Code::ImageUnreadable => "image_unreadable",
            Code::ImageTooSmall => "image_too_small",
            Code::ImageTooLarge => "image_too_large",
            Code::FileMalformed => "file_malformed",
            Code::XmlDtd => "xml_dtd",
        }
    }
}

/// One problem: which file, which record in it (`line 4`, `annotation id 17`, `object 2`),
/// what is wrong, and (when known) the image it concerns, for jumping to it in the app.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Problem {
    /// What kind of problem.
    pub code: Code,
    /// The file the record is in.
    pub file: PathBuf,
    /// The record inside the file.
    pub record: String,
    /// What is wrong and what the loader did.
    pub message: String,
    /// Index of the affected image in the opened dataset, when it was kept.
    #[serde(skip)]
    pub image: Option<usize>,
}

impl std::fmt::Display for Problem {
    /// One line: `file: record: code: message`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rec = if self.record.is_empty() {
            String::new()
        } else {
            format!("{}: ", self.record)
        };
        let msg = self.message.replace('\n', " ");
        write!(
            f,
            "{}: {rec}{}: {msg}",
            self.file.display(),
            self.code.as_str()
        )
    }
}

/// All problems of one dataset, in the order found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// The problems.
    pub problems: Vec<Problem>,
}

impl Report {
    /// Adds a problem.
    pub fn push(
        &mut self,
        code: Code,
        file: &Path,
        record: impl Into<String>,
        msg: impl Into<String>,
    ) {
        self.problems.push(Problem {
            code,
            file: file.to_path_buf(),
            record: record.into(),
            message: msg.into(),
            image: None,
        });
    }

    /// Appends another report's problems.
    pub fn extend(&mut self, other: Report) {
        self.problems.extend(other.problems);
    }

    /// `true` when nothing was found.
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    /// Number of problems of each code (codes without problems left out).
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut m = BTreeMap::new();
        for p in &self.problems {
            *m.entry(p.code.as_str()).or_insert(0) += 1;
        }
        m
    }

    /// Number of problems with `code`.
    pub fn count(&self, code: Code) -> usize {
        self.problems.iter().filter(|p| p.code == code).count()
    }

    /// One line for stderr: `N problems (code n, code n, ...)` or `no problems`.
    pub fn summary(&self) -> String {
        if self.problems.is_empty() {
            return "no problems".into();
        }
        let parts: Vec<String> = self
            .counts()
            .iter()
            .map(|(c, n)| format!("{c} {n}"))
            .collect();
        format!(
            "{} problem{} ({}); `anchorscope check` lists them",
            self.problems.len(),
            if self.problems.len() == 1 { "" } else { "s" },
            parts.join(", ")
        )
    }
}
