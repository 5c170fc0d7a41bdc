//! What each anchor looks like in the image view: the per-anchor quantity of the overlay mode,
//! its colour, and the legend that explains the colours.

use crate::app::state::{OverlayMode, OverlaySettings};
use crate::inspect::Inspection;
use egui::Color32;

/// Colour of positive anchors.
pub const POSITIVE: Color32 = Color32::from_rgb(70, 220, 110);
/// Colour of negative anchors.
pub const NEGATIVE: Color32 = Color32::from_rgb(90, 140, 230);
/// Colour of ignored anchors.
pub const IGNORED: Color32 = Color32::from_rgb(250, 170, 40);
/// Colour of picked negatives.
pub const PICKED_NEGATIVE: Color32 = Color32::from_rgb(235, 80, 80);
/// Colour of anchors the sampler did not pick.
pub const NOT_PICKED: Color32 = Color32::from_rgb(120, 120, 130);

/// Class colours for GT boxes (cycled).
pub fn class_colour(c: usize) -> Color32 {
    const C: [Color32; 8] = [
        Color32::from_rgb(255, 210, 60),
        Color32::from_rgb(80, 220, 255),
        Color32::from_rgb(255, 120, 220),
        Color32::from_rgb(180, 255, 120),
        Color32::from_rgb(255, 150, 90),
        Color32::from_rgb(170, 150, 255),
        Color32::from_rgb(255, 255, 255),
        Color32::from_rgb(120, 255, 200),
    ];
    C[c % C.len()]
}

/// Viridis-like colour map on [0, 1] (5 stops, linear in between).
pub fn viridis(t: f32) -> Color32 {
    ramp(
        t,
        &[
            [68, 1, 84],
            [59, 82, 139],
            [33, 145, 140],
            [94, 201, 98],
            [253, 231, 37],
        ],
    )
}

/// Inferno-like heat map on [0, 1].
pub fn heat(t: f32) -> Color32 {
    ramp(
        t,
        &[
            [20, 11, 52],
            [120, 28, 109],
            [207, 68, 70],
            [251, 155, 6],
            [252, 255, 164],
        ],
    )
}

fn ramp(t: f32, stops: &[[u8; 3]]) -> Color32 {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * (stops.len() - 1) as f32;
    let i = (x.floor() as usize).min(stops.len() - 2);
    let f = x - i as f32;
    let c = |k: usize| stops[i][k] as f32 * (1.0 - f) + stops[i + 1][k] as f32 * f;
    Color32::from_rgb(c(0) as u8, c(1) as u8, c(2) as u8)
}

pub use crate::inspect::weights::loss_weights;

/// Range of log10 weights used to normalise the heat colours.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WeightRange {
    /// log10 of the smallest positive weight.
    pub lo: f32,
    /// log10 of the largest weight.
    pub hi: f32,
}

impl WeightRange {
    /// The range over `w` (positive entries only); a one-decade range when all are equal.
    pub fn of(w: &[f32]) -> Self {
        let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
        for &x in w.iter().filter(|x| **x > 0.0) {
            lo = lo.min(x.log10());
            hi = hi.max(x.log10());
        }
        if !lo.is_finite() {
            return Self { lo: -1.0, hi: 0.0 };
        }
        if hi - lo < 1e-3 {
            lo -= 0.5;
            hi += 0.5;
        }
        Self { lo, hi }
    }

    /// Position of weight `w` in the range, 0..1.
    pub fn t(&self, w: f32) -> f32 {
        if w <= 0.0 {
            0.0
        } else {
            (w.log10() - self.lo) / (self.hi - self.lo)
        }
    }
}

/// Colour of anchor `i` in `mode`. `weights` are the loss weights (LossWeight mode only).
pub fn anchor_colour(
    ins: &Inspection,
    settings: &OverlaySettings,
    i: usize,
    weights: &[f32],
    range: WeightRange,
) -> Color32 {
    let label = ins.assign.labels[i];
    match settings.mode {
        OverlayMode::Assignment => match label {
            l if l > 0 => POSITIVE,
            0 => NEGATIVE,
            _ => IGNORED,
        },
        OverlayMode::MaxIou => viridis(ins.assign.max_iou[i]),
        OverlayMode::SamplerPick => {
            let w = ins
                .sampler(settings.sampler.key())
                .map(|r| r.weights[i])
                .unwrap_or(0.0);
            match (w > 0.0, label) {
                (true, l) if l > 0 => POSITIVE,
                (true, _) => PICKED_NEGATIVE,
                _ => NOT_PICKED,
            }
        }
        OverlayMode::LossWeight => heat(range.t(weights.get(i).copied().unwrap_or(0.0))),
    }
}

/// One legend entry: a colour and its meaning, or a colour ramp with end labels.
pub enum LegendItem {
    /// A swatch.
    Swatch(Color32, String),
    /// A gradient from the first to the last label.
    Ramp(fn(f32) -> Color32, String, String),
}

/// The legend of the current mode.
pub fn legend(settings: &OverlaySettings, range: WeightRange) -> (String, Vec<LegendItem>) {
    use LegendItem::*;
    match settings.mode {
        OverlayMode::Assignment => (
            "Assigner labels".into(),
            vec![
                Swatch(POSITIVE, "positive".into()),
                Swatch(NEGATIVE, "negative".into()),
                Swatch(IGNORED, "ignored".into()),
            ],
        ),
        OverlayMode::MaxIou => (
            "Max IoU with any GT".into(),
            vec![Ramp(viridis, "0".into(), "1".into())],
        ),
        OverlayMode::SamplerPick => (
            format!("Picked by {}", settings.sampler.label()),
            vec![
                Swatch(POSITIVE, "picked positive".into()),
                Swatch(PICKED_NEGATIVE, "picked negative".into()),
                Swatch(NOT_PICKED, "not picked".into()),
            ],
        ),
        OverlayMode::LossWeight => (
            format!(
                "{} weight |dL/dx| / |dCE/dx| (gradient relative to CE)",
                settings.loss.name()
            ),
            vec![Ramp(
                heat,
                format!("{:.0e}", 10f32.powf(range.lo)),
                format!("{:.0e}", 10f32.powf(range.hi)),
            )],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramps_and_ranges() {
        assert_eq!(viridis(0.0), Color32::from_rgb(68, 1, 84));
        assert_eq!(heat(1.0), Color32::from_rgb(252, 255, 164));
        assert_eq!(heat(f32::NAN), heat(0.0));
        let r = WeightRange::of(&[0.0, 1e-4, 1e-1]);
        assert!((r.lo + 4.0).abs() < 1e-5 && (r.hi + 1.0).abs() < 1e-5);
        assert!((r.t(1e-1) - 1.0).abs() < 1e-5 && r.t(0.0) == 0.0);
    }
}
