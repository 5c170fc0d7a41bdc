//! Test support of the evaluation's hand-made cases (`tests_ap`, `tests_analysis`,
//! `tests_files`): GT files and detections built from short tables.

use super::records::{CategoryRecord, GtAnnotation, GtFile, GtImage, ResultRecord};

/// A GT file of `images` images (ids 1..), classes named `names` (ids 1..) and the given
/// `(image_id, category_id, xywh, crowd)` objects (annotation ids 1..).
pub(super) fn gt_file(
    images: u64,
    names: &[&str],
    objects: &[(u64, u64, [f64; 4], bool)],
) -> GtFile {
    GtFile {
        images: (1..=images)
            .map(|id| GtImage {
                id,
                width: 640,
                height: 480,
                file_name: format!("{id}.png"),
            })
            .collect(),
        annotations: objects
            .iter()
            .enumerate()
            .map(
                |(i, &(image_id, category_id, bbox, iscrowd))| GtAnnotation {
                    id: i as u64 + 1,
                    image_id,
                    category_id,
                    bbox,
                    area: None,
                    iscrowd,
                },
            )
            .collect(),
        categories: names
            .iter()
            .enumerate()
            .map(|(i, n)| CategoryRecord {
                id: i as u64 + 1,
                name: (*n).to_string(),
            })
            .collect(),
    }
}

/// A detection `(image_id, category_id, xywh, score)`.
pub(super) fn det(image_id: u64, category_id: u64, bbox: [f64; 4], score: f64) -> ResultRecord {
    ResultRecord {
        image_id,
        category_id,
        bbox,
        score,
    }
}
