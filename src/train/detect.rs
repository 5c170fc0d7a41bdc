//! Post-processing of head outputs into detections (torchvision RetinaNet's
//! `postprocess_detections`): per level, sigmoid scores of every (anchor, class), score
//! threshold, top-k; decode; clip to the image; per-class NMS; the best `max_dets`.

use crate::anchors::Anchors;
use crate::geometry::{Box4, DeltaCoder, batched_nms};
use crate::losses::classification::stable::sigmoid;
use serde::{Deserialize, Serialize};

/// Post-processing settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectConfig {
    /// Scores at or below this are dropped (0.05).
    pub score_thr: f32,
    /// Candidates kept per pyramid level before NMS (1000).
    pub topk_per_level: usize,
    /// NMS IoU threshold, per class (0.5).
    pub nms_iou: f32,
    /// Detections kept per image (100).
    pub max_dets: usize,
}

impl Default for DetectConfig {
    fn default() -> Self {
        Self {
            score_thr: 0.05,
            topk_per_level: 1000,
            nms_iou: 0.5,
            max_dets: 100,
        }
    }
}

/// One detection.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// Box, `xyxy` pixels, clipped to the image.
    pub bbox: Box4,
    /// Class probability.
    pub score: f32,
    /// Class, 0-based.
    pub class: usize,
    /// Index of the anchor it came from.
    pub anchor: usize,
}

/// Detections of one image from logits `[A][C]` and deltas `[A][4]`, sorted by decreasing
/// score. Panics if the slice lengths do not match `anchors` and `num_classes`.
pub fn detect(
    anchors: &Anchors,
    logits: &[f32],
    deltas: &[f32],
    num_classes: usize,
    coder: &DeltaCoder,
    image_size: (u32, u32),
    cfg: &DetectConfig,
) -> Vec<Detection> {
    let c = num_classes;
    assert_eq!(
        logits.len(),
        anchors.len() * c,
        "detect: logits must be [anchors][classes]"
    );
    assert_eq!(
        deltas.len(),
        anchors.len() * 4,
        "detect: deltas must be [anchors][4]"
    );
    let (w, h) = (image_size.0 as f32, image_size.1 as f32);
    let mut dets = Vec::new();
    for level in &anchors.levels {
        // (score, flat index) above the threshold, best first (ties: lower index first)
        let mut cand: Vec<(f32, usize)> = (level.start * c..(level.start + level.count) * c)
            .filter_map(|i| {
                let s = sigmoid(logits[i] as f64) as f32;
                (s > cfg.score_thr).then_some((s, i))
            })
            .collect();
        cand.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        cand.truncate(cfg.topk_per_level);
        for (score, i) in cand {
            let (a, class) = (i / c, i % c);
            let d = [
                deltas[4 * a],
                deltas[4 * a + 1],
                deltas[4 * a + 2],
                deltas[4 * a + 3],
            ];
            let b = coder.decode(&anchors.boxes[a], &d);
            let bbox = [
                b[0].clamp(0.0, w),
                b[1].clamp(0.0, h),
                b[2].clamp(0.0, w),
                b[3].clamp(0.0, h),
            ];
            dets.push(Detection {
                bbox,
                score,
                class,
                anchor: a,
            });
        }
    }
    let boxes: Vec<Box4> = dets.iter().map(|d| d.bbox).collect();
    let scores: Vec<f32> = dets.iter().map(|d| d.score).collect();
    let classes: Vec<usize> = dets.iter().map(|d| d.class).collect();
    let mut keep = batched_nms(&boxes, &scores, &classes, cfg.nms_iou);
    keep.truncate(cfg.max_dets);
    keep.into_iter().map(|i| dets[i]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anchors::AnchorConfig;

    #[test]
    fn threshold_nms_decode_and_cap() {
        let cfg = AnchorConfig {
            strides: vec![8, 16],
            octave_base_scale: 2.0,
            ..AnchorConfig::default()
        };
        let anchors = cfg.generate(32, 32);
        let c = 2;
        let mut logits = vec![-10.0f32; anchors.len() * c];
        let deltas = vec![0.0f32; anchors.len() * 4];
        // two overlapping anchors of class 1 (same location, neighbouring scales), one of class 0
        logits[c + 1] = 2.0; // anchor 1, class 1
        logits[2 * c + 1] = 1.0; // anchor 2, class 1: suppressed by anchor 1
        logits[2 * c] = 0.5; // anchor 2, class 0: other class, kept
        logits[40 * c] = -2.9; // sigmoid 0.052 > 0.05: kept
        logits[41 * c] = -3.0; // sigmoid 0.047: dropped
        logits[171 * c] = 0.0; // second level, cell (1, 1), class 0
        let coder = DeltaCoder::default();
        let d = detect(
            &anchors,
            &logits,
            &deltas,
            c,
            &coder,
            (32, 32),
            &DetectConfig::default(),
        );
        let got: Vec<(usize, usize)> = d.iter().map(|d| (d.anchor, d.class)).collect();
        assert_eq!(got, vec![(1, 1), (2, 0), (171, 0), (40, 0)]);
        assert!((d[0].score - sigmoid(2.0) as f32).abs() < 1e-6);
        // decoded with zero deltas = the anchor, clipped to the image
        let a = anchors.boxes[1];
        assert_eq!(
            d[0].bbox,
            [a[0].max(0.0), a[1].max(0.0), a[2].min(32.0), a[3].min(32.0)]
        );
        let capped = DetectConfig {
            max_dets: 2,
            ..DetectConfig::default()
        };
        assert_eq!(
            detect(&anchors, &logits, &deltas, c, &coder, (32, 32), &capped).len(),
            2
        );
        // one candidate per level: the best of each level survives
        let topk = DetectConfig {
            topk_per_level: 1,
            ..DetectConfig::default()
        };
        let d = detect(&anchors, &logits, &deltas, c, &coder, (32, 32), &topk);
        assert_eq!(d.iter().map(|d| d.anchor).collect::<Vec<_>>(), vec![1, 171]);
    }
}
