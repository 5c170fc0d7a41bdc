//! MMDetection's `MaxIoUAssigner`, on the fused max-IoU kernel (no N x M matrix).

use super::AssignResult;
use crate::geometry::{Box4, iou, max_iou_stats};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// IoU-threshold assigner (MMDetection `MaxIoUAssigner` semantics, exactly):
/// 1. every anchor starts ignored (`-1`);
/// 2. anchors with `0 <= max_iou < neg_iou_thr` become negative (`0`);
/// 3. anchors with `max_iou >= pos_iou_thr` take their best GT (first on ties);
/// 4. low-quality matching: for each GT `i` in order whose best IoU `gt_max[i] >= min_pos_iou`,
///    every anchor whose IoU with GT `i` equals `gt_max[i]` (or, without `gt_max_assign_all`,
///    only the first such anchor) gets label `i + 1`; later GTs overwrite earlier ones.
///
/// Quirk kept from MMDetection: with `min_pos_iou = 0`, a GT that overlaps no anchor at all
/// (`gt_max = 0`) takes every anchor with IoU 0 against it. Filter degenerate GTs beforehand.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MaxIouAssigner {
    /// IoU at or above which an anchor is positive.
    pub pos_iou_thr: f32,
    /// IoU below which an anchor is negative (between the two: ignored).
    pub neg_iou_thr: f32,
    /// Smallest GT best-IoU for which low-quality matching applies.
    pub min_pos_iou: f32,
    /// Give every GT its best anchor(s) even below `pos_iou_thr`.
    pub match_low_quality: bool,
    /// Low-quality matching assigns all anchors tied at the GT's best IoU, not only the first.
    pub gt_max_assign_all: bool,
}

impl Default for MaxIouAssigner {
    /// RetinaNet: 0.5 / 0.4 / 0.0, low-quality matching on.
    fn default() -> Self {
        Self {
            pos_iou_thr: 0.5,
            neg_iou_thr: 0.4,
            min_pos_iou: 0.0,
            match_low_quality: true,
            gt_max_assign_all: true,
        }
    }
}

impl MaxIouAssigner {
    /// Faster R-CNN RPN: 0.7 / 0.3 / min_pos 0.3, low-quality matching on.
    pub fn rpn() -> Self {
        Self {
            pos_iou_thr: 0.7,
            neg_iou_thr: 0.3,
            min_pos_iou: 0.3,
            ..Self::default()
        }
    }

    /// Fast R-CNN stage: 0.5 / 0.5 / 0.5, no low-quality matching.
    pub fn rcnn() -> Self {
        Self {
            pos_iou_thr: 0.5,
            neg_iou_thr: 0.5,
            min_pos_iou: 0.5,
            match_low_quality: false,
            ..Self::default()
        }
    }

    /// Assigns each anchor to a GT, negative or ignored. With no GT every anchor is negative.
    pub fn assign(&self, anchors: &[Box4], gts: &[Box4]) -> AssignResult {
        let n = anchors.len();
        if gts.is_empty() {
            return AssignResult::from_labels(vec![0; n], vec![0.0; n]);
        }
        let stats = max_iou_stats(anchors, gts);
        let mut labels: Vec<i32> = stats
            .anchor_max
            .par_iter()
            .zip(&stats.anchor_argmax)
            .map(|(&m, &arg)| {
                if m >= self.pos_iou_thr {
                    arg + 1
                } else if m >= 0.0 && m < self.neg_iou_thr {
                    0
                } else {
                    -1
                }
            })
            .collect();
        if self.match_low_quality {
            self.low_quality(anchors, gts, &stats.gt_max, &mut labels);
        }
        AssignResult::from_labels(labels, stats.anchor_max)
    }

    /// Step 4 above. IoUs are recomputed GT by GT with the same formula as the fused kernel,
    /// so the equality test against `gt_max` is exact.
    fn low_quality(&self, anchors: &[Box4], gts: &[Box4], gt_max: &[f32], labels: &mut [i32]) {
        let eligible: Vec<usize> = (0..gts.len())
            .filter(|&i| gt_max[i] >= self.min_pos_iou)
            .collect();
        if eligible.is_empty() {
            return;
        }
        if self.gt_max_assign_all {
            // One pass per anchor: the last eligible GT (in order) reaching its best IoU wins,
            // which is what overwriting GT by GT produces.
            let mut mask = vec![false; gts.len()];
            for &i in &eligible {
                mask[i] = true;
            }
            let hits = crate::geometry::last_gt_reaching(anchors, gts, gt_max, &mask);
            labels.par_iter_mut().zip(hits).for_each(|(lab, h)| {
                if h >= 0 {
                    *lab = h + 1;
                }
            });
        } else {
            for &i in &eligible {
                if let Some(j) = first_best_anchor(anchors, &gts[i], gt_max[i]) {
                    labels[j] = i as i32 + 1;
                }
            }
        }
    }
}

