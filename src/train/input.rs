//! Turning samples into the model's input: normalisation and horizontal flips.

use crate::backend::tensor::Tensor;
use crate::data::Sample;
use rayon::prelude::*;

/// Input normalisation: `(pixel / 255 - MEAN) / STD` on every channel.
const MEAN: f32 = 0.5;
/// See [`MEAN`].
const STD: f32 = 0.25;

/// The model's input value of pixel value `v` (any channel): `(v / 255 - MEAN) / STD`.
pub fn normalise(v: u8) -> f32 {
    (v as f32 / 255.0 - MEAN) / STD
}

/// The pixel value closest to the normalised input 0 (the mean grey), what hard-positive
/// occlusion fills with.
pub const GREY: u8 = 128;

/// Converts RGB images of one size to a normalised `[N, 3, H, W]` tensor.
pub fn images_to_tensor(images: &[&image::RgbImage]) -> Tensor {
    let (w, h) = images[0].dimensions();
    let (w, h) = (w as usize, h as usize);
    let mut t = Tensor::zeros([images.len(), 3, h, w]);
    t.data
        .par_chunks_mut(3 * h * w)
        .zip(images)
        .for_each(|(dst, img)| {
            for (i, p) in img.pixels().enumerate() {
                for c in 0..3 {
                    dst[c * h * w + i] = normalise(p.0[c]);
                }
            }
        });
    t
}

/// Mirrors a sample left-right (image and boxes).
pub fn hflip(s: &mut Sample) {
    image::imageops::flip_horizontal_in_place(&mut s.image);
    let w = s.image.width() as f32;
    for b in &mut s.boxes {
        *b = [w - b[2], b[1], w - b[0], b[3]];
    }
}
