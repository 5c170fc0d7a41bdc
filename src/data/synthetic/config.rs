//! Settings of the synthetic scene generator and its named presets.

use serde::{Deserialize, Serialize};

use crate::data::DataError;

/// Names accepted by [`SyntheticConfig::preset`] (and by the SPEC `synthetic:PRESET`).
pub const PRESET_NAMES: &[&str] = &["shapes", "balanced", "tiny", "crowded", "longtail", "dense"];

/// The drawn shape of a class. Shapes are filled, anti-aliased and clearly distinct.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShapeKind {
    /// A filled disc (an ellipse when the aspect ratio is not 1).
    Ellipse,
    /// A filled rectangle.
    Rectangle,
    /// An isosceles triangle, apex up before rotation.
    Triangle,
    /// A ring (annulus): a disc with a hole.
    Ring,
    /// A plus-shaped cross.
    Cross,
    /// A five-pointed star.
    Star,
    /// A regular hexagon.
    Hexagon,
}

impl ShapeKind {
    /// All shapes, in the order the default classes use them.
    pub const ALL: [ShapeKind; 7] = [
        ShapeKind::Ellipse,
        ShapeKind::Rectangle,
        ShapeKind::Triangle,
        ShapeKind::Ring,
        ShapeKind::Cross,
        ShapeKind::Star,
        ShapeKind::Hexagon,
    ];

    /// Lower-case name, also the default class name.
    pub fn name(self) -> &'static str {
        match self {
            ShapeKind::Ellipse => "disc",
            ShapeKind::Rectangle => "rectangle",
            ShapeKind::Triangle => "triangle",
            ShapeKind::Ring => "ring",
            ShapeKind::Cross => "cross",
            ShapeKind::Star => "star",
            ShapeKind::Hexagon => "hexagon",
        }
    }
}

/// One object class: its name, shape, relative frequency and base colour.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClassSpec {
    /// Class name.
    pub name: String,
    /// Drawn shape.
    pub shape: ShapeKind,
    /// Relative frequency (any non-negative scale; 10, 3, 1 gives a 10:3:1 skew).
    pub weight: f32,
    /// Base hue in degrees; each object jitters it by `hue_jitter_deg`.
    pub hue: f32,
}

impl ClassSpec {
    /// The default class `index`: shapes cycle through [`ShapeKind::ALL`], hues are spread by
    /// the golden angle, weight 1.
    pub fn default_for(index: usize) -> Self {
        let shape = ShapeKind::ALL[index % ShapeKind::ALL.len()];
        let name = if index < ShapeKind::ALL.len() {
            shape.name().to_string()
        } else {
            format!("{}{}", shape.name(), index / ShapeKind::ALL.len() + 1)
        };
        Self {
            name,
            shape,
            weight: 1.0,
            hue: (20.0 + 137.5 * index as f32) % 360.0,
        }
    }
}

impl Default for ClassSpec {
    fn default() -> Self {
        Self::default_for(0)
    }
}

/// Where object centres are drawn from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Location {
    /// Uniform over the image.
    Uniform,
    /// Gaussian around the image centre, std = `location_sigma` x image size.
    Gaussian,
}

/// The background under the scene.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Background {
    /// One flat colour (`background_colour`), handy for tests.
    Plain,
    /// A linear gradient between two random dark, desaturated colours.
    Gradient,
    /// A gradient plus soft low-contrast blobs and stripes (`texture_strength`).
    Textured,
}

/// Unlabelled clutter drawn under the objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DistractorKind {
    /// A thin straight stroke.
    Line,
    /// A thin curved stroke.
    Curve,
    /// A thin zig-zag polyline.
    Scribble,
    /// A cluster of small dots (looks like tiny discs: a hard negative).
    Dots,
}

/// Every knob of the synthetic scene generator. Scenes are a pure function of
/// (config, seed, image index). Inclusive `[min, max]` ranges.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyntheticConfig {
    /// Image width in pixels.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
    /// The classes (count, names, shapes, frequency skew, colours).
    pub classes: Vec<ClassSpec>,
    /// Object size range in pixels; size = the longer side of the GT box.
    pub size_range: [f32; 2],
    /// Size bias: `size = min (max/min)^(u^p)`, u uniform; 1 = log-uniform, > 1 favours small.
    pub size_power: f32,
    /// Width / height ratio range of a shape before rotation (log-uniform).
    pub aspect_range: [f32; 2],
    /// Rotation drawn uniformly in `[-max, max]` degrees.
    pub max_rotation_deg: f32,
    /// Distribution of object centres.
    pub location: Location,
    /// Std of the Gaussian location, as a fraction of the image width / height.
    pub location_sigma: f32,
    /// Number of objects per image (fewer when no free place is found).
    pub object_count: [usize; 2],
    /// Largest allowed overlap between two object boxes: intersection / area of the smaller
    /// box (1 = anything goes). Keeps earlier objects visible, so boxes stay meaningful.
    pub max_overlap: f32,
    /// Placement tries per object before it is dropped.
    pub placement_attempts: usize,
    /// Number of distractors per image.
    pub distractor_count: [usize; 2],
    /// Distractor kinds to pick from (empty: none drawn).
    pub distractor_kinds: Vec<DistractorKind>,
    /// Background kind.
    pub background: Background,
    /// Colour of the `Plain` background (RGB).
    pub background_colour: [u8; 3],
    /// Strength of the textured background, 0..1.
    pub texture_strength: f32,
    /// Per-pixel noise std in 0..255 units (0: none).
    pub noise_std: f32,
    /// Per-object hue jitter in degrees around the class hue.
    pub hue_jitter_deg: f32,
}

