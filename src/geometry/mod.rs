//! Boxes and their geometry: area, IoU (scalar and fused batch), delta coding (and its backward), NMS.
//!
//! Boxes are `[x1, y1, x2, y2]` in continuous pixel coordinates, no `+1`
//! (torchvision and pycocotools convention).

mod boxes;
mod delta;
mod delta_backward;
mod max_iou;
mod nms;

pub use boxes::{Box4, area, crowd_iou, intersection, iou, xywh_to_xyxy, xyxy_to_xywh};
pub use delta::DeltaCoder;
pub use delta_backward::decode_backward;
pub use max_iou::{MaxIouStats, iou_matrix, last_gt_reaching, max_iou_stats};
pub use nms::{batched_nms, nms, nms_match};
