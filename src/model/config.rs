//! Settings of the detector: backbone widths, pyramid, heads, classes and anchors per location.

use serde::{Deserialize, Serialize};

/// Architecture settings. `Default` is the tiny RetinaNet (`tests/reference/README.md`): five stride-2 3x3
/// convolutions 3-16-32-64-128-128, an FPN over P3-P5 with 64 channels, shared heads of two
/// 3x3 convolutions plus an output convolution, 9 anchors per location, 3 classes
/// (560,543 parameters).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    /// Channels of the input image (3 for RGB).
    pub in_channels: usize,
    /// Output channels of each stride-2 3x3 backbone convolution; stage `i` (1-based) has
    /// stride `2^i` and is called `C_i`.
    pub backbone_channels: Vec<usize>,
    /// The first backbone stage that feeds the pyramid: levels `P_first ..= P_last` come from
    /// `C_first ..= C_last` (3 with five stages: P3-P5, strides 8, 16, 32).
    pub first_level: usize,
    /// Channels of the FPN and of the heads.
    pub fpn_channels: usize,
    /// Libra R-CNN's Balanced Feature Pyramid after the FPN.
    pub balanced_fpn: bool,
    /// Number of 3x3 convolutions (each followed by ReLU) in each head before its output conv.
    pub head_convs: usize,
    /// Anchors per location `A` (ratios x scales of the anchor generator).
    pub num_anchors: usize,
    /// Foreground classes `C` (sigmoid classification, no background logit).
    pub num_classes: usize,
    /// Prior probability `pi` that sets the classification output bias to `-ln((1-pi)/pi)`.
    pub prior_prob: f64,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            in_channels: 3,
            backbone_channels: vec![16, 32, 64, 128, 128],
            first_level: 3,
            fpn_channels: 64,
            balanced_fpn: false,
            head_convs: 2,
            num_anchors: 9,
            num_classes: 3,
            prior_prob: 0.01,
        }
    }
}

impl ModelConfig {
    /// Number of pyramid levels.
    pub fn num_levels(&self) -> usize {
        self.backbone_channels.len() + 1 - self.first_level
    }

    /// Stride of each pyramid level in pixels (8, 16, 32 by default); the anchor generator
    /// must use the same strides.
    pub fn strides(&self) -> Vec<u32> {
        (self.first_level..=self.backbone_channels.len())
            .map(|i| 1u32 << i)
            .collect()
    }

    /// This detector with the pyramid the anchor `strides` need: levels `P_a ..= P_b` for
    /// strides `2^a ..= 2^b` (consecutive powers of two), the backbone cut or extended (with
    /// its last width) to `b` stages. Errors name strides that no pyramid of this model has.
    pub fn for_strides(&self, strides: &[u32]) -> Result<ModelConfig, String> {
        let bad = || {
            format!(
                "anchor strides {strides:?}: the pyramid needs consecutive powers of two from 2 \
                 to 4096 (e.g. [8, 16, 32])"
            )
        };
        let first = *strides.first().ok_or_else(bad)?;
        if first < 2 || !first.is_power_of_two() {
            return Err(bad());
        }
        let a = first.trailing_zeros() as usize;
        if strides.iter().enumerate().any(|(i, &s)| s != first << i) {
            return Err(bad());
        }
        let b = a + strides.len() - 1;
        if b > 12 {
            return Err(bad());
        }
        let mut mc = self.clone();
        let last = *mc.backbone_channels.last().unwrap_or(&128);
        mc.backbone_channels.resize(b, last);
        mc.first_level = a;
        Ok(mc)
    }

    /// Feature map size `(h, w)` of each level for an `h x w` input (each stride-2 conv gives
    /// `ceil(size / 2)`, so level `l` is `ceil(size / stride)`, as the anchor generator assumes).
    pub fn level_sizes(&self, h: usize, w: usize) -> Vec<(usize, usize)> {
        self.strides()
            .iter()
            .map(|&s| (h.div_ceil(s as usize), w.div_ceil(s as usize)))
            .collect()
    }

    /// Checks the settings; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        let n = self.backbone_channels.len();
        if self.in_channels == 0 {
            return Err("model.in_channels must be positive".into());
        }
        if n == 0 || self.backbone_channels.contains(&0) {
            return Err(
                "model.backbone_channels must be a non-empty list of positive sizes".into(),
            );
        }
        if n > 12 {
            return Err("model.backbone_channels has more than 12 stages".into());
        }
        if self.first_level == 0 || self.first_level > n {
            return Err(format!(
                "model.first_level must be between 1 and {n} (the number of backbone stages)"
            ));
        }
        for (name, v) in [
            ("fpn_channels", self.fpn_channels),
            ("num_anchors", self.num_anchors),
            ("num_classes", self.num_classes),
        ] {
            if v == 0 {
                return Err(format!("model.{name} must be positive"));
            }
        }
        if !(self.prior_prob > 0.0 && self.prior_prob < 1.0) {
            return Err("model.prior_prob must be strictly between 0 and 1".into());
        }
        Ok(())
    }
}
