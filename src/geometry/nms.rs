//! Greedy non-maximum suppression, plain and per class.

use super::boxes::{Box4, iou};

/// Indices of the boxes kept by greedy NMS, in decreasing score order. A box is suppressed
/// when its IoU with a kept, higher-scoring box is greater than `iou_thr` (torchvision).
/// Ties in score keep the earlier index first.
pub fn nms(boxes: &[Box4], scores: &[f32], iou_thr: f32) -> Vec<usize> {
    assert_eq!(boxes.len(), scores.len(), "nms: one score per box");
    let mut order: Vec<usize> = (0..boxes.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let mut keep: Vec<usize> = Vec::new();
    let mut suppressed = vec![false; boxes.len()];
    for (pos, &i) in order.iter().enumerate() {
        if suppressed[i] {
            continue;
        }
        keep.push(i);
        for &j in &order[pos + 1..] {
            if !suppressed[j] && iou(&boxes[i], &boxes[j]) > iou_thr {
                suppressed[j] = true;
            }
        }
    }
    keep
}

/// NMS run independently per class (boxes of different classes never suppress each other).
/// Returns kept indices in decreasing score order over all classes.
pub fn batched_nms(boxes: &[Box4], scores: &[f32], classes: &[usize], iou_thr: f32) -> Vec<usize> {
    assert_eq!(boxes.len(), classes.len(), "batched_nms: one class per box");
    let mut by_class: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for (i, &c) in classes.iter().enumerate() {
        by_class.entry(c).or_default().push(i);
    }
    let mut keep = Vec::new();
    for idx in by_class.values() {
        let b: Vec<Box4> = idx.iter().map(|&i| boxes[i]).collect();
        let s: Vec<f32> = idx.iter().map(|&i| scores[i]).collect();
        keep.extend(nms(&b, &s, iou_thr).into_iter().map(|k| idx[k]));
    }
    keep.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppresses_overlaps() {
        let boxes = [
            [0.0, 0.0, 10.0, 10.0],
            [1.0, 1.0, 11.0, 11.0],
            [20.0, 20.0, 30.0, 30.0],
        ];
        let scores = [0.9, 0.8, 0.7];
        assert_eq!(nms(&boxes, &scores, 0.5), vec![0, 2]);
        // IoU of the first two is 81/119 = 0.681: suppressed below it, kept above it
        assert_eq!(nms(&boxes, &scores, 0.68), vec![0, 2]);
        assert_eq!(nms(&boxes, &scores, 0.69), vec![0, 1, 2]);
        // different classes do not suppress each other
        assert_eq!(batched_nms(&boxes, &scores, &[0, 1, 0], 0.5), vec![0, 1, 2]);
        assert_eq!(batched_nms(&boxes, &scores, &[1, 1, 0], 0.5), vec![0, 2]);
    }
}
