//! Back-propagation through [`DeltaCoder::decode`]: from a gradient on the decoded `xyxy` box
//! to a gradient on the deltas (for the IoU-family regression losses). Beside `delta.rs`, so
//! the forward and the backward of the coder read side by side.

use super::boxes::Box4;
use super::delta::DeltaCoder;

/// Chain rule through `decode(anchor, deltas)`: given `g = dL / d(x1, y1, x2, y2)` returns
/// `dL / d(dx, dy, dw, dh)`.
///
/// With `cx = ax + aw dx / wx`, `w = aw exp(min(dw / ww, clamp))`, `x1 = cx - w/2`,
/// `x2 = cx + w/2` (and the same for y, h):
/// - `d x1 / d dx = d x2 / d dx = aw / wx`,
/// - `d x1 / d dw = -w / (2 ww)`, `d x2 / d dw = w / (2 ww)`, 0 where the clamp is active.
pub fn decode_backward(
    coder: &DeltaCoder,
    anchor: &Box4,
    deltas: &[f32; 4],
    g: &[f64; 4],
) -> [f64; 4] {
    let aw = (anchor[2] - anchor[0]) as f64;
    let ah = (anchor[3] - anchor[1]) as f64;
    let [wx, wy, ww, wh] = coder.weights.map(f64::from);
    let clamp = coder.clamp as f64;
    let size_grad = |d: f32, wgt: f64, a: f64, g_lo: f64, g_hi: f64| {
        let s = d as f64 / wgt;
        if s > clamp {
            0.0
        } else {
            (g_hi - g_lo) * 0.5 * a * s.exp() / wgt
        }
    };
    [
        (g[0] + g[2]) * aw / wx,
        (g[1] + g[3]) * ah / wy,
        size_grad(deltas[2], ww, aw, g[0], g[2]),
        size_grad(deltas[3], wh, ah, g[1], g[3]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central differences of `sum(c_k * decode_k)` against the hand-written Jacobian.
    #[test]
    fn matches_finite_differences() {
        let coders = [
            DeltaCoder::default(),
            DeltaCoder {
                weights: [10.0, 10.0, 5.0, 5.0],
                ..DeltaCoder::default()
            },
        ];
        let anchor = [10.0f32, 20.0, 42.0, 36.0];
        let c = [0.3f64, -1.1, 0.7, 2.0];
        for coder in coders {
            for deltas in [[0.1f32, -0.2, 0.3, -0.1], [-0.4, 0.5, -0.6, 0.2]] {
                let f = |d: &[f32; 4]| {
                    let b = coder.decode(&anchor, d);
                    (0..4).map(|k| c[k] * b[k] as f64).sum::<f64>()
                };
                let g = decode_backward(&coder, &anchor, &deltas, &c);
                for k in 0..4 {
                    let h = 1e-2f32;
                    let (mut p, mut m) = (deltas, deltas);
                    p[k] += h;
                    m[k] -= h;
                    let fd = (f(&p) - f(&m)) / (2.0 * h as f64);
                    assert!(
                        (fd - g[k]).abs() <= 2e-3 * (1.0 + fd.abs()),
                        "{k}: {fd} vs {}",
                        g[k]
                    );
                }
            }
        }
        // beyond the clamp the size deltas have no gradient
        let g = decode_backward(&DeltaCoder::default(), &anchor, &[0.0, 0.0, 10.0, 0.0], &c);
        assert_eq!(g[2], 0.0);
    }
}
