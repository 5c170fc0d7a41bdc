//! The fused IoU kernel: for N anchors and M ground-truth boxes, each anchor's best IoU and
//! its GT, and each GT's best IoU, without allocating the N x M matrix.

use super::boxes::{Box4, iou};
use rayon::prelude::*;

/// Anchors per parallel work item; GT columns are processed in tiles of [`GT_TILE`].
const ANCHOR_CHUNK: usize = 2048;
const GT_TILE: usize = 64;

/// Result of [`max_iou_stats`].
#[derive(Clone, Debug, PartialEq)]
pub struct MaxIouStats {
    /// Per anchor: the largest IoU over all GTs (0 when there is no GT).
    pub anchor_max: Vec<f32>,
    /// Per anchor: the GT reaching `anchor_max` (first on ties), or -1 when there is no GT.
    pub anchor_argmax: Vec<i32>,
    /// Per GT: the largest IoU over all anchors (0 when there is no anchor).
    pub gt_max: Vec<f32>,
}

/// Structure-of-arrays copy of the GT boxes so the inner loop vectorises.
struct GtSoa {
    x1: Vec<f32>,
    y1: Vec<f32>,
    x2: Vec<f32>,
    y2: Vec<f32>,
    area: Vec<f32>,
}

impl GtSoa {
    fn new(gts: &[Box4]) -> Self {
        Self {
            x1: gts.iter().map(|g| g[0]).collect(),
            y1: gts.iter().map(|g| g[1]).collect(),
            x2: gts.iter().map(|g| g[2]).collect(),
            y2: gts.iter().map(|g| g[3]).collect(),
            area: gts.iter().map(super::boxes::area).collect(),
        }
    }
}

/// IoU of one anchor against GTs `lo..lo+out.len()`, written to `out`. Same formula as
/// [`iou`], arranged for auto-vectorisation.
#[inline(always)]
fn iou_row(a: &Box4, a_area: f32, g: &GtSoa, lo: usize, out: &mut [f32]) {
    let n = out.len();
    let (x1, y1, x2, y2, ar) = (
        &g.x1[lo..lo + n],
        &g.y1[lo..lo + n],
        &g.x2[lo..lo + n],
        &g.y2[lo..lo + n],
        &g.area[lo..lo + n],
    );
    // Plain compare-and-select min/max (no NaN handling) so they compile to minps/maxps.
    let min = |p: f32, q: f32| if p < q { p } else { q };
    let max = |p: f32, q: f32| if p > q { p } else { q };
    for j in 0..n {
        let w = max(min(a[2], x2[j]) - max(a[0], x1[j]), 0.0);
        let h = max(min(a[3], y2[j]) - max(a[1], y1[j]), 0.0);
        let inter = w * h;
        let union = a_area + ar[j] - inter;
        out[j] = if union > 0.0 { inter / union } else { 0.0 };
    }
}

/// Anchors processed together, one per SIMD lane.
const LANES: usize = 8;

