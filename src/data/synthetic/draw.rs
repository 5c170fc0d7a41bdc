//! Drawing primitives of the synthetic scenes (tiny-skia, anti-aliased): class shapes,
//! backgrounds, distractors, colours and pixel noise.

use std::f32::consts::{PI, TAU};

use rand::Rng;
use tiny_skia::{
    Color, FillRule, GradientStop, LineCap, LinearGradient, Paint, Path, PathBuilder, Pixmap,
    Point, RadialGradient, Rect, SpreadMode, Stroke, Transform,
};

use super::config::{Background, DistractorKind, ShapeKind, SyntheticConfig};

/// A shape of extent about `[-0.5, 0.5]^2` centred on the origin, and its fill rule.
pub(super) fn unit_shape(kind: ShapeKind) -> (Path, FillRule) {
    let mut pb = PathBuilder::new();
    let polygon = |pb: &mut PathBuilder, pts: &[(f32, f32)]| {
        pb.move_to(pts[0].0, pts[0].1);
        pts[1..].iter().for_each(|&(x, y)| pb.line_to(x, y));
        pb.close();
    };
    let mut rule = FillRule::Winding;
    match kind {
        ShapeKind::Ellipse => pb.push_circle(0.0, 0.0, 0.5),
        ShapeKind::Rectangle => polygon(
            &mut pb,
            &[(-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)],
        ),
        ShapeKind::Triangle => polygon(&mut pb, &[(0.0, -0.5), (0.5, 0.5), (-0.5, 0.5)]),
        ShapeKind::Ring => {
            pb.push_circle(0.0, 0.0, 0.5);
            pb.push_circle(0.0, 0.0, 0.27);
            rule = FillRule::EvenOdd;
        }
        ShapeKind::Cross => {
            let (a, b) = (0.5, 0.17);
            let pts = [
                (-b, -a),
                (b, -a),
                (b, -b),
                (a, -b),
                (a, b),
                (b, b),
                (b, a),
                (-b, a),
                (-b, b),
                (-a, b),
                (-a, -b),
                (-b, -b),
            ];
            polygon(&mut pb, &pts);
        }
        ShapeKind::Star => {
            let pts: Vec<(f32, f32)> = (0..10)
                .map(|i| {
                    let r = if i % 2 == 0 { 0.5 } else { 0.21 };
                    let t = -PI / 2.0 + i as f32 * PI / 5.0;
                    (r * t.cos(), r * t.sin())
                })
                .collect();
            polygon(&mut pb, &pts);
        }
        ShapeKind::Hexagon => {
            let pts: Vec<(f32, f32)> = (0..6)
                .map(|i| i as f32 * PI / 3.0)
                .map(|t| (0.5 * t.cos(), 0.5 * t.sin()))
                .collect();
            polygon(&mut pb, &pts);
        }
    }
    (pb.finish().expect("unit shapes are non-empty"), rule)
}

