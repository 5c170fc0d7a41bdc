//! The model input: every sample resized to one size, so images of any size train together.
//!
//! - [`ResizeMode::Letterbox`] (the default) scales by `s = min(W / w, H / h)` keeping the
//!   aspect ratio and centres the result on a grey (114) canvas, as ultralytics does: a box
//!   `[x0, y0, x1, y1]` becomes `[s x0 + dx, s y0 + dy, s x1 + dx, s y1 + dy]` with
//!   `dx = (W - round(s w)) / 2` and `dy = (H - round(s h)) / 2` (integers, rounded down).
//! - [`ResizeMode::Stretch`] scales each axis on its own: `x * W / w`, `y * H / h`.

#[cfg(test)]
mod tests;

use super::{Annotations, DataError, Dataset, Sample};
use crate::geometry::Box4;
use image::imageops::FilterType;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How an image is brought to the input size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResizeMode {
    /// Keep the aspect ratio, pad to the size (centred).
    #[default]
    Letterbox,
    /// Scale width and height independently.
    Stretch,
}

/// The model input size and how to reach it (TOML `[data]`: `width`, `height`, `resize`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InputSize {
    /// Input width in pixels (a multiple of the largest stride keeps every level whole).
    pub width: u32,
    /// Input height in pixels.
    pub height: u32,
    /// Letterbox or stretch.
    pub resize: ResizeMode,
}

impl Default for InputSize {
    /// 256 x 256 letterbox (the synthetic scenes' size).
    fn default() -> Self {
        Self {
            width: 256,
            height: 256,
            resize: ResizeMode::Letterbox,
        }
    }
}

/// The affine map of one resize: `x' = sx x + dx`, `y' = sy y + dy`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transform {
    /// Horizontal scale.
    pub sx: f32,
    /// Vertical scale.
    pub sy: f32,
    /// Horizontal offset (pixels).
    pub dx: f32,
    /// Vertical offset (pixels).
    pub dy: f32,
    /// Size `(w, h)` of the scaled image before padding.
    pub scaled: (u32, u32),
}

impl Transform {
    /// Maps a box into the input frame.
    pub fn apply(&self, b: &Box4) -> Box4 {
        [
            b[0] * self.sx + self.dx,
            b[1] * self.sy + self.dy,
            b[2] * self.sx + self.dx,
            b[3] * self.sy + self.dy,
        ]
    }

    /// Maps a box of the input frame back to the original image.
    pub fn invert(&self, b: &Box4) -> Box4 {
        [
            (b[0] - self.dx) / self.sx,
            (b[1] - self.dy) / self.sy,
            (b[2] - self.dx) / self.sx,
            (b[3] - self.dy) / self.sy,
        ]
    }
}

impl InputSize {
    /// The transform taking an image of size `(w, h)` to this input.
    pub fn transform(&self, (w, h): (u32, u32)) -> Transform {
        let (tw, th) = (self.width as f32, self.height as f32);
        let (fw, fh) = (w.max(1) as f32, h.max(1) as f32);
        match self.resize {
            ResizeMode::Stretch => Transform {
                sx: tw / fw,
                sy: th / fh,
                dx: 0.0,
                dy: 0.0,
                scaled: (self.width, self.height),
            },
            ResizeMode::Letterbox => {
                let s = (tw / fw).min(th / fh);
                let nw = ((fw * s).round() as u32).clamp(1, self.width);
                let nh = ((fh * s).round() as u32).clamp(1, self.height);
                let dx = ((self.width - nw) / 2) as f32;
                let dy = ((self.height - nh) / 2) as f32;
                Transform {
                    sx: s,
                    sy: s,
                    dx,
                    dy,
                    scaled: (nw, nh),
                }
            }
        }
    }

    /// The sample resized to this input, boxes mapped with the same transform.
    pub fn apply(&self, s: &Sample) -> Sample {
        if s.size() == (self.width, self.height) {
            return s.clone();
        }
        let t = self.transform(s.size());
        let scaled =
            image::imageops::resize(&s.image, t.scaled.0, t.scaled.1, FilterType::Triangle);
        let image = if t.scaled == (self.width, self.height) {
            scaled
        } else {
            let mut canvas =
                image::RgbImage::from_pixel(self.width, self.height, image::Rgb([114, 114, 114]));
            image::imageops::replace(&mut canvas, &scaled, t.dx as i64, t.dy as i64);
            canvas
        };
        Sample {
            image,
            boxes: s.boxes.iter().map(|b| t.apply(b)).collect(),
            classes: s.classes.clone(),
            crowd: s.crowd.clone(),
        }
    }

    /// Checks the size (both sides at least 8 px and at most 8192).
    pub fn validate(&self) -> Result<(), String> {
        for (k, v) in [("width", self.width), ("height", self.height)] {
            if !(8..=8192).contains(&v) {
                return Err(format!("[data] {k} must be in 8..=8192, got {v}"));
            }
        }
        Ok(())
    }
}

/// A dataset whose samples are brought to one input size ([`InputSize::apply`]).
pub struct ResizedDataset {
    inner: Arc<dyn Dataset>,
    size: InputSize,
}

impl ResizedDataset {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn Dataset>, size: InputSize) -> Self {
        Self { inner, size }
    }
}

impl Dataset for ResizedDataset {
    fn name(&self) -> String {
        self.inner.name()
    }
    fn len(&self) -> usize {
        self.inner.len()
    }
    fn class_names(&self) -> Vec<String> {
        self.inner.class_names()
    }
    fn load(&self, index: usize) -> Result<Sample, DataError> {
        Ok(self.size.apply(&self.inner.load(index)?))
    }
    fn report(&self) -> Option<&super::report::Report> {
        self.inner.report()
    }
    fn image_name(&self, index: usize) -> String {
        self.inner.image_name(index)
    }
    fn annotations(&self, index: usize) -> Result<Annotations, DataError> {
        let a = self.inner.annotations(index)?;
        let t = self.size.transform(a.size);
        Ok(Annotations {
            size: (self.size.width, self.size.height),
            boxes: a.boxes.iter().map(|b| t.apply(b)).collect(),
            ..a
        })
    }
    fn source_image(&self, index: usize) -> Option<usize> {
        self.inner.source_image(index)
    }
}
