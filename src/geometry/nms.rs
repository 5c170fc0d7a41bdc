//! Greedy non-maximum suppression: plain, per class, and grouped (MMCV's `nms_match`).

use super::boxes::{Box4, iou};

/// Greedy NMS in decreasing score order (ties: lower index first): each kept box, followed by
/// the boxes it suppressed (those not yet suppressed for which `suppresses(iou)` holds), in
/// score order. The one loop behind [`nms`] and [`nms_match`].
fn greedy_groups(
    boxes: &[Box4],
    scores: &[f32],
    suppresses: impl Fn(f32) -> bool,
) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..boxes.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let mut suppressed = vec![false; boxes.len()];
    let mut groups = Vec::new();
    for (pos, &i) in order.iter().enumerate() {
        if suppressed[i] {
            continue;
        }
        let mut g = vec![i];
        for &j in &order[pos + 1..] {
            if !suppressed[j] && suppresses(iou(&boxes[i], &boxes[j])) {
                suppressed[j] = true;
                g.push(j);
            }
        }
        groups.push(g);
    }
    groups
}

/// Indices of the boxes kept by greedy NMS, in decreasing score order. A box is suppressed
/// when its IoU with a kept, higher-scoring box is greater than `iou_thr` (torchvision
/// `ops.nms`). Ties in score keep the earlier index first.
pub fn nms(boxes: &[Box4], scores: &[f32], iou_thr: f32) -> Vec<usize> {
    assert_eq!(boxes.len(), scores.len(), "nms: one score per box");
    greedy_groups(boxes, scores, |o| o > iou_thr)
        .into_iter()
        .map(|g| g[0])
        .collect()
}

/// MMCV's `nms_match`: greedy NMS in decreasing score order (ties: lower index first) that
/// returns each kept box followed by the boxes it suppressed (IoU >= `thr`), by score.
pub fn nms_match(boxes: &[Box4], scores: &[f32], thr: f32) -> Vec<Vec<usize>> {
    greedy_groups(boxes, scores, |o| o >= thr)
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
