//! Ignore regions (COCO crowd boxes, VOC difficult objects) in assignment, as MMDetection's
//! assigners treat `gt_bboxes_ignore`: an anchor whose IoF with some region (intersection over
//! the anchor's own area) exceeds `ignore_iof_thr` takes no part in the assignment (it can be
//! neither negative nor any GT's best anchor) and is labelled ignored (`-1`).
//!
//! MMDetection's `MaxIoUAssigner` sets such anchors' overlaps to -1 before assigning and its
//! `ATSSAssigner` sets their centre distances to infinity; both amount to assigning the other
//! anchors alone, which is what [`assign_ignoring`] does. A threshold <= 0 or no region
//! disables it (MMDetection: `ignore_iof_thr = -1`).

use super::{AssignResult, AssignerConfig};
use crate::anchors::Anchors;
use crate::geometry::{Box4, area, intersection, iou};
use rayon::prelude::*;

/// MMDetection's usual threshold for ignore regions.
pub const DEFAULT_IGNORE_IOF_THR: f32 = 0.5;

/// Intersection of `anchor` and `region` over the anchor's area (0 for an empty anchor).
pub fn iof(anchor: &Box4, region: &Box4) -> f32 {
    let a = area(anchor);
    if a <= 0.0 {
        0.0
    } else {
        intersection(anchor, region) / a
    }
}

/// Per anchor: `true` when its largest IoF over `regions` exceeds `thr`.
pub fn ignored_mask(anchors: &[Box4], regions: &[Box4], thr: f32) -> Vec<bool> {
    anchors
        .par_iter()
        .map(|a| regions.iter().any(|r| iof(a, r) > thr))
        .collect()
}

