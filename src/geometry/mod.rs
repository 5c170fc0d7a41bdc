//! Boxes and their geometry: area, IoU (scalar and fused batch), delta coding, NMS.
//!
//! Boxes are `[x1, y1, x2, y2]` in continuous pixel coordinates, no `+1`
//! (torchvision and pycocotools convention).

mod batch;
mod boxes;
mod delta;
mod nms;

pub use batch::{MaxIouStats, iou_matrix, last_gt_reaching, max_iou_stats};
pub use boxes::{Box4, area, crowd_iou, intersection, iou, xywh_to_xyxy, xyxy_to_xywh};
pub use delta::DeltaCoder;
pub use nms::{batched_nms, nms};
