//! RetinaNet / Faster R-CNN delta coding of a box relative to an anchor.

use super::boxes::Box4;
use serde::{Deserialize, Serialize};

/// Encodes boxes as `(dx, dy, dw, dh)` offsets from anchors, torchvision's convention:
/// `dx = wx * (gx - ax) / aw`, `dw = ww * ln(gw / aw)` (and likewise for y, h).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeltaCoder {
    /// Weights `(wx, wy, ww, wh)` multiplied into the deltas (torchvision RetinaNet: 1,1,1,1;
    /// MMDetection writes them as stds `1 / w`).
    pub weights: [f32; 4],
    /// Largest `dw`, `dh` accepted when decoding: `ln(1000 / 16)`.
    pub clamp: f32,
}

impl Default for DeltaCoder {
    fn default() -> Self {
        Self {
            weights: [1.0; 4],
            clamp: (1000.0f32 / 16.0).ln(),
        }
    }
}

fn centre_size(b: &Box4) -> (f32, f32, f32, f32) {
    let w = b[2] - b[0];
    let h = b[3] - b[1];
    (b[0] + 0.5 * w, b[1] + 0.5 * h, w, h)
}

impl DeltaCoder {
    /// Deltas that turn `anchor` into `gt`.
    pub fn encode(&self, anchor: &Box4, gt: &Box4) -> [f32; 4] {
        let (ax, ay, aw, ah) = centre_size(anchor);
        let (gx, gy, gw, gh) = centre_size(gt);
        let [wx, wy, ww, wh] = self.weights;
        [
            wx * (gx - ax) / aw,
            wy * (gy - ay) / ah,
            ww * (gw / aw).ln(),
            wh * (gh / ah).ln(),
        ]
    }

    /// The box that `deltas` describe relative to `anchor` (`dw`, `dh` clamped).
    pub fn decode(&self, anchor: &Box4, deltas: &[f32; 4]) -> Box4 {
        let (ax, ay, aw, ah) = centre_size(anchor);
        let [wx, wy, ww, wh] = self.weights;
        let dx = deltas[0] / wx;
        let dy = deltas[1] / wy;
        let dw = (deltas[2] / ww).min(self.clamp);
        let dh = (deltas[3] / wh).min(self.clamp);
        let cx = ax + dx * aw;
        let cy = ay + dy * ah;
        let w = aw * dw.exp();
        let h = ah * dh.exp();
        [cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_deltas() {
        let c = DeltaCoder::default();
        let d = c.encode(&[0.0, 0.0, 10.0, 10.0], &[5.0, 0.0, 15.0, 20.0]);
        assert!((d[0] - 0.5).abs() < 1e-6 && (d[1] - 0.5).abs() < 1e-6);
        assert!(d[2].abs() < 1e-6 && (d[3] - 2f32.ln()).abs() < 1e-6);
        // decoding clamps huge size deltas at ln(1000/16)
        let b = c.decode(&[0.0, 0.0, 16.0, 16.0], &[0.0, 0.0, 100.0, 0.0]);
        assert!(((b[2] - b[0]) - 1000.0).abs() < 1e-2);
    }

    proptest! {
        #[test]
        fn round_trip(
            a in (0.0f32..200.0, 0.0f32..200.0, 4.0f32..100.0, 4.0f32..100.0),
            g in (0.0f32..200.0, 0.0f32..200.0, 4.0f32..100.0, 4.0f32..100.0),
            w in (0.5f32..10.0, 0.5f32..10.0, 0.5f32..10.0, 0.5f32..10.0),
        ) {
            let c = DeltaCoder { weights: [w.0, w.1, w.2, w.3], ..Default::default() };
            let anchor = [a.0, a.1, a.0 + a.2, a.1 + a.3];
            let gt = [g.0, g.1, g.0 + g.2, g.1 + g.3];
            let back = c.decode(&anchor, &c.encode(&anchor, &gt));
            for k in 0..4 {
                prop_assert!((back[k] - gt[k]).abs() < 1e-2, "{:?} vs {:?}", back, gt);
            }
        }
    }
}
