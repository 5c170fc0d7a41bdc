//! Anchor generation: levels, strides, base sizes, scales per octave, ratios, centre offset.
//!
//! Follows MMDetection's `AnchorGenerator` (float sizes, ratio-major then scale order within a
//! location, locations row-major) with torchvision's integer sizes as an option.

use crate::geometry::Box4;
use serde::{Deserialize, Serialize};

/// Anchor generator settings. Defaults: the tiny RetinaNet (RetinaNet's anchors, Lin et al. 2017,
/// on P3-P5 only; `tests/reference/README.md`) (strides
/// 8, 16, 32; octave base scale 4; 3 scales per octave; ratios 0.5, 1, 2; centre offset 0).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnchorConfig {
    /// One stride per pyramid level (P3 = 8 ... P7 = 128).
    pub strides: Vec<u32>,
    /// Base size per level; empty means "the stride" (MMDetection's default).
    pub base_sizes: Vec<f32>,
    /// RetinaNet's octave base scale: anchor size = base size x octave_base_scale x 2^(i/n).
    pub octave_base_scale: f32,
    /// Number of scales per octave, `n` above.
    pub scales_per_octave: usize,
    /// Explicit scales; when non-empty they replace the octave scales.
    pub scales: Vec<f32>,
    /// Height / width ratios: `h = s sqrt(r)`, `w = s / sqrt(r)`.
    pub ratios: Vec<f32>,
    /// Anchor centre offset in units of the stride (0: centres at `i * stride`; 0.5: cell centres).
    pub center_offset: f32,
    /// torchvision style: sizes truncated to integers and corners rounded.
    pub integer_sizes: bool,
}

impl Default for AnchorConfig {
    fn default() -> Self {
        Self {
            strides: vec![8, 16, 32],
            base_sizes: Vec::new(),
            octave_base_scale: 4.0,
            scales_per_octave: 3,
            scales: Vec::new(),
            ratios: vec![0.5, 1.0, 2.0],
            center_offset: 0.0,
            integer_sizes: false,
        }
    }
}

impl AnchorConfig {
    /// RetinaNet's full pyramid P3-P7 (strides 8 to 128).
    pub fn retinanet_p3_p7() -> Self {
        Self {
            strides: vec![8, 16, 32, 64, 128],
            ..Self::default()
        }
    }

    /// The scale multipliers applied to each level's base size.
    pub fn level_scales(&self) -> Vec<f32> {
        if !self.scales.is_empty() {
            return self.scales.clone();
        }
        let n = self.scales_per_octave.max(1);
        (0..n)
            .map(|i| self.octave_base_scale * 2f32.powf(i as f32 / n as f32))
            .collect()
    }

    /// Anchors per location: ratios x scales.
    pub fn anchors_per_location(&self) -> usize {
        self.ratios.len() * self.level_scales().len()
    }

    /// Checks the settings; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.strides.is_empty() || self.strides.contains(&0) {
            return Err("anchors.strides must be a non-empty list of positive integers".into());
        }
        if !self.base_sizes.is_empty() && self.base_sizes.len() != self.strides.len() {
            return Err("anchors.base_sizes must be empty or have one entry per stride".into());
        }
        if self.ratios.is_empty() || self.ratios.iter().any(|r| !(r.is_finite() && *r > 0.0)) {
            return Err("anchors.ratios must be a non-empty list of positive numbers".into());
        }
        let scales = self.level_scales();
        if scales.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            return Err("anchors scales must be positive".into());
        }
        Ok(())
    }

    /// The base (zero-offset) anchors of one level, in generation order (ratio-major).
    pub fn base_anchors(&self, level: usize) -> Vec<Box4> {
        let stride = self.strides[level] as f32;
        let base = self.base_sizes.get(level).copied().unwrap_or(stride);
        let scales = self.level_scales();
        let mut out = Vec::with_capacity(self.ratios.len() * scales.len());
        let (cx, cy) = if self.integer_sizes {
            (0.0, 0.0)
        } else {
            (self.center_offset * base, self.center_offset * base)
        };
        for &r in &self.ratios {
            let h_ratio = r.sqrt();
            let w_ratio = 1.0 / h_ratio;
            for &s in &scales {
                if self.integer_sizes {
                    let size = (base * s).trunc();
                    let (w, h) = (w_ratio * size, h_ratio * size);
                    out.push([
                        (-w / 2.0).round_ties_even(),
                        (-h / 2.0).round_ties_even(),
                        (w / 2.0).round_ties_even(),
                        (h / 2.0).round_ties_even(),
                    ]);
                } else {
                    let (w, h) = (base * w_ratio * s, base * h_ratio * s);
                    out.push([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h]);
                }
            }
        }
        out
    }

    /// All anchors for an image of `width` x `height` pixels; feature maps are
    /// `ceil(size / stride)` cells on each side.
    pub fn generate(&self, width: u32, height: u32) -> Anchors {
        let mut boxes = Vec::new();
        let mut levels = Vec::new();
        let a = self.anchors_per_location();
        for (l, &stride) in self.strides.iter().enumerate() {
            let fw = width.div_ceil(stride);
            let fh = height.div_ceil(stride);
            let base = self.base_anchors(l);
            let start = boxes.len();
            let offset = if self.integer_sizes {
                self.center_offset * stride as f32
            } else {
                0.0
            };
            for y in 0..fh {
                for x in 0..fw {
                    let sx = x as f32 * stride as f32 + offset;
                    let sy = y as f32 * stride as f32 + offset;
                    boxes.extend(
                        base.iter()
                            .map(|b| [b[0] + sx, b[1] + sy, b[2] + sx, b[3] + sy]),
                    );
                }
            }
            levels.push(AnchorLevel {
                stride,
                feat_w: fw,
                feat_h: fh,
                start,
                count: boxes.len() - start,
                per_location: a,
            });
        }
        Anchors {
            boxes,
            levels,
            num_scales: self.level_scales().len(),
            ratios: self.ratios.clone(),
            scales: self.level_scales(),
        }
    }
}