/// The first anchor whose IoU with `gt` equals `best`.
fn first_best_anchor(anchors: &[Box4], gt: &Box4, best: f32) -> Option<usize> {
    anchors.par_iter().position_first(|a| iou(a, gt) == best)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::iou_matrix;
    use proptest::prelude::*;

    /// Straight transcription of MMDetection's `assign_wrt_overlaps` on a full matrix.
    fn reference(cfg: &MaxIouAssigner, anchors: &[Box4], gts: &[Box4]) -> Vec<i32> {
        let n = anchors.len();
        if gts.is_empty() {
            return vec![0; n];
        }
        let m = iou_matrix(anchors, gts);
        let mut labels = vec![-1; n];
        let mut gt_max = vec![f32::NEG_INFINITY; gts.len()];
        let mut gt_arg = vec![0usize; gts.len()];
        for (a, row) in m.iter().enumerate() {
            let (mut best, mut arg) = (f32::NEG_INFINITY, 0);
            for (g, &v) in row.iter().enumerate() {
                if v > best {
                    best = v;
                    arg = g;
                }
                if v > gt_max[g] {
                    gt_max[g] = v;
                    gt_arg[g] = a;
                }
            }
            if best >= 0.0 && best < cfg.neg_iou_thr {
                labels[a] = 0;
            }
            if best >= cfg.pos_iou_thr {
                labels[a] = arg as i32 + 1;
            }
        }
        if cfg.match_low_quality {
            for g in 0..gts.len() {
                if gt_max[g] >= cfg.min_pos_iou {
                    if cfg.gt_max_assign_all {
                        for a in 0..n {
                            if m[a][g] == gt_max[g] {
                                labels[a] = g as i32 + 1;
                            }
                        }
                    } else {
                        labels[gt_arg[g]] = g as i32 + 1;
                    }
                }
            }
        }
        labels
    }

    #[test]
    fn reference_value() {
        // MMDetection MaxIoUAssigner's rule, worked by hand (IoU 0.9 and 0): anchors
        // [[0,0,10,10],[10,10,20,20]] vs GT [[0,0,10,9]], 0.5/0.5 -> [1, 0]
        let cfg = MaxIouAssigner {
            pos_iou_thr: 0.5,
            neg_iou_thr: 0.5,
            ..Default::default()
        };
        let anchors = [[0.0, 0.0, 10.0, 10.0], [10.0, 10.0, 20.0, 20.0]];
        let r = cfg.assign(&anchors, &[[0.0, 0.0, 10.0, 9.0]]);
        assert_eq!(r.labels, vec![1, 0]);
        assert_eq!(r.matched_gt, vec![0, -1]);
        assert!((r.max_iou[0] - 0.9).abs() < 1e-6);
        assert_eq!(r.max_iou[1], 0.0);
    }

    #[test]
    fn no_gt_all_negative() {
        let r = MaxIouAssigner::default().assign(&[[0.0, 0.0, 1.0, 1.0]; 3], &[]);
        assert_eq!(r.labels, vec![0; 3]);
        assert_eq!(r.max_iou, vec![0.0; 3]);
        assert_eq!(r.matched_gt, vec![-1; 3]);
    }

    #[test]
    fn low_quality_and_ignore_band() {
        let anchors = [
            [0.0, 0.0, 10.0, 10.0],
            [0.0, 0.0, 20.0, 10.0],
            [30.0, 30.0, 40.0, 40.0],
        ];
        let gts = [[0.0, 0.0, 10.0, 4.5]]; // IoUs 0.45, 0.225, 0
        let base = MaxIouAssigner::default();
        assert_eq!(base.assign(&anchors, &gts).labels, vec![1, 0, 0]);
        let strict = MaxIouAssigner {
            match_low_quality: false,
            ..base.clone()
        };
        assert_eq!(strict.assign(&anchors, &gts).labels, vec![-1, 0, 0]);
        assert_eq!(
            MaxIouAssigner::rcnn().assign(&anchors, &gts).labels,
            vec![0, 0, 0]
        );
        // RPN: 0.45 is in the ignore band and above min_pos_iou 0.3, so low quality matches
        assert_eq!(
            MaxIouAssigner::rpn().assign(&anchors, &gts).labels,
            vec![1, 0, 0]
        );
        let high_min = MaxIouAssigner {
            min_pos_iou: 0.5,
            ..MaxIouAssigner::rpn()
        };
        assert_eq!(high_min.assign(&anchors, &gts).labels, vec![-1, 0, 0]);
    }

    #[test]
    fn ties_assign_all_or_first_and_later_gt_overwrites() {
        // two identical anchors tie for each GT's best IoU
        let anchors = [
            [0.0, 0.0, 10.0, 10.0],
            [0.0, 0.0, 10.0, 10.0],
            [50.0, 50.0, 60.0, 60.0],
        ];
        let gts = [[0.0, 0.0, 10.0, 3.0], [0.0, 0.0, 10.0, 3.5]];
        let all = MaxIouAssigner::default();
        // both GTs reach their best on anchors 0 and 1; GT 1 comes later and wins
        assert_eq!(all.assign(&anchors, &gts).labels, vec![2, 2, 0]);
        let first = MaxIouAssigner {
            gt_max_assign_all: false,
            ..all
        };
        assert_eq!(first.assign(&anchors, &gts).labels, vec![2, 0, 0]);
    }

    fn arb_boxes(lo: usize, hi: usize) -> impl Strategy<Value = Vec<Box4>> {
        proptest::collection::vec(
            (0.0f32..80.0, 0.0f32..80.0, 1.0f32..40.0, 1.0f32..40.0)
                .prop_map(|(x, y, w, h)| [x, y, x + w, y + h]),
            lo..hi,
        )
    }

    fn arb_cfg() -> impl Strategy<Value = MaxIouAssigner> {
        (
            0.3f32..0.8,
            0.1f32..0.5,
            0.0f32..0.4,
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(pos, neg, min_pos, lq, all)| MaxIouAssigner {
                pos_iou_thr: pos,
                neg_iou_thr: neg.min(pos),
                min_pos_iou: min_pos,
                match_low_quality: lq,
                gt_max_assign_all: all,
            })
    }

    proptest! {
        #[test]
        fn matches_reference(cfg in arb_cfg(), anchors in arb_boxes(0, 120), gts in arb_boxes(0, 12)) {
            let r = cfg.assign(&anchors, &gts);
            prop_assert_eq!(&r.labels, &reference(&cfg, &anchors, &gts));
        }

        #[test]
        fn labels_in_range_and_low_quality_covers_gts(
            cfg in arb_cfg(), anchors in arb_boxes(1, 120), gts in arb_boxes(0, 12)
        ) {
            let r = cfg.assign(&anchors, &gts);
            prop_assert_eq!(r.labels.len(), anchors.len());
            for (i, &l) in r.labels.iter().enumerate() {
                prop_assert!(l >= -1 && l <= gts.len() as i32);
                prop_assert_eq!(r.matched_gt[i], if l > 0 { l - 1 } else { -1 });
                if l > 0 && !cfg.match_low_quality {
                    prop_assert!(r.max_iou[i] >= cfg.pos_iou_thr);
                }
                if l == 0 {
                    prop_assert!(r.max_iou[i] < cfg.neg_iou_thr);
                }
            }
            if cfg.match_low_quality {
                let gt_max = max_iou_stats(&anchors, &gts).gt_max;
                let per_gt = r.pos_per_gt(gts.len());
                let eligible = |h: usize| gt_max[h] >= cfg.min_pos_iou;
                for g in (0..gts.len()).filter(|&g| eligible(g)) {
                    // a GT keeps a positive unless a later eligible GT, reaching its own best
                    // IoU on the same anchor(s), overwrites them (MMDetection's order)
                    let overwritten = if cfg.gt_max_assign_all {
                        anchors.iter().all(|a| {
                            iou(a, &gts[g]) != gt_max[g]
                                || (g + 1..gts.len())
                                    .any(|h| eligible(h) && iou(a, &gts[h]) == gt_max[h])
                        })
                    } else {
                        let a = first_best_anchor(&anchors, &gts[g], gt_max[g]);
                        (g + 1..gts.len()).any(|h| {
                            eligible(h) && first_best_anchor(&anchors, &gts[h], gt_max[h]) == a
                        })
                    };
                    if !overwritten {
                        prop_assert!(per_gt[g] >= 1, "GT {} (best {}) got no positive", g, gt_max[g]);
                    }
                }
            }
        }
    }
}