/// Assigns `anchors` to `gts` with `cfg`, anchors covered by an ignore region (IoF > `thr`)
/// excluded and labelled `-1`. Their `max_iou` is still their best IoU with the GTs (for the
/// plots).
pub fn assign_ignoring(
    cfg: &AssignerConfig,
    anchors: &Anchors,
    gts: &[Box4],
    regions: &[Box4],
    thr: f32,
) -> AssignResult {
    if regions.is_empty() || thr <= 0.0 {
        return cfg.assign(anchors, gts);
    }
    let mask = ignored_mask(&anchors.boxes, regions, thr);
    if !mask.iter().any(|&m| m) {
        return cfg.assign(anchors, gts);
    }
    let kept: Vec<usize> = (0..mask.len()).filter(|&i| !mask[i]).collect();
    let mut levels = anchors.levels.clone();
    for l in &mut levels {
        let (s, e) = (l.start, l.start + l.count);
        l.start = kept.partition_point(|&i| i < s);
        l.count = kept.partition_point(|&i| i < e) - l.start;
    }
    let sub = Anchors {
        boxes: kept.iter().map(|&i| anchors.boxes[i]).collect(),
        levels,
        num_scales: anchors.num_scales,
        ratios: anchors.ratios.clone(),
        scales: anchors.scales.clone(),
    };
    let r = cfg.assign(&sub, gts);
    let mut labels = vec![-1; mask.len()];
    let mut max_iou: Vec<f32> = anchors
        .boxes
        .par_iter()
        .zip(&mask)
        .map(|(a, &m)| {
            if m {
                gts.iter().map(|g| iou(a, g)).fold(0.0, f32::max)
            } else {
                0.0
            }
        })
        .collect();
    for (k, &i) in kept.iter().enumerate() {
        labels[i] = r.labels[k];
        max_iou[i] = r.max_iou[k];
    }
    AssignResult::from_labels(labels, max_iou)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assign::{AtssAssigner, MaxIouAssigner};

    fn flat(boxes: Vec<Box4>) -> Anchors {
        Anchors {
            boxes,
            levels: Vec::new(),
            num_scales: 1,
            ratios: vec![1.0],
            scales: vec![1.0],
        }
    }

    /// Hand-computed: region [0, 0, 10, 10]. Anchor A [0, 0, 10, 10] (IoF 1), anchor B
    /// [5, 0, 15, 10] (IoF 50 / 100 = 0.5, not above 0.5), anchor C [8, 0, 18, 10]
    /// (IoF 20 / 100 = 0.2), anchor D [40, 40, 50, 50] (IoF 0). GT [40, 40, 50, 50].
    #[test]
    fn iof_threshold_hand_case_max_iou() {
        let region = [0.0, 0.0, 10.0, 10.0];
        assert_eq!(iof(&[0.0, 0.0, 10.0, 10.0], &region), 1.0);
        assert_eq!(iof(&[5.0, 0.0, 15.0, 10.0], &region), 0.5);
        assert!((iof(&[8.0, 0.0, 18.0, 10.0], &region) - 0.2).abs() < 1e-6);
        // a big anchor holding the region: IoF = 100 / 400, though the region is inside it
        assert_eq!(iof(&[0.0, 0.0, 20.0, 20.0], &region), 0.25);
        let anchors = flat(vec![
            [0.0, 0.0, 10.0, 10.0],
            [5.0, 0.0, 15.0, 10.0],
            [8.0, 0.0, 18.0, 10.0],
            [40.0, 40.0, 50.0, 50.0],
        ]);
        let gts = [[40.0, 40.0, 50.0, 50.0]];
        let cfg = AssignerConfig::MaxIou(MaxIouAssigner::default());
        let r = assign_ignoring(&cfg, &anchors, &gts, &[region], 0.5);
        assert_eq!(r.labels, vec![-1, 0, 0, 1]);
        // threshold 0.1: C (0.2) is ignored too; threshold <= 0 disables
        let r = assign_ignoring(&cfg, &anchors, &gts, &[region], 0.1);
        assert_eq!(r.labels, vec![-1, -1, -1, 1]);
        let r = assign_ignoring(&cfg, &anchors, &gts, &[region], -1.0);
        assert_eq!(r.labels, vec![0, 0, 0, 1]);
    }

    /// An ignored anchor cannot be a GT's low-quality best match. GT [0, 0, 10, 4]; anchor A
    /// [0, 0, 10, 10] has IoU 40 / 100 = 0.4 with it (the 0.4..0.5 band, so ignored, but
    /// low-quality matching makes A the GT's); anchor B [20, 0, 30, 6] has IoU 0. With a region
    /// covering A, A is `-1` and the GT's best remaining IoU is B's 0, which (MMDetection's
    /// quirk with `min_pos_iou = 0`, kept by the assigner) still low-quality-matches B.
    #[test]
    fn ignored_anchor_never_matched() {
        let anchors = flat(vec![[0.0, 0.0, 10.0, 10.0], [20.0, 0.0, 30.0, 6.0]]);
        let gts = [[0.0, 0.0, 10.0, 4.0]];
        let cfg = AssignerConfig::MaxIou(MaxIouAssigner::default());
        let plain = cfg.assign(&anchors, &gts);
        assert_eq!(plain.labels[0], 1, "low-quality match without ignoring");
        let region = [0.0, 0.0, 10.0, 10.0];
        let r = assign_ignoring(&cfg, &anchors, &gts, &[region], 0.5);
        assert_eq!(r.labels, vec![-1, 1]);
        assert!(
            (r.max_iou[0] - 0.4).abs() < 1e-6,
            "max IoU kept for the plots"
        );
    }

    #[test]
    fn atss_levels_survive_the_subset() {
        let a = crate::anchors::AnchorConfig::default().generate(64, 64);
        let gts = [[10.0, 10.0, 40.0, 44.0]];
        let region = [40.0, 0.0, 64.0, 64.0];
        let cfg = AssignerConfig::Atss(AtssAssigner::default());
        let r = assign_ignoring(&cfg, &a, &gts, &[region], 0.5);
        let mask = ignored_mask(&a.boxes, &[region], 0.5);
        assert!(mask.iter().any(|&m| m));
        for (l, m) in r.labels.iter().zip(&mask) {
            assert_eq!(*m, *l == -1, "ATSS ignores nothing but the regions");
        }
        assert!(r.num_pos() > 0);
    }
}