/// HSV (hue in degrees, s and v in 0..1) to an opaque tiny-skia colour.
pub(super) fn hsv(h: f32, s: f32, v: f32) -> Color {
    let h = h.rem_euclid(360.0) / 60.0;
    let c = v * s;
    let x = c * (1.0 - (h % 2.0 - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = v - c;
    Color::from_rgba(r + m, g + m, b + m, 1.0).unwrap_or(Color::BLACK)
}

/// A solid anti-aliased paint.
fn solid(color: Color) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color(color);
    p.anti_alias = true;
    p
}

/// A random dark, desaturated background colour.
fn dark_colour(rng: &mut impl Rng) -> Color {
    hsv(
        rng.random_range(0.0..360.0),
        rng.random_range(0.05..0.3),
        rng.random_range(0.12..0.4),
    )
}

/// Downsampling factor of the gradient / texture layer: it is smooth, so it is drawn at
/// 1/4 resolution and upscaled bilinearly (about 10x cheaper than full resolution).
const TEXTURE_DOWN: u32 = 4;

/// Fills the whole pixmap with the configured background.
pub(super) fn background(pm: &mut Pixmap, cfg: &SyntheticConfig, rng: &mut impl Rng) {
    if cfg.background == Background::Plain {
        let [r, g, b] = cfg.background_colour;
        pm.fill(Color::from_rgba8(r, g, b, 255));
        return;
    }
    let (sw, sh) = (
        pm.width().div_ceil(TEXTURE_DOWN),
        pm.height().div_ceil(TEXTURE_DOWN),
    );
    let Some(mut tex) = Pixmap::new(sw, sh) else {
        return;
    };
    texture(&mut tex, pm.width() as f32, pm.height() as f32, cfg, rng);
    upscale_into(&tex, pm);
}

/// Bilinear upscaling of the opaque `src` over all of `dst` (pixel-centre aligned, edges
/// clamped); 8-bit fixed-point weights. Faster than tiny-skia's bilinear pattern here.
fn upscale_into(src: &Pixmap, dst: &mut Pixmap) {
    let (sw, sh) = (src.width() as usize, src.height() as usize);
    let (dw, dh) = (dst.width() as usize, dst.height() as usize);
    // For each destination coordinate: lower source index and weight (0..=256) of the upper one.
    let taps = |d: usize, s: usize| -> Vec<(usize, u32)> {
        (0..d)
            .map(|i| {
                let f = ((i as f32 + 0.5) * s as f32 / d as f32 - 0.5).clamp(0.0, (s - 1) as f32);
                let i0 = (f as usize).min(s.saturating_sub(2));
                (i0, ((f - i0 as f32) * 256.0).round() as u32)
            })
            .collect()
    };
    let (xs, ys) = (taps(dw, sw), taps(dh, sh));
    let src = src.data();
    let dst = dst.data_mut();
    for (y, &(y0, wy)) in ys.iter().enumerate() {
        let y1 = (y0 + 1).min(sh - 1);
        let (r0, r1) = (&src[y0 * sw * 4..][..sw * 4], &src[y1 * sw * 4..][..sw * 4]);
        let row = &mut dst[y * dw * 4..][..dw * 4];
        for (x, &(x0, wx)) in xs.iter().enumerate() {
            let x1 = (x0 + 1).min(sw - 1);
            for c in 0..4 {
                let top = r0[x0 * 4 + c] as u32 * (256 - wx) + r0[x1 * 4 + c] as u32 * wx;
                let bot = r1[x0 * 4 + c] as u32 * (256 - wx) + r1[x1 * 4 + c] as u32 * wx;
                row[x * 4 + c] = ((top * (256 - wy) + bot * wy + (1 << 15)) >> 16) as u8;
            }
        }
    }
}

/// Draws the gradient (and, for `Textured`, blobs and stripes) of a `w x h` canvas into the
/// smaller pixmap `tex`.
fn texture(tex: &mut Pixmap, w: f32, h: f32, cfg: &SyntheticConfig, rng: &mut impl Rng) {
    let base = Transform::from_scale(tex.width() as f32 / w, tex.height() as f32 / h);
    let (c0, c1) = (dark_colour(rng), dark_colour(rng));
    let t = rng.random_range(0.0..TAU);
    let (cx, cy, r) = (w / 2.0, h / 2.0, 0.5 * w.hypot(h));
    let start = Point::from_xy(cx - r * t.cos(), cy - r * t.sin());
    let end = Point::from_xy(cx + r * t.cos(), cy + r * t.sin());
    let stops = vec![GradientStop::new(0.0, c0), GradientStop::new(1.0, c1)];
    let mut paint = Paint::default();
    match LinearGradient::new(start, end, stops, SpreadMode::Pad, Transform::identity()) {
        Some(shader) => paint.shader = shader,
        None => paint.set_color(c0),
    }
    let full = Rect::from_xywh(0.0, 0.0, w, h).expect("non-empty canvas");
    tex.fill_rect(full, &paint, base, None);
    if cfg.background != Background::Textured || cfg.texture_strength <= 0.0 {
        return;
    }
    let strength = cfg.texture_strength.min(1.0);
    // Soft blobs: radial gradients fading to transparent.
    for _ in 0..rng.random_range(3..7) {
        let mut c = dark_colour(rng);
        c.set_alpha(0.6 * strength);
        let mut clear = c;
        clear.set_alpha(0.0);
        let centre = Point::from_xy(rng.random_range(0.0..w), rng.random_range(0.0..h));
        let radius = rng.random_range(0.1..0.4) * w.max(h);
        let stops = vec![GradientStop::new(0.0, c), GradientStop::new(1.0, clear)];
        let id = Transform::identity();
        if let Some(shader) =
            RadialGradient::new(centre, 0.0, centre, radius, stops, SpreadMode::Pad, id)
        {
            let p = Paint {
                shader,
                ..Paint::default()
            };
            tex.fill_rect(full, &p, base, None);
        }
    }
    // Faint parallel stripes at a random angle.
    let mut c = dark_colour(rng);
    c.set_alpha(0.3 * strength);
    let period = rng.random_range(8.0..24.0f32);
    let mut pb = PathBuilder::new();
    let span = w.hypot(h);
    let mut x = -span;
    while x < span {
        pb.move_to(x, -span);
        pb.line_to(x, span);
        x += period;
    }
    if let Some(path) = pb.finish() {
        let stroke = Stroke {
            width: period * 0.4,
            ..Stroke::default()
        };
        let angle = rng.random_range(0.0..180.0);
        let tf = base.pre_translate(w / 2.0, h / 2.0).pre_rotate(angle);
        tex.stroke_path(&path, &solid(c), &stroke, tf, None);
    }
}

/// Draws one unlabelled distractor (thin strokes or dots, muted colour).
pub(super) fn distractor<R: Rng>(pm: &mut Pixmap, kind: DistractorKind, rng: &mut R) {
    let (w, h) = (pm.width() as f32, pm.height() as f32);
    let colour = hsv(
        rng.random_range(0.0..360.0),
        rng.random_range(0.0..0.35),
        rng.random_range(0.45..0.85),
    );
    let paint = solid(colour);
    let mut pb = PathBuilder::new();
    let (x0, y0) = (rng.random_range(0.0..w), rng.random_range(0.0..h));
    let reach = 0.35 * w.min(h);
    let near = |rng: &mut R, x: f32, y: f32| {
        (
            x + rng.random_range(-reach..reach),
            y + rng.random_range(-reach..reach),
        )
    };
    match kind {
        DistractorKind::Line => {
            let (x1, y1) = near(rng, x0, y0);
            pb.move_to(x0, y0);
            pb.line_to(x1, y1);
        }
        DistractorKind::Curve => {
            let (cx, cy) = near(rng, x0, y0);
            let (x1, y1) = near(rng, cx, cy);
            pb.move_to(x0, y0);
            pb.quad_to(cx, cy, x1, y1);
        }
        DistractorKind::Scribble => {
            pb.move_to(x0, y0);
            let (mut x, mut y) = (x0, y0);
            let step = 0.3 * reach;
            for _ in 0..rng.random_range(3..7) {
                x += rng.random_range(-step..step);
                y += rng.random_range(-step..step);
                pb.line_to(x, y);
            }
        }
        DistractorKind::Dots => {
            for _ in 0..rng.random_range(4..12) {
                let r = rng.random_range(0.8..2.0);
                let dx = rng.random_range(-0.3..0.3) * reach;
                let dy = rng.random_range(-0.3..0.3) * reach;
                pb.push_circle(x0 + dx, y0 + dy, r);
            }
            if let Some(path) = pb.finish() {
                pm.fill_path(
                    &path,
                    &paint,
                    FillRule::Winding,
                    Transform::identity(),
                    None,
                );
            }
            return;
        }
    }
    if let Some(path) = pb.finish() {
        let stroke = Stroke {
            width: rng.random_range(1.0..2.5),
            line_cap: LineCap::Round,
            ..Stroke::default()
        };
        pm.stroke_path(&path, &paint, &stroke, Transform::identity(), None);
    }
}

/// Fills an object path (already in pixel coordinates) with a solid colour.
pub(super) fn fill_object(pm: &mut Pixmap, path: &Path, rule: FillRule, colour: Color) {
    pm.fill_path(path, &solid(colour), rule, Transform::identity(), None);
}

/// Converts the (opaque) pixmap to RGB, adding approximately Gaussian noise of std `noise_std`
/// (a triangular distribution from two random bytes per channel: cheap and deterministic).
pub(super) fn to_rgb(pm: &Pixmap, noise_std: f32, rng: &mut impl Rng) -> image::RgbImage {
    let mut out = Vec::with_capacity(pm.pixels().len() * 3);
    // Two uniform bytes: b0 + b1 - 255 has std sqrt(2 (256^2 - 1) / 12) = 104.5.
    // Fixed point (16 fractional bits): integer maths keeps this loop cheap.
    let k = (noise_std / 104.5 * 65536.0).round() as i32;
    for px in pm.pixels() {
        // The background is opaque, so premultiplied equals straight colour.
        let rgb = [px.red(), px.green(), px.blue()];
        if k > 0 {
            let bits = rng.next_u64();
            for (c, &v) in rgb.iter().enumerate() {
                let b0 = ((bits >> (16 * c)) & 0xff) as i32;
                let b1 = ((bits >> (16 * c + 8)) & 0xff) as i32;
                let n = ((b0 + b1 - 255) * k + (1 << 15)) >> 16;
                out.push((v as i32 + n).clamp(0, 255) as u8);
            }
        } else {
            out.extend_from_slice(&rgb);
        }
    }
    image::RgbImage::from_raw(pm.width(), pm.height(), out).expect("buffer matches size")
}
