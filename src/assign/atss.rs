//! ATSS (Zhang et al. 2020), following MMDetection's `ATSSAssigner`.

use super::AssignResult;
use crate::anchors::Anchors;
use crate::geometry::{Box4, iou, max_iou_stats};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Adaptive training sample selection. For each GT and each pyramid level, the `topk` anchors
/// whose centres are closest to the GT centre are candidates (ties: lower index first). The
/// GT's IoU threshold is mean + std of the candidates' IoUs (unbiased std, as torch's
/// `.std()`; 0 when there is a single candidate, where torch would give NaN and no positive).
/// A candidate is positive when its IoU >= the threshold and its centre lies inside the GT
/// (`min(l, t, r, b) > 0.01`, MMDetection). An anchor positive for several GTs goes to the GT
/// with the highest IoU (the lower GT index on ties). Every other anchor is negative: ATSS
/// ignores nothing. `max_iou` is each anchor's best IoU over all GTs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AtssAssigner {
    /// Candidates per level and GT.
    pub topk: usize,
}

impl Default for AtssAssigner {
    /// `topk = 9` (the paper and MMDetection).
    fn default() -> Self {
        Self { topk: 9 }
    }
}

/// One GT's candidates and adaptive threshold, for inspection.
#[derive(Clone, Debug, PartialEq)]
pub struct AtssCandidates {
    /// Candidate anchor indices, level by level, nearest first within a level.
    pub anchors: Vec<usize>,
    /// IoU of each candidate with the GT.
    pub ious: Vec<f32>,
    /// Mean of `ious`.
    pub mean: f32,
    /// Unbiased standard deviation of `ious` (0 for fewer than two candidates).
    pub std: f32,
    /// `mean + std`.
    pub threshold: f32,
    /// The candidates that pass the threshold and the centre test.
    pub positives: Vec<usize>,
}

/// Centre of a box.
#[inline]
fn centre(b: &Box4) -> (f32, f32) {
    ((b[0] + b[2]) * 0.5, (b[1] + b[3]) * 0.5)
}

/// Level slices `(start, count)`; anchors without level information form one level.
fn level_ranges(anchors: &Anchors) -> Vec<(usize, usize)> {
    if anchors.levels.is_empty() {
        vec![(0, anchors.boxes.len())]
    } else {
        anchors.levels.iter().map(|l| (l.start, l.count)).collect()
    }
}

impl AtssAssigner {
    /// Candidates, thresholds and positives of every GT (before resolving anchors claimed
    /// by several GTs).
    pub fn candidates(&self, anchors: &Anchors, gts: &[Box4]) -> Vec<AtssCandidates> {
        let ranges = level_ranges(anchors);
        gts.par_iter()
            .map(|g| self.gt_candidates(&anchors.boxes, &ranges, g))
            .collect()
    }

