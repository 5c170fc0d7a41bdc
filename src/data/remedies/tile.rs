//! Tiling large images (SAHI's slicing): each image cut into `size x size` tiles that overlap
//! by `overlap` pixels; the last tile of a row or column is shifted back so it ends at the
//! image's edge (an image side under `size` is one tile of that side). A box is clipped to each
//! tile it meets and kept when at least `min_visible` of its area is inside; an ignore region
//! (crowd / difficult) is kept whenever any of it is inside, clipped the same way. Tiles
//! without any box are kept (background tiles).

use crate::data::report::Report;
use crate::data::{Annotations, DataError, Dataset, Sample};
use crate::geometry::{Box4, area};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `[data.tile]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TileConfig {
    /// Tile side in pixels.
    pub size: u32,
    /// Pixels shared by neighbouring tiles (less than `size`).
    pub overlap: u32,
    /// Smallest fraction of a box's area inside a tile for the box to be kept there, in (0, 1].
    pub min_visible: f32,
}

impl Default for TileConfig {
    /// 512 px tiles overlapping by 64 px, boxes kept when half visible.
    fn default() -> Self {
        Self {
            size: 512,
            overlap: 64,
            min_visible: 0.5,
        }
    }
}

impl TileConfig {
    /// Checks the values; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        if !(8..=8192).contains(&self.size) {
            return Err(format!(
                "[data.tile] size must be in 8..=8192, got {}",
                self.size
            ));
        }
        if self.overlap >= self.size {
            return Err(format!(
                "[data.tile] overlap must be less than size ({}), got {}",
                self.size, self.overlap
            ));
        }
        if !(self.min_visible > 0.0 && self.min_visible <= 1.0) {
            return Err(format!(
                "[data.tile] min_visible must be in (0, 1], got {}",
                self.min_visible
            ));
        }
        Ok(())
    }

    /// `tiling 512 px, overlap 64 px, boxes >= 50% visible`.
    pub fn describe(&self) -> String {
        format!(
            "tiling {} px, overlap {} px, boxes >= {:.0}% visible",
            self.size,
            self.overlap,
            100.0 * self.min_visible
        )
    }

    /// The tiles of an image of size `(w, h)`, row by row.
    pub fn tiles(&self, image: usize, (w, h): (u32, u32)) -> Vec<Tile> {
        let xs = tile_origins(w, self.size, self.overlap);
        let ys = tile_origins(h, self.size, self.overlap);
        let mut out = Vec::with_capacity(xs.len() * ys.len());
        for &y in &ys {
            for &x in &xs {
                out.push(Tile {
                    image,
                    x,
                    y,
                    w: self.size.min(w),
                    h: self.size.min(h),
                });
            }
        }
        out
    }

    /// The annotations of `a` inside tile `t`, in the tile's frame.
    pub fn clip(&self, a: &Annotations, t: &Tile) -> Annotations {
        let mut out = Annotations {
            size: (t.w, t.h),
            ..Default::default()
        };
        for ((b, &c), &crowd) in a.boxes.iter().zip(&a.classes).zip(&a.crowd) {
            let Some((clipped, visible)) = t.clip(b) else {
                continue;
            };
            if crowd || visible >= self.min_visible {
                out.boxes.push(clipped);
                out.classes.push(c);
                out.crowd.push(crowd);
            }
        }
        out.sort_crowd_last();
        out
    }
}

/// The origins of the tiles along one side of `len` pixels: `0, s, 2s, ...` with stride
/// `s = size - overlap`, the last one moved back to `len - size` so that it ends at the edge;
/// `[0]` when `len <= size`.
pub fn tile_origins(len: u32, size: u32, overlap: u32) -> Vec<u32> {
    let stride = size.saturating_sub(overlap).max(1);
    let mut out = Vec::new();
    let mut o = 0u32;
    loop {
        let end = o + size;
        if end >= len {
            out.push(len.saturating_sub(size));
            return out;
        }
        out.push(o);
        o += stride;
    }
}

/// One tile: the image it is cut from and its rectangle in that image's pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tile {
    /// Index of the image in the tiled dataset's input.
    pub image: usize,
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
}

impl Tile {
    /// `b` clipped to the tile, in the tile's frame, and the fraction of `b`'s area inside;
    /// `None` when nothing of it is inside.
    pub fn clip(&self, b: &Box4) -> Option<(Box4, f32)> {
        let (x0, y0) = (self.x as f32, self.y as f32);
        let (x1, y1) = (x0 + self.w as f32, y0 + self.h as f32);
        let c = [b[0].max(x0), b[1].max(y0), b[2].min(x1), b[3].min(y1)];
        let inside = area(&c);
        let whole = area(b);
        if inside <= 0.0 || whole <= 0.0 {
            return None;
        }
        Some(([c[0] - x0, c[1] - y0, c[2] - x0, c[3] - y0], inside / whole))
    }
}

/// The tiles of every image of `inner`.
pub struct TiledDataset {
    inner: Arc<dyn Dataset>,
    config: TileConfig,
    tiles: Vec<Tile>,
}

impl TiledDataset {
    /// Cuts every image of `inner` (its size read from its annotations).
    pub fn new(inner: Arc<dyn Dataset>, config: TileConfig) -> Result<Self, DataError> {
        config.validate().map_err(|reason| DataError::Config {
            field: "[data.tile]".into(),
            reason,
        })?;
        let mut tiles = Vec::new();
        for i in 0..inner.len() {
            tiles.extend(config.tiles(i, inner.annotations(i)?.size));
        }
        Ok(Self {
            inner,
            config,
            tiles,
        })
    }

    /// Every tile, in order.
    pub fn tiles(&self) -> &[Tile] {
        &self.tiles
    }

    fn tile(&self, index: usize) -> Result<Tile, DataError> {
        self.tiles
            .get(index)
            .copied()
            .ok_or_else(|| DataError::IndexOutOfRange {
                dataset: self.name(),
                index,
                len: self.tiles.len(),
            })
    }
}

impl Dataset for TiledDataset {
    fn name(&self) -> String {
        format!("{} (tiles of {} px)", self.inner.name(), self.config.size)
    }
    fn len(&self) -> usize {
        self.tiles.len()
    }
    fn class_names(&self) -> Vec<String> {
        self.inner.class_names()
    }
    fn load(&self, index: usize) -> Result<Sample, DataError> {
        let t = self.tile(index)?;
        let s = self.inner.load(t.image)?;
        let a = self.config.clip(&s.annotations(), &t);
        let image = image::imageops::crop_imm(&s.image, t.x, t.y, t.w, t.h).to_image();
        Ok(Sample {
            image,
            boxes: a.boxes,
            classes: a.classes,
            crowd: a.crowd,
        })
    }
    fn image_name(&self, index: usize) -> String {
        match self.tiles.get(index) {
            Some(t) => format!("{} @{},{}", self.inner.image_name(t.image), t.x, t.y),
            None => format!("image {index}"),
        }
    }
    fn report(&self) -> Option<&Report> {
        self.inner.report()
    }
    fn annotations(&self, index: usize) -> Result<Annotations, DataError> {
        let t = self.tile(index)?;
        Ok(self.config.clip(&self.inner.annotations(t.image)?, &t))
    }
    fn source_image(&self, index: usize) -> Option<usize> {
        self.inner.source_image(self.tiles.get(index)?.image)
    }
}