/// Per-anchor max/argmax and per-GT max for one chunk of anchors (the kernel's body).
/// Anchors go `LANES` at a time against one GT at a time, so every operation is a lane-wise
/// compare-and-select that vectorises; per-GT maxima stay per lane until the end.
#[inline(always)]
fn chunk_kernel(
    chunk: &[Box4],
    soa: &GtSoa,
    amax: &mut [f32],
    aarg: &mut [i32],
    gt_max: &mut [f32],
) {
    let m = gt_max.len();
    let min = |p: f32, q: f32| if p < q { p } else { q };
    let max = |p: f32, q: f32| if p > q { p } else { q };
    let mut gacc = vec![[0.0f32; LANES]; m];
    for (g, (am, ag)) in chunk
        .chunks(LANES)
        .zip(amax.chunks_mut(LANES).zip(aarg.chunks_mut(LANES)))
    {
        // Lanes past the end hold an empty box: IoU 0 everywhere, results discarded.
        let mut ax = [[0.0f32; LANES]; 4];
        let mut area = [0.0f32; LANES];
        for (k, a) in g.iter().enumerate() {
            for c in 0..4 {
                ax[c][k] = a[c];
            }
            area[k] = super::boxes::area(a);
        }
        let mut best = [f32::NEG_INFINITY; LANES];
        let mut arg = [0i32; LANES];
        for (j, acc) in gacc.iter_mut().enumerate().take(m) {
            let (x1, y1, x2, y2, ga) = (soa.x1[j], soa.y1[j], soa.x2[j], soa.y2[j], soa.area[j]);
            for k in 0..LANES {
                let w = max(min(ax[2][k], x2) - max(ax[0][k], x1), 0.0);
                let h = max(min(ax[3][k], y2) - max(ax[1][k], y1), 0.0);
                let inter = w * h;
                let union = area[k] + ga - inter;
                let v = if union > 0.0 { inter / union } else { 0.0 };
                let better = v > best[k];
                best[k] = if better { v } else { best[k] };
                arg[k] = if better { j as i32 } else { arg[k] };
                acc[k] = max(acc[k], v);
            }
        }
        am.copy_from_slice(&best[..am.len()]);
        ag.copy_from_slice(&arg[..ag.len()]);
    }
    for (g, acc) in gt_max.iter_mut().zip(&gacc) {
        for &v in acc {
            *g = max(*g, v);
        }
    }
}

/// [`chunk_kernel`] compiled for AVX2 + FMA (selected at run time).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn chunk_kernel_avx2(
    chunk: &[Box4],
    soa: &GtSoa,
    amax: &mut [f32],
    aarg: &mut [i32],
    gt_max: &mut [f32],
) {
    chunk_kernel(chunk, soa, amax, aarg, gt_max)
}

fn run_chunk(chunk: &[Box4], soa: &GtSoa, amax: &mut [f32], aarg: &mut [i32], gt_max: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports the features the function was compiled for.
        return unsafe { chunk_kernel_avx2(chunk, soa, amax, aarg, gt_max) };
    }
    chunk_kernel(chunk, soa, amax, aarg, gt_max)
}

/// Computes [`MaxIouStats`] for `anchors` x `gts` on all rayon threads. Memory is O(N + M).
pub fn max_iou_stats(anchors: &[Box4], gts: &[Box4]) -> MaxIouStats {
    let n = anchors.len();
    let m = gts.len();
    let mut anchor_max = vec![0.0f32; n];
    let mut anchor_argmax = vec![-1i32; n];
    if m == 0 || n == 0 {
        return MaxIouStats {
            anchor_max,
            anchor_argmax,
            gt_max: vec![0.0; m],
        };
    }
    let soa = GtSoa::new(gts);
    let gt_max = anchors
        .par_chunks(ANCHOR_CHUNK)
        .zip(anchor_max.par_chunks_mut(ANCHOR_CHUNK))
        .zip(anchor_argmax.par_chunks_mut(ANCHOR_CHUNK))
        .map(|((chunk, amax), aarg)| {
            let mut local_gt_max = vec![0.0f32; m];
            run_chunk(chunk, &soa, amax, aarg, &mut local_gt_max);
            local_gt_max
        })
        .reduce(
            || vec![0.0f32; m],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x = x.max(y);
                }
                a
            },
        );
    MaxIouStats {
        anchor_max,
        anchor_argmax,
        gt_max,
    }
}

