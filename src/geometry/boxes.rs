//! Scalar box primitives.

/// An axis-aligned box `[x1, y1, x2, y2]`, continuous pixel coordinates.
pub type Box4 = [f32; 4];

/// Area of a box; degenerate (inverted) boxes have area 0.
#[inline]
pub fn area(b: &Box4) -> f32 {
    (b[2] - b[0]).max(0.0) * (b[3] - b[1]).max(0.0)
}

/// Area of the intersection of two boxes.
#[inline]
pub fn intersection(a: &Box4, b: &Box4) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    w * h
}

/// Intersection over union; 0 when the union is empty.
#[inline]
pub fn iou(a: &Box4, b: &Box4) -> f32 {
    let inter = intersection(a, b);
    let union = area(a) + area(b) - inter;
    if union > 0.0 { inter / union } else { 0.0 }
}

/// IoU of a detection against a COCO crowd region: intersection over the detection's area.
#[inline]
pub fn crowd_iou(det: &Box4, crowd_gt: &Box4) -> f32 {
    let a = area(det);
    if a > 0.0 {
        intersection(det, crowd_gt) / a
    } else {
        0.0
    }
}

/// COCO `[x, y, w, h]` (top-left corner) to `xyxy`.
#[inline]
pub fn xywh_to_xyxy(b: [f32; 4]) -> Box4 {
    [b[0], b[1], b[0] + b[2], b[1] + b[3]]
}

/// `xyxy` to COCO `[x, y, w, h]`.
#[inline]
pub fn xyxy_to_xywh(b: &Box4) -> [f32; 4] {
    [b[0], b[1], b[2] - b[0], b[3] - b[1]]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        assert_eq!(area(&[0.0, 0.0, 2.0, 3.0]), 6.0);
        assert!((iou(&[0.0, 0.0, 2.0, 2.0], &[1.0, 1.0, 3.0, 3.0]) - 1.0 / 7.0).abs() < 1e-7);
        assert_eq!(iou(&[0.0, 0.0, 1.0, 1.0], &[2.0, 0.0, 3.0, 1.0]), 0.0);
        // a detection half inside a crowd region: crowd IoU 0.5, plain IoU smaller
        let det = [0.0, 0.0, 2.0, 2.0];
        let crowd = [1.0, 0.0, 10.0, 10.0];
        assert!((crowd_iou(&det, &crowd) - 0.5).abs() < 1e-7);
        assert!(iou(&det, &crowd) < 0.05);
        assert_eq!(
            xyxy_to_xywh(&xywh_to_xyxy([1.0, 2.0, 3.0, 4.0])),
            [1.0, 2.0, 3.0, 4.0]
        );
    }

    fn arb_box() -> impl Strategy<Value = Box4> {
        (-50.0f32..50.0, -50.0f32..50.0, 0.1f32..60.0, 0.1f32..60.0)
            .prop_map(|(x, y, w, h)| [x, y, x + w, y + h])
    }

    proptest! {
        #[test]
        fn iou_symmetric_bounded(a in arb_box(), b in arb_box()) {
            let ab = iou(&a, &b);
            let ba = iou(&b, &a);
            prop_assert_eq!(ab, ba);
            prop_assert!((0.0..=1.0).contains(&ab));
        }

        #[test]
        fn iou_self_is_one(a in arb_box()) {
            prop_assert!((iou(&a, &a) - 1.0).abs() < 1e-6);
        }

        #[test]
        fn crowd_iou_at_least_iou(a in arb_box(), b in arb_box()) {
            prop_assert!(crowd_iou(&a, &b) + 1e-6 >= iou(&a, &b));
            prop_assert!(crowd_iou(&a, &b) <= 1.0 + 1e-6);
        }
    }
}