    fn gt_candidates(&self, boxes: &[Box4], ranges: &[(usize, usize)], g: &Box4) -> AtssCandidates {
        let (gx, gy) = centre(g);
        let mut cand = Vec::new();
        let mut level: Vec<(f32, usize)> = Vec::new();
        for &(start, count) in ranges {
            let k = self.topk.min(count);
            if k == 0 {
                continue;
            }
            level.clear();
            level.extend((start..start + count).map(|i| {
                let (cx, cy) = centre(&boxes[i]);
                ((cx - gx) * (cx - gx) + (cy - gy) * (cy - gy), i)
            }));
            let by_dist =
                |a: &(f32, usize), b: &(f32, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
            if k < level.len() {
                level.select_nth_unstable_by(k - 1, by_dist);
                level.truncate(k);
            }
            level.sort_unstable_by(by_dist);
            cand.extend(level.iter().map(|&(_, i)| i));
        }
        let ious: Vec<f32> = cand.iter().map(|&i| iou(&boxes[i], g)).collect();
        let n = ious.len();
        let mean = if n > 0 {
            ious.iter().map(|&v| v as f64).sum::<f64>() / n as f64
        } else {
            0.0
        };
        let std = if n > 1 {
            let ss: f64 = ious.iter().map(|&v| (v as f64 - mean).powi(2)).sum();
            (ss / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        let threshold = (mean + std) as f32;
        let positives = cand
            .iter()
            .zip(&ious)
            .filter(|&(&i, &v)| {
                let (cx, cy) = centre(&boxes[i]);
                let inside = (cx - g[0]).min(cy - g[1]).min(g[2] - cx).min(g[3] - cy) > 0.01;
                n > 0 && v >= threshold && inside
            })
            .map(|(&i, _)| i)
            .collect();
        AtssCandidates {
            anchors: cand,
            ious,
            mean: mean as f32,
            std: std as f32,
            threshold,
            positives,
        }
    }

    /// Assigns anchors (which must carry their levels) to `gts`.
    pub fn assign(&self, anchors: &Anchors, gts: &[Box4]) -> AssignResult {
        let n = anchors.boxes.len();
        let max_iou = max_iou_stats(&anchors.boxes, gts).anchor_max;
        let mut labels = vec![0i32; n];
        let mut best = vec![f32::NEG_INFINITY; n];
        for (gi, c) in self.candidates(anchors, gts).iter().enumerate() {
            for &a in &c.positives {
                let v = iou(&anchors.boxes[a], &gts[gi]);
                // a candidate may repeat only across levels, never within the GT's list
                if v > best[a] {
                    best[a] = v;
                    labels[a] = gi as i32 + 1;
                }
            }
        }
        AssignResult::from_labels(labels, max_iou)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anchors::{AnchorConfig, AnchorLevel};

    /// 4 x 4 grid of 8 x 8 anchors centred at (8x, 8y); anchor index = 4y + x.
    fn grid() -> Anchors {
        let cfg = AnchorConfig {
            strides: vec![8],
            base_sizes: vec![8.0],
            scales: vec![1.0],
            ratios: vec![1.0],
            ..AnchorConfig::default()
        };
        cfg.generate(32, 32)
    }

    fn mean_std(v: &[f64]) -> (f64, f64) {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        let s = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt();
        (m, s)
    }

    #[test]
    fn hand_built_candidates_and_threshold() {
        let a = grid();
        assert_eq!(a.boxes[5], [4.0, 4.0, 12.0, 12.0]);
        // GT centre (10, 7): squared distances 5 (anchor 5), 37 (anchor 6), 53 (anchor 1), ...
        let gt = [4.0, 2.0, 16.0, 12.0];
        let atss = AtssAssigner { topk: 3 };
        let c = &atss.candidates(&a, &[gt])[0];
        assert_eq!(c.anchors, vec![5, 6, 1]);
        // IoUs by hand: 64/120, 32/152, 16/168
        let ious = [64.0 / 120.0, 32.0 / 152.0, 16.0 / 168.0];
        for (x, e) in c.ious.iter().zip(ious) {
            assert!((*x as f64 - e).abs() < 1e-6);
        }
        let (m, s) = mean_std(&ious);
        assert!((c.mean as f64 - m).abs() < 1e-6 && (c.std as f64 - s).abs() < 1e-6);
        assert!((c.threshold - 0.506_79).abs() < 1e-4, "{}", c.threshold);
        assert_eq!(c.positives, vec![5]);
        let r = atss.assign(&a, &[gt]);
        assert_eq!(r.positives(), vec![5]);
        assert_eq!(r.num_neg(), 15);
        assert_eq!(r.num_ignored(), 0);
        assert!((r.max_iou[5] - 64.0 / 120.0).abs() < 1e-6);
    }

    #[test]
    fn anchor_claimed_twice_goes_to_highest_iou() {
        let a = grid();
        let g1 = [4.0, 2.0, 16.0, 12.0]; // anchor 5 at IoU 0.533
        let g2 = [4.5, 4.0, 12.5, 11.5]; // anchor 5 at IoU 56.25/67.75; candidates 5, 6, 1
        let atss = AtssAssigner { topk: 3 };
        let c = atss.candidates(&a, &[g1, g2]);
        assert_eq!(c[1].anchors, vec![5, 6, 1]);
        assert_eq!(
            (c[0].positives.clone(), c[1].positives.clone()),
            (vec![5], vec![5])
        );
        assert_eq!(atss.assign(&a, &[g1, g2]).labels[5], 2);
        assert_eq!(atss.assign(&a, &[g2, g1]).labels[5], 1);
    }

    #[test]
    fn centre_must_be_inside_gt() {
        // one thin GT; a big anchor whose centre lies on the GT border, five far anchors
        let gt = [0.0, 0.0, 100.0, 4.0];
        let make = |big: Box4| {
            let mut boxes = vec![big];
            boxes.extend((0..5).map(|i| {
                let x = 200.0 + 20.0 * i as f32;
                [x, 200.0, x + 10.0, 210.0]
            }));
            let level = AnchorLevel {
                stride: 8,
                feat_w: 6,
                feat_h: 1,
                start: 0,
                count: 6,
                per_location: 1,
            };
            Anchors {
                boxes,
                levels: vec![level],
                num_scales: 1,
                ratios: vec![1.0],
                scales: vec![1.0],
            }
        };
        let atss = AtssAssigner::default();
        // IoU 0.05 vs threshold 0.0287 but centre y = 0 (on the border): negative
        let on_border = make([0.0, -40.0, 100.0, 40.0]);
        let c = &atss.candidates(&on_border, &[gt])[0];
        assert_eq!(c.anchors.len(), 6);
        assert!(c.ious[0] >= c.threshold);
        assert!((c.threshold - 0.028_745).abs() < 1e-5, "{}", c.threshold);
        assert_eq!(atss.assign(&on_border, &[gt]).num_pos(), 0);
        // centre y = 1: inside, positive
        let inside = make([0.0, -39.0, 100.0, 41.0]);
        assert_eq!(atss.assign(&inside, &[gt]).positives(), vec![0]);
    }

    #[test]
    fn candidates_per_level_and_no_gt() {
        let a = AnchorConfig::default().generate(64, 64); // 3 levels: 576, 144, 36 anchors
        let atss = AtssAssigner::default();
        let gts = [[10.0, 12.0, 40.0, 50.0], [30.0, 5.0, 60.0, 20.0]];
        for (c, g) in atss.candidates(&a, &gts).iter().zip(&gts) {
            assert_eq!(c.anchors.len(), 27);
            for (l, chunk) in c.anchors.chunks(9).enumerate() {
                assert!(chunk.iter().all(|&i| a.level_of(i) == l));
            }
            for &p in &c.positives {
                assert!(iou(&a.boxes[p], g) >= c.threshold);
            }
        }
        let r = atss.assign(&a, &gts);
        assert!(r.num_pos() > 0);
        assert_eq!(r.num_pos() + r.num_neg(), a.len());
        let r = atss.assign(&a, &[]);
        assert_eq!(r.num_neg(), a.len());
        assert!(r.max_iou.iter().all(|&v| v == 0.0));
    }
}