/// For each anchor, the last GT `j` with `eligible[j]` whose IoU with the anchor equals
/// `targets[j]` exactly (-1 when none): MaxIoU's low-quality matching with
/// `gt_max_assign_all`. Uses the fused kernel's row formula, so the equality is exact.
pub fn last_gt_reaching(
    anchors: &[Box4],
    gts: &[Box4],
    targets: &[f32],
    eligible: &[bool],
) -> Vec<i32> {
    assert_eq!(targets.len(), gts.len());
    assert_eq!(eligible.len(), gts.len());
    let m = gts.len();
    let mut out = vec![-1i32; anchors.len()];
    if m == 0 {
        return out;
    }
    let soa = GtSoa::new(gts);
    anchors
        .par_chunks(ANCHOR_CHUNK)
        .zip(out.par_chunks_mut(ANCHOR_CHUNK))
        .for_each(|(chunk, o)| {
            let mut row = [0.0f32; GT_TILE];
            for (a, hit) in chunk.iter().zip(o.iter_mut()) {
                let a_area = super::boxes::area(a);
                let mut lo = 0;
                while lo < m {
                    let len = GT_TILE.min(m - lo);
                    let row = &mut row[..len];
                    iou_row(a, a_area, &soa, lo, row);
                    for (j, &v) in row.iter().enumerate() {
                        if eligible[lo + j] && v == targets[lo + j] {
                            *hit = (lo + j) as i32;
                        }
                    }
                    lo += len;
                }
            }
        });
    out
}

/// The full IoU matrix, row-major `[a][b]`. For small inputs (tests, hover read-outs).
pub fn iou_matrix(a: &[Box4], b: &[Box4]) -> Vec<Vec<f32>> {
    a.iter()
        .map(|x| b.iter().map(|y| iou(x, y)).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(anchors: &[Box4], gts: &[Box4]) -> MaxIouStats {
        let m = iou_matrix(anchors, gts);
        let mut s = MaxIouStats {
            anchor_max: vec![0.0; anchors.len()],
            anchor_argmax: vec![-1; anchors.len()],
            gt_max: vec![0.0; gts.len()],
        };
        for (i, row) in m.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                if s.anchor_argmax[i] < 0 || v > s.anchor_max[i] {
                    s.anchor_max[i] = v;
                    s.anchor_argmax[i] = j as i32;
                }
                s.gt_max[j] = s.gt_max[j].max(v);
            }
        }
        s
    }

    fn arb_boxes(max: usize) -> impl Strategy<Value = Vec<Box4>> {
        proptest::collection::vec(
            (0.0f32..100.0, 0.0f32..100.0, 1.0f32..50.0, 1.0f32..50.0)
                .prop_map(|(x, y, w, h)| [x, y, x + w, y + h]),
            0..max,
        )
    }

    proptest! {
        #[test]
        fn fused_matches_naive(anchors in arb_boxes(300), gts in arb_boxes(150)) {
            prop_assert_eq!(max_iou_stats(&anchors, &gts), naive(&anchors, &gts));
        }
    }

    proptest! {
        #[test]
        fn last_gt_reaching_matches_scalar(anchors in arb_boxes(200), gts in arb_boxes(80)) {
            let s = max_iou_stats(&anchors, &gts);
            let eligible: Vec<bool> = (0..gts.len()).map(|j| j % 3 != 1).collect();
            let got = last_gt_reaching(&anchors, &gts, &s.gt_max, &eligible);
            for (i, a) in anchors.iter().enumerate() {
                let want = (0..gts.len())
                    .rev()
                    .find(|&j| eligible[j] && iou(a, &gts[j]) == s.gt_max[j])
                    .map_or(-1, |j| j as i32);
                prop_assert_eq!(got[i], want);
            }
        }
    }

    #[test]
    fn many_chunks_and_tiles() {
        // more anchors than one chunk and more GTs than one tile
        let anchors: Vec<Box4> = (0..5000)
            .map(|i| {
                let x = (i % 100) as f32 * 3.0;
                let y = (i / 100) as f32 * 3.0;
                [x, y, x + 10.0 + (i % 7) as f32, y + 12.0]
            })
            .collect();
        let gts: Vec<Box4> = (0..70)
            .map(|j| {
                let x = (j * 13 % 280) as f32;
                [x, x * 0.5, x + 20.0, x * 0.5 + 15.0]
            })
            .collect();
        assert_eq!(max_iou_stats(&anchors, &gts), naive(&anchors, &gts));
    }
}
