//! The patch search of the occlusion: inside a box, the patch whose filling most raises the
//! first-order estimate of the loss.
//!
//! Filling pixel `p` (every channel `c`) with the value `f` changes the loss by about
//! `g_{c,p} (f - x_{c,p})` (`g = dL/dx`), so a patch `P` by
//! `gain(P) = sum_{p in P} sum_c g_{c,p} (f - x_{c,p})` ([`gain_map`] holds the inner sum
//! per pixel). Patches are `round(frac * w) x round(frac * h)` pixels of the box's `w x h`,
//! at least one, on a grid of half a patch side inside the box, the last row and column
//! flush with the box's far edges ([`starts`]); ties go to the first in row order.

use crate::geometry::Box4;

/// A pixel rectangle: columns `x0..x1`, rows `y0..y1` (half-open).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PixelRect {
    /// First column.
    pub x0: usize,
    /// First row.
    pub y0: usize,
    /// One past the last column.
    pub x1: usize,
    /// One past the last row.
    pub y1: usize,
}

impl PixelRect {
    /// The pixels of an image `width x height` whose centres lie in box `b` (`xyxy`,
    /// continuous coordinates: pixel `i` spans `[i, i + 1)`); `None` when there are none.
    pub fn of_box(b: &Box4, width: u32, height: u32) -> Option<Self> {
        let span = |lo: f32, hi: f32, n: u32| {
            let first = (lo - 0.5).ceil().clamp(0.0, n as f32) as usize;
            let end = (hi - 0.5).ceil().clamp(0.0, n as f32) as usize;
            (first < end).then_some((first, end))
        };
        let (x0, x1) = span(b[0], b[2], width)?;
        let (y0, y1) = span(b[1], b[3], height)?;
        Some(Self { x0, y0, x1, y1 })
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.x1 - self.x0
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.y1 - self.y0
    }

    /// Whether pixel `(x, y)` is inside.
    pub fn contains(&self, x: usize, y: usize) -> bool {
        (self.x0..self.x1).contains(&x) && (self.y0..self.y1).contains(&y)
    }
}

/// Per pixel of one image, the first-order loss change of filling it with `fill`:
/// `sum_c g_{c,p} (fill - x_{c,p})`. `grad` and `x` are one image's `[3, H, W]` planes.
pub fn gain_map(grad: &[f32], x: &[f32], pixels: usize, fill: f32) -> Vec<f64> {
    assert_eq!(grad.len(), x.len(), "gain map: gradient and input lengths");
    assert_eq!(
        grad.len() % pixels,
        0,
        "gain map: planes of {pixels} pixels"
    );
    let mut gain = vec![0.0f64; pixels];
    for (g, v) in grad.chunks(pixels).zip(x.chunks(pixels)) {
        for (p, s) in gain.iter_mut().enumerate() {
            *s += g[p] as f64 * (fill - v[p]) as f64;
        }
    }
    gain
}

/// Start offsets of a patch of `k` pixels inside a span of `n` (from 0): every `max(1, k/2)`,
/// then `n - k` if the grid missed it.
pub fn starts(n: usize, k: usize) -> Vec<usize> {
    let k = k.clamp(1, n.max(1));
    let last = n.saturating_sub(k);
    let mut v: Vec<usize> = (0..=last).step_by((k / 2).max(1)).collect();
    if v.last() != Some(&last) {
        v.push(last);
    }
    v
}

/// The patch of `area` (a box's pixels) with the largest gain under `gain` (an image `width`
/// pixels wide, see [`gain_map`]) and that gain; `frac` is the patch side as a fraction of
/// the box's sides.
pub fn best_patch(gain: &[f64], width: usize, area: PixelRect, frac: f32) -> (PixelRect, f64) {
    let side = |n: usize| ((frac as f64 * n as f64).round() as usize).clamp(1, n);
    let (pw, ph) = (side(area.width()), side(area.height()));
    let mut best: Option<(PixelRect, f64)> = None;
    for oy in starts(area.height(), ph) {
        for ox in starts(area.width(), pw) {
            let r = PixelRect {
                x0: area.x0 + ox,
                y0: area.y0 + oy,
                x1: area.x0 + ox + pw,
                y1: area.y0 + oy + ph,
            };
            let s: f64 = (r.y0..r.y1)
                .map(|y| gain[y * width + r.x0..y * width + r.x1].iter().sum::<f64>())
                .sum();
            if best.is_none_or(|(_, b)| s > b) {
                best = Some((r, s));
            }
        }
    }
    best.expect("a non-empty box has a patch")
}
