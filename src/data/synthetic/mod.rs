//! The built-in synthetic dataset: scenes of distinct, anti-aliased shapes whose class,
//! scale, location and crowding imbalance are all knobs ([`SyntheticConfig`]).
//!
//! A scene is a pure function of `(config, seed, index)`: the generator's random stream is
//! seeded from `seed` mixed with `index`, so each image is independent of the others and any
//! image can be produced alone, in any order, on any thread. A held-out split is the same
//! config with another seed ([`SyntheticDataset::held_out`]).

mod config;
mod draw;
#[cfg(test)]
mod tests;

pub use config::{
    Background, ClassSpec, DistractorKind, Location, PRESET_NAMES, ShapeKind, SyntheticConfig,
};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use tiny_skia::{Pixmap, Transform};

use crate::data::{DataError, Dataset, Sample};
use crate::geometry::{Box4, crowd_iou};

/// Default number of images of a [`SyntheticDataset`].
pub const DEFAULT_LEN: usize = 1000;

/// Seed offset of the held-out split (see [`SyntheticDataset::held_out`]).
const HELD_OUT_SEED: u64 = 0x005e_ed0f_7e57;

/// SplitMix64 finaliser: a well-mixed 64-bit hash.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The random-stream seed of image `index` under `seed`.
pub fn scene_seed(seed: u64, index: usize) -> u64 {
    mix64(mix64(seed ^ 0x9e37_79b9_7f4a_7c15).wrapping_add(index as u64))
}

/// Draws a class index with probability proportional to its weight (uniform if all are 0).
fn pick_class(cfg: &SyntheticConfig, rng: &mut impl Rng) -> usize {
    let weight = |i: usize| cfg.classes[i].weight.max(0.0);
    let total: f32 = (0..cfg.classes.len()).map(weight).sum();
    if !(total > 0.0 && total.is_finite()) {
        return rng.random_range(0..cfg.classes.len());
    }
    let mut u = rng.random::<f32>() * total;
    for i in 0..cfg.classes.len() {
        u -= weight(i);
        if u < 0.0 {
            return i;
        }
    }
    cfg.classes
        .iter()
        .rposition(|c| c.weight > 0.0)
        .unwrap_or(0)
}

/// `lo (hi/lo)^(u^power)`: log-uniform for power 1, biased towards `lo` for power > 1.
fn biased_log_uniform(lo: f32, hi: f32, power: f32, rng: &mut impl Rng) -> f32 {
    let u = rng.random::<f32>().powf(power);
    (lo * (hi / lo).powf(u)).clamp(lo, hi)
}

/// Sorted copy of a range, clamped to `[lo, hi]`; NaN ends become `lo`.
fn ordered(r: [f32; 2], lo: f32, hi: f32) -> (f32, f32) {
    let hi = hi.max(lo);
    let fix = |v: f32| if v.is_nan() { lo } else { v.clamp(lo, hi) };
    let (a, b) = (fix(r[0]), fix(r[1]));
    (a.min(b), a.max(b))
}

/// Draws an integer count from an inclusive `[min, max]` range (in any order).
fn count(r: [usize; 2], rng: &mut impl Rng) -> usize {
    rng.random_range(r[0].min(r[1])..=r[0].max(r[1]))
}

/// A centre from the configured location distribution, inside the canvas.
fn centre(cfg: &SyntheticConfig, w: f32, h: f32, rng: &mut impl Rng) -> (f32, f32) {
    if cfg.location == config::Location::Gaussian {
        let s = cfg.location_sigma.clamp(1e-3, 10.0);
        if let (Ok(nx), Ok(ny)) = (Normal::new(w / 2.0, s * w), Normal::new(h / 2.0, s * h)) {
            for _ in 0..8 {
                let (x, y) = (nx.sample(rng), ny.sample(rng));
                if (0.0..w).contains(&x) && (0.0..h).contains(&y) {
                    return (x, y);
                }
            }
        }
    }
    (rng.random_range(0.0..w), rng.random_range(0.0..h))
}

/// Overlap used by `max_overlap`: intersection over the smaller box's area.
fn overlap(a: &Box4, b: &Box4) -> f32 {
    // Intersection over each box's own area; the larger is the one over the smaller box.
    crowd_iou(a, b).max(crowd_iou(b, a))
}