/// One pyramid level's slice of [`Anchors::boxes`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AnchorLevel {
    /// Stride of the level in pixels.
    pub stride: u32,
    /// Feature map width in cells.
    pub feat_w: u32,
    /// Feature map height in cells.
    pub feat_h: u32,
    /// Index of the level's first anchor.
    pub start: usize,
    /// Number of anchors on the level.
    pub count: usize,
    /// Anchors per location.
    pub per_location: usize,
}

/// Where an anchor comes from: its level, location and shape.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AnchorMeta {
    /// Level index (0 = the first stride).
    pub level: usize,
    /// Feature map cell `(x, y)`.
    pub cell: (u32, u32),
    /// Index into the ratios.
    pub ratio_index: usize,
    /// Index into the scales.
    pub scale_index: usize,
}

/// Generated anchors for one image size, level by level.
#[derive(Clone, Debug, PartialEq)]
pub struct Anchors {
    /// Every anchor, level-major, then location (row-major), then ratio, then scale.
    pub boxes: Vec<Box4>,
    /// The levels, in order.
    pub levels: Vec<AnchorLevel>,
    /// Scales per location.
    pub num_scales: usize,
    /// The ratios used.
    pub ratios: Vec<f32>,
    /// The scale multipliers used.
    pub scales: Vec<f32>,
}

impl Anchors {
    /// Number of anchors.
    pub fn len(&self) -> usize {
        self.boxes.len()
    }

    /// True when there are no anchors.
    pub fn is_empty(&self) -> bool {
        self.boxes.is_empty()
    }

    /// Anchor counts per level.
    pub fn counts_per_level(&self) -> Vec<usize> {
        self.levels.iter().map(|l| l.count).collect()
    }

    /// The level index of anchor `i`.
    pub fn level_of(&self, i: usize) -> usize {
        self.levels
            .iter()
            .position(|l| i < l.start + l.count)
            .expect("anchor index in range")
    }

    /// Level, cell, ratio and scale of anchor `i`.
    pub fn meta(&self, i: usize) -> AnchorMeta {
        let level = self.level_of(i);
        let l = &self.levels[level];
        let local = i - l.start;
        let loc = local / l.per_location;
        let k = local % l.per_location;
        AnchorMeta {
            level,
            cell: ((loc as u32) % l.feat_w, (loc as u32) / l.feat_w),
            ratio_index: k / self.num_scales,
            scale_index: k % self.num_scales,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mmdetection_docstring_value() {
        // AnchorGenerator([16], [1.], [1.], [9]).grid_priors([(2, 2)])
        let cfg = AnchorConfig {
            strides: vec![16],
            base_sizes: vec![9.0],
            scales: vec![1.0],
            ratios: vec![1.0],
            ..AnchorConfig::default()
        };
        let a = cfg.generate(32, 32);
        assert_eq!(
            a.boxes,
            vec![
                [-4.5, -4.5, 4.5, 4.5],
                [11.5, -4.5, 20.5, 4.5],
                [-4.5, 11.5, 4.5, 20.5],
                [11.5, 11.5, 20.5, 20.5]
            ]
        );
    }

    #[test]
    fn retinanet_sizes_float_and_integer() {
        let cfg = AnchorConfig::retinanet_p3_p7();
        let base = cfg.base_anchors(0);
        assert_eq!(base.len(), 9);
        // ratio 1 (index 1) scales: 32, 40.317, 50.797
        let widths: Vec<f32> = base[3..6].iter().map(|b| b[2] - b[0]).collect();
        for (w, e) in widths.iter().zip([32.0, 40.317, 50.797]) {
            assert!((w - e).abs() < 1e-3, "{w} vs {e}");
        }
        let tv = AnchorConfig {
            integer_sizes: true,
            ..cfg
        };
        let widths: Vec<f32> = tv.base_anchors(0)[3..6]
            .iter()
            .map(|b| b[2] - b[0])
            .collect();
        assert_eq!(widths, vec![32.0, 40.0, 50.0]);
    }

    #[test]
    fn counts_match_reference_model() {
        // 256 x 256, P3-P5: (32^2 + 16^2 + 8^2) x 9 = 12,096 anchors (worked from the strides)
        let a = AnchorConfig::default().generate(256, 256);
        assert_eq!(a.counts_per_level(), vec![9216, 2304, 576]);
        assert_eq!(a.len(), 12_096);
        let m = a.meta(9216 + 9 * 17 + 5);
        assert_eq!(m.level, 1);
        assert_eq!(m.cell, (1, 1));
        assert_eq!((m.ratio_index, m.scale_index), (1, 2));
        let b = a.boxes[9216 + 9 * 17 + 5];
        let w = b[2] - b[0];
        assert!((w - 64.0 * 2f32.powf(2.0 / 3.0)).abs() < 1e-3);
        assert!(((b[0] + b[2]) / 2.0 - 16.0).abs() < 1e-4);
    }
}
