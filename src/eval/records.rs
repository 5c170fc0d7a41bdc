//! The COCO JSON records box evaluation reads and writes: a ground-truth file (`images`,
//! `annotations`, `categories`) and a results file (a list of `image_id`, `category_id`,
//! `bbox`, `score`). Boxes are COCO `[x, y, w, h]` (top-left corner, continuous pixels).
//! Fields the evaluation does not use (segmentation, licenses, ...) are skipped on reading.

use serde::{Deserialize, Deserializer, Serialize};

/// A ground-truth file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GtFile {
    /// Every image of the split, with or without annotations.
    pub images: Vec<GtImage>,
    /// The annotated objects.
    #[serde(default)]
    pub annotations: Vec<GtAnnotation>,
    /// The classes.
    pub categories: Vec<CategoryRecord>,
}

/// One image of a ground-truth file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GtImage {
    /// Image id, unique in the file.
    pub id: u64,
    /// Width in pixels (0 when unknown).
    #[serde(default)]
    pub width: u32,
    /// Height in pixels (0 when unknown).
    #[serde(default)]
    pub height: u32,
    /// File name (may be empty).
    #[serde(default)]
    pub file_name: String,
}

/// One annotated object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GtAnnotation {
    /// Annotation id (pycocotools treats id 0 as "unmatched": avoid it).
    pub id: u64,
    /// The image it belongs to.
    pub image_id: u64,
    /// Its class.
    pub category_id: u64,
    /// `[x, y, w, h]`.
    pub bbox: [f64; 4],
    /// The area that places it in an area range (COCO: the mask's pixel count; `w * h` when
    /// the file has none).
    #[serde(default)]
    pub area: Option<f64>,
    /// COCO crowd region: matches many detections, never counted as missed.
    #[serde(default, deserialize_with = "flag")]
    pub iscrowd: bool,
}

/// One class.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CategoryRecord {
    /// Category id.
    pub id: u64,
    /// Display name.
    #[serde(default)]
    pub name: String,
}

/// One detection of a results file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ResultRecord {
    /// The image it was found on (must be in the GT file).
    pub image_id: u64,
    /// Its class.
    pub category_id: u64,
    /// `[x, y, w, h]`.
    pub bbox: [f64; 4],
    /// Confidence; higher ranks first.
    pub score: f64,
}

/// COCO writes `iscrowd` as 0 / 1; some tools write `true` / `false`.
fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Bool(b) => Ok(b),
        serde_json::Value::Number(n) if n.as_f64() == Some(0.0) => Ok(false),
        serde_json::Value::Number(n) if n.as_f64() == Some(1.0) => Ok(true),
        serde_json::Value::Null => Ok(false),
        other => Err(serde::de::Error::custom(format!(
            "iscrowd must be 0 or 1, got {other}"
        ))),
    }
}

/// `xyxy` corners to COCO `[x, y, w, h]`.
pub fn xyxy_to_xywh(b: [f32; 4]) -> [f64; 4] {
    let [x0, y0, x1, y1] = b.map(f64::from);
    [x0, y0, x1 - x0, y1 - y0]
}

/// COCO `[x, y, w, h]` to `xyxy` corners.
pub fn xywh_to_xyxy(b: [f64; 4]) -> [f32; 4] {
    [b[0], b[1], b[0] + b[2], b[1] + b[3]].map(|v| v as f32)
}

impl GtFile {
    /// The hotcoco dataset of this file (areas filled from `w * h` where missing).
    pub(crate) fn to_hotcoco(&self) -> hotcoco::Dataset {
        hotcoco::Dataset {
            images: self
                .images
                .iter()
                .map(|im| hotcoco::Image {
                    id: im.id,
                    file_name: im.file_name.clone(),
                    width: im.width,
                    height: im.height,
                    ..Default::default()
                })
                .collect(),
            annotations: self
                .annotations
                .iter()
                .map(|a| hotcoco::Annotation {
                    id: a.id,
                    image_id: a.image_id,
                    category_id: a.category_id,
                    bbox: Some(a.bbox),
                    area: Some(a.area.unwrap_or(a.bbox[2] * a.bbox[3])),
                    iscrowd: a.iscrowd,
                    ..Default::default()
                })
                .collect(),
            categories: self
                .categories
                .iter()
                .map(|c| hotcoco::Category {
                    id: c.id,
                    name: c.name.clone(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }
}

impl ResultRecord {
    /// The hotcoco annotation of this detection (id, area filled in by `load_res_anns`).
    pub(crate) fn to_hotcoco(self) -> hotcoco::Annotation {
        hotcoco::Annotation {
            image_id: self.image_id,
            category_id: self.category_id,
            bbox: Some(self.bbox),
            score: Some(self.score),
            ..Default::default()
        }
    }
}