/// Generates image `index` of the synthetic dataset `(cfg, seed)`. Deterministic; never panics
/// (out-of-range settings are clamped). The GT box of each object is the tight box of its
/// drawn shape, inside the canvas; objects are drawn over distractors, later over earlier.
pub fn generate(cfg: &SyntheticConfig, seed: u64, index: usize) -> Sample {
    let mut rng = ChaCha8Rng::seed_from_u64(scene_seed(seed, index));
    let (wi, hi) = (cfg.width.clamp(1, 8192), cfg.height.clamp(1, 8192));
    let (w, h) = (wi as f32, hi as f32);
    let mut pm = Pixmap::new(wi, hi).expect("canvas size is clamped to a valid range");
    draw::background(&mut pm, cfg, &mut rng);

    if !cfg.distractor_kinds.is_empty() {
        for _ in 0..count(cfg.distractor_count, &mut rng) {
            let kind = cfg.distractor_kinds[rng.random_range(0..cfg.distractor_kinds.len())];
            draw::distractor(&mut pm, kind, &mut rng);
        }
    }

    let (mut boxes, mut classes) = (Vec::new(), Vec::new());
    let n = if cfg.classes.is_empty() {
        0
    } else {
        count(cfg.object_count, &mut rng)
    };
    let (smin, smax) = ordered(cfg.size_range, 2.0, w.min(h));
    let (amin, amax) = ordered(cfg.aspect_range, 0.1, 10.0);
    let power = if cfg.size_power > 0.0 {
        cfg.size_power.min(100.0)
    } else {
        1.0
    };
    let max_rot = cfg.max_rotation_deg.clamp(0.0, 180.0);
    let max_overlap = cfg.max_overlap.clamp(0.0, 1.0);
    for _ in 0..n {
        for _ in 0..cfg.placement_attempts.max(1) {
            let class = pick_class(cfg, &mut rng);
            let size = biased_log_uniform(smin, smax, power, &mut rng);
            let aspect = biased_log_uniform(amin, amax, 1.0, &mut rng).sqrt();
            let rot = if max_rot > 0.0 {
                rng.random_range(-max_rot..=max_rot)
            } else {
                0.0
            };
            let (cx, cy) = centre(cfg, w, h, &mut rng);
            let spec = &cfg.classes[class];
            let hue = spec.hue + rng.random_range(-1.0..=1.0) * cfg.hue_jitter_deg.abs();
            let colour = draw::hsv(hue, rng.random_range(0.6..0.95), rng.random_range(0.7..1.0));
            let (unit, rule) = draw::unit_shape(spec.shape);
            // Rotate the aspect-scaled unit shape, then rescale so the longer box side is `size`.
            let shaped = Transform::from_rotate(rot).pre_scale(aspect, 1.0 / aspect);
            let Some(b) = unit
                .clone()
                .transform(shaped)
                .and_then(|p| p.compute_tight_bounds())
            else {
                continue;
            };
            let k = size / b.width().max(b.height());
            let (bw, bh) = (b.width() * k, b.height() * k);
            // Shift the centre so the whole shape lies inside the canvas.
            let left = (cx - bw / 2.0).clamp(0.0, (w - bw).max(0.0));
            let top = (cy - bh / 2.0).clamp(0.0, (h - bh).max(0.0));
            let placed = Transform::from_translate(left - b.left() * k, top - b.top() * k)
                .pre_scale(k, k)
                .pre_concat(shaped);
            let Some(path) = unit.transform(placed) else {
                continue;
            };
            let Some(t) = path.compute_tight_bounds() else {
                continue;
            };
            let gt: Box4 = [
                t.left().max(0.0),
                t.top().max(0.0),
                t.right().min(w),
                t.bottom().min(h),
            ];
            if boxes.iter().any(|o| overlap(o, &gt) > max_overlap) {
                continue;
            }
            draw::fill_object(&mut pm, &path, rule, colour);
            boxes.push(gt);
            classes.push(class);
            break;
        }
    }
    let image = draw::to_rgb(&pm, cfg.noise_std.clamp(0.0, 255.0), &mut rng);
    let crowd = vec![false; boxes.len()];
    Sample {
        image,
        boxes,
        classes,
        crowd,
    }
}

/// The synthetic dataset: images `0..len` of `generate(config, seed, index)`.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntheticDataset {
    /// Scene settings.
    pub config: SyntheticConfig,
    /// Dataset seed.
    pub seed: u64,
    /// Number of images.
    pub len: usize,
}

impl SyntheticDataset {
    /// A dataset of [`DEFAULT_LEN`] images.
    pub fn new(config: SyntheticConfig, seed: u64) -> Self {
        Self {
            config,
            seed,
            len: DEFAULT_LEN,
        }
    }

    /// A named preset (see [`PRESET_NAMES`]), or `None` for an unknown name.
    pub fn preset(name: &str, seed: u64) -> Option<Self> {
        SyntheticConfig::preset(name).map(|c| Self::new(c, seed))
    }

    /// The same dataset with `len` images.
    pub fn with_len(mut self, len: usize) -> Self {
        self.len = len;
        self
    }

    /// A held-out (validation) split of `len` images: same config, a derived seed, so no
    /// image is shared with this dataset's stream.
    pub fn held_out(&self, len: usize) -> Self {
        Self {
            config: self.config.clone(),
            seed: self.seed ^ HELD_OUT_SEED,
            len,
        }
    }

    /// Generates image `index` (any index works, also past `len`).
    pub fn generate(&self, index: usize) -> Sample {
        generate(&self.config, self.seed, index)
    }
}

impl Dataset for SyntheticDataset {
    fn name(&self) -> String {
        format!("synthetic@{} ({} images)", self.seed, self.len)
    }

    fn len(&self) -> usize {
        self.len
    }

    fn class_names(&self) -> Vec<String> {
        self.config.class_names()
    }

    fn load(&self, index: usize) -> Result<Sample, DataError> {
        if index >= self.len {
            return Err(DataError::IndexOutOfRange {
                dataset: self.name(),
                index,
                len: self.len,
            });
        }
        Ok(self.generate(index))
    }
}