impl Default for SyntheticConfig {
    /// The `shapes` preset.
    fn default() -> Self {
        let mut classes: Vec<ClassSpec> = (0..3).map(ClassSpec::default_for).collect();
        for (c, w) in classes.iter_mut().zip([10.0, 3.0, 1.0]) {
            c.weight = w;
        }
        Self {
            width: 256,
            height: 256,
            classes,
            size_range: [8.0, 96.0],
            size_power: 1.5,
            aspect_range: [0.6, 1.6],
            max_rotation_deg: 25.0,
            location: Location::Gaussian,
            location_sigma: 0.22,
            object_count: [1, 12],
            max_overlap: 0.3,
            placement_attempts: 20,
            distractor_count: [0, 6],
            distractor_kinds: vec![
                DistractorKind::Line,
                DistractorKind::Curve,
                DistractorKind::Scribble,
            ],
            background: Background::Textured,
            background_colour: [40, 40, 48],
            texture_strength: 0.5,
            noise_std: 5.0,
            hue_jitter_deg: 20.0,
        }
    }
}

impl SyntheticConfig {
    /// A named preset (see [`PRESET_NAMES`]): `shapes` (default: 3 classes at 10:3:1, 8-96 px,
    /// Gaussian centres), `balanced` (equal classes, uniform centres), `tiny` (mostly < 16 px),
    /// `crowded` (many overlapping objects), `longtail` (6 classes, steep frequency tail),
    /// `dense` (512 x 512, 30-80 mostly small objects anywhere, 10-30 distractors).
    pub fn preset(name: &str) -> Option<Self> {
        let mut c = Self::default();
        match name {
            "shapes" => {}
            "balanced" => {
                c.classes.iter_mut().for_each(|k| k.weight = 1.0);
                c.location = Location::Uniform;
            }
            "tiny" => {
                c.size_range = [5.0, 48.0];
                c.size_power = 4.0;
                c.object_count = [3, 20];
            }
            "crowded" => {
                c.size_range = [16.0, 64.0];
                c.size_power = 1.0;
                c.object_count = [15, 40];
                c.max_overlap = 0.6;
                c.location_sigma = 0.2;
                c.placement_attempts = 30;
            }
            "longtail" => {
                c.set_class_count(6);
                for (k, w) in c.classes.iter_mut().zip([100.0, 40.0, 15.0, 6.0, 2.0, 1.0]) {
                    k.weight = w;
                }
            }
            "dense" => {
                c.width = 512;
                c.height = 512;
                c.size_range = [6.0, 48.0];
                c.size_power = 2.5;
                c.object_count = [30, 80];
                c.location = Location::Uniform;
                c.max_overlap = 0.3;
                c.placement_attempts = 30;
                c.distractor_count = [10, 30];
            }
            _ => return None,
        }
        Some(c)
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.classes.len()
    }

    /// Class names in class order.
    pub fn class_names(&self) -> Vec<String> {
        self.classes.iter().map(|c| c.name.clone()).collect()
    }

    /// Resizes the class list, keeping existing classes and adding [`ClassSpec::default_for`].
    pub fn set_class_count(&mut self, n: usize) {
        self.classes.truncate(n);
        while self.classes.len() < n {
            self.classes
                .push(ClassSpec::default_for(self.classes.len()));
        }
    }

    /// Checks the settings; the error names the offending field. [`super::generate`] never
    /// panics on a bad config (it clamps), but user-given configs should be validated.
    pub fn validate(&self) -> Result<(), DataError> {
        let bad = |field: &str, reason: &str| {
            Err(DataError::Config {
                field: field.into(),
                reason: reason.into(),
            })
        };
        let range_ok = |r: [f32; 2]| r[0].is_finite() && r[1].is_finite() && r[0] <= r[1];
        if !(1..=8192).contains(&self.width) || !(1..=8192).contains(&self.height) {
            return bad("width/height", "must be between 1 and 8192");
        }
        if self.classes.is_empty() {
            return bad("classes", "at least one class is needed");
        }
        if self
            .classes
            .iter()
            .any(|c| !(c.weight >= 0.0 && c.weight.is_finite()))
        {
            return bad("classes.weight", "weights must be finite and >= 0");
        }
        if self.classes.iter().all(|c| c.weight == 0.0) {
            return bad("classes.weight", "at least one weight must be > 0");
        }
        if !range_ok(self.size_range) || self.size_range[0] < 1.0 {
            return bad("size_range", "needs 1 <= min <= max");
        }
        if !range_ok(self.aspect_range) || self.aspect_range[0] <= 0.0 {
            return bad("aspect_range", "needs 0 < min <= max");
        }
        if !(self.size_power > 0.0 && self.size_power.is_finite()) {
            return bad("size_power", "must be > 0");
        }
        if self.object_count[0] > self.object_count[1] {
            return bad("object_count", "min > max");
        }
        if self.distractor_count[0] > self.distractor_count[1] {
            return bad("distractor_count", "min > max");
        }
        if !(0.0..=1.0).contains(&self.max_overlap) {
            return bad("max_overlap", "must be in 0..1");
        }
        if !(self.location_sigma > 0.0 && self.location_sigma.is_finite()) {
            return bad("location_sigma", "must be > 0");
        }
        if !(0.0..=255.0).contains(&self.noise_std) {
            return bad("noise_std", "must be in 0..255");
        }
        Ok(())
    }
}
