//! The rotation (ASTN idea): the pixels inside a positive box turn about the box centre; the
//! box itself is unchanged.
//!
//! Destination pixel `p` (its centre) takes the value at `s = c + R(-theta) (p - c)` of the
//! original image, `c` the box centre, bilinear between the box's pixel centres; where `s`
//! falls outside the box the pixel keeps its value. In image coordinates (y down) a positive
//! angle turns clockwise on screen: `R(theta) = [[cos, -sin], [sin, cos]]`.

use super::patch::PixelRect;
use crate::data::Sample;
use crate::geometry::Box4;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Rotates the pixels of `dst` inside box `b` by `deg` degrees, sampling `src` (the image
/// before any rotation, same size).
pub fn rotate_in_box(dst: &mut image::RgbImage, src: &image::RgbImage, b: &Box4, deg: f64) {
    let Some(r) = PixelRect::of_box(b, src.width(), src.height()) else {
        return;
    };
    let (cx, cy) = ((b[0] + b[2]) as f64 / 2.0, (b[1] + b[3]) as f64 / 2.0);
    let (sin, cos) = deg.to_radians().sin_cos();
    for y in r.y0..r.y1 {
        for x in r.x0..r.x1 {
            let (dx, dy) = (x as f64 + 0.5 - cx, y as f64 + 0.5 - cy);
            let (sx, sy) = (cx + cos * dx + sin * dy, cy - sin * dx + cos * dy);
            let inside = (b[0] as f64..=b[2] as f64).contains(&sx)
                && (b[1] as f64..=b[3] as f64).contains(&sy);
            if inside {
                dst.put_pixel(x as u32, y as u32, bilinear(src, r, sx, sy));
            }
        }
    }
}

/// The bilinear value of `img` at continuous point `(sx, sy)`, between the pixel centres of
/// `r` (clamped to them), rounded to the nearest 8-bit value.
fn bilinear(img: &image::RgbImage, r: PixelRect, sx: f64, sy: f64) -> image::Rgb<u8> {
    let u = (sx - 0.5).clamp(r.x0 as f64, (r.x1 - 1) as f64);
    let v = (sy - 0.5).clamp(r.y0 as f64, (r.y1 - 1) as f64);
    let (x0, y0) = (u.floor() as u32, v.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(r.x1 as u32 - 1), (y0 + 1).min(r.y1 as u32 - 1));
    let (fx, fy) = (u - x0 as f64, v - y0 as f64);
    let px = |x: u32, y: u32, c: usize| img.get_pixel(x, y).0[c] as f64;
    image::Rgb(std::array::from_fn(|c| {
        let top = px(x0, y0, c) * (1.0 - fx) + px(x1, y0, c) * fx;
        let bottom = px(x0, y1, c) * (1.0 - fx) + px(x1, y1, c) * fx;
        (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8
    }))
}

/// Rotates every positive box of every image of `batch` by its own angle, uniform in
/// `[-max_deg, max_deg]`, drawn in image then box order from `seed` (the step's seed).
/// Returns the number of boxes rotated.
pub fn rotate_batch(batch: &mut [Sample], max_deg: f32, seed: u64) -> usize {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xD1B5_4A32_D192_ED03);
    let m = max_deg as f64;
    let mut n = 0;
    for s in batch {
        let src = s.image.clone();
        let boxes = s.split_crowd().0.to_vec();
        for b in &boxes {
            let deg = rng.random_range(-m..=m);
            rotate_in_box(&mut s.image, &src, b, deg);
            n += 1;
        }
    }
    n
}
