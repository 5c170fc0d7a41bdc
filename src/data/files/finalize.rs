//! From parsed entries to usable images: each image's header is read (in parallel), its size
//! checked against the declared one and the limits, and its boxes scaled (YOLO), clipped to
//! the image and checked. Every problem goes into the report; nothing on disk is touched.

use super::image_io::{self, ReadError};
use super::{RawImage, Split};
use crate::data::report::{Code, Report};
use crate::geometry::Box4;
use rayon::prelude::*;
use std::path::PathBuf;

/// Smallest accepted image side in pixels.
pub const MIN_SIDE: u32 = 8;
/// Default largest accepted image, in pixels (100 Mpx).
pub const DEFAULT_MAX_PIXELS: u64 = 100_000_000;
/// How far (pixels) a box may reach past the image before it counts as [`Code::BoxOutside`].
pub const OUTSIDE_TOLERANCE: f32 = 1.0;

/// An image that passed the checks, with its boxes in its pixel frame.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadedImage {
    /// The image file.
    pub file: PathBuf,
    /// The annotation file describing it.
    pub ann_file: PathBuf,
    /// The record naming it in `ann_file` (may be empty).
    pub record: String,
    /// Its size `(width, height)` as shown (EXIF orientation applied).
    pub size: (u32, u32),
    /// Boxes, `xyxy` continuous pixels, clipped to the image.
    pub boxes: Vec<Box4>,
    /// Class of each box.
    pub classes: Vec<usize>,
    /// Whether each box is an ignore region (COCO crowd, VOC difficult).
    pub crowd: Vec<bool>,
    /// Its split.
    pub split: Split,
}

/// Checks every entry; `max_pixels` is the [`Code::ImageTooLarge`] limit; with `decode_all`
/// every image is also fully decoded (finds truncated files; slower). `progress` hears the
/// fraction of the images done (about every 1%, from the reading threads).
pub fn finalize(
    raw: Vec<RawImage>,
    max_pixels: u64,
    decode_all: bool,
    report: &mut Report,
    progress: &(dyn Fn(f32) + Sync),
) -> Vec<LoadedImage> {
    let n = raw.len();
    let step = (n / 100).max(1);
    let done_count = std::sync::atomic::AtomicUsize::new(0);
    let done: Vec<(Option<LoadedImage>, Report)> = raw
        .into_par_iter()
        .map(|r| {
            let mut rep = Report::default();
            let img = one(r, max_pixels, decode_all, &mut rep);
            let k = done_count.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if k.is_multiple_of(step) {
                progress(k as f32 / n as f32);
            }
            (img, rep)
        })
        .collect();
    let mut out = Vec::with_capacity(done.len());
    for (img, rep) in done {
        let index = img.as_ref().map(|_| out.len());
        for mut p in rep.problems {
            p.image = index;
            report.problems.push(p);
        }
        if let Some(img) = img {
            out.push(img);
        }
    }
    out
}

fn one(r: RawImage, max_pixels: u64, decode_all: bool, report: &mut Report) -> Option<LoadedImage> {
    let shown = r.file.display().to_string();
    let header = match image_io::probe(&r.file) {
        Ok(h) => h,
        Err(ReadError::Missing) => {
            report.push(
                Code::ImageMissing,
                &r.ann_file,
                &r.record,
                format!("image file {shown} not found; image dropped"),
            );
            return None;
        }
        Err(ReadError::Unreadable(e)) => {
            report.push(
                Code::ImageUnreadable,
                &r.ann_file,
                &r.record,
                format!("image file {shown}: {e}; image dropped"),
            );
            return None;
        }
    };
    let (w, h) = header.size();
    if w < MIN_SIDE || h < MIN_SIDE {
        report.push(
            Code::ImageTooSmall,
            &r.ann_file,
            &r.record,
            format!("image {shown} is {w} x {h}, under {MIN_SIDE} px a side; image dropped"),
        );
        return None;
    }
    if w as u64 * h as u64 > max_pixels {
        report.push(
            Code::ImageTooLarge,
            &r.ann_file,
            &r.record,
            format!("image {shown} is {w} x {h}, over {max_pixels} pixels; image dropped"),
        );
        return None;
    }
    if decode_all && let Err(e) = image_io::decode(&r.file) {
        let e = match e {
            ReadError::Missing => "vanished while being read".to_string(),
            ReadError::Unreadable(e) => e,
        };
        report.push(
            Code::ImageUnreadable,
            &r.ann_file,
            &r.record,
            format!("image file {shown}: {e}; image dropped"),
        );
        return None;
    }
    if let Some(d) = r.declared
        && d != (w, h)
    {
        let why = if header.swaps() && d == header.stored {
            " (the EXIF orientation rotates the stored image: the declared size is the unrotated one)"
        } else {
            ""
        };
        report.push(
            Code::SizeMismatch,
            &r.ann_file,
            &r.record,
            format!(
                "declared {} x {}, image {shown} is {w} x {h}{why}; the image's size wins",
                d.0, d.1
            ),
        );
    }
    let (mut boxes, mut classes, mut crowd) = (Vec::new(), Vec::new(), Vec::new());
    let (fw, fh) = (w as f32, h as f32);
    for b in r.boxes {
        let mut bb = b.bbox;
        if b.normalized {
            bb = [bb[0] * fw, bb[1] * fh, bb[2] * fw, bb[3] * fh];
        }
        let t = OUTSIDE_TOLERANCE;
        if bb[0] < -t || bb[1] < -t || bb[2] > fw + t || bb[3] > fh + t {
            let c = [bb[0].max(0.0), bb[1].max(0.0), bb[2].min(fw), bb[3].min(fh)];
            let outside = c[2] <= c[0] || c[3] <= c[1];
            let what = if outside {
                "wholly outside; dropped"
            } else {
                "clipped to the image"
            };
            report.push(
                Code::BoxOutside,
                &r.ann_file,
                &b.record,
                format!(
                    "box [{:.1}, {:.1}, {:.1}, {:.1}] reaches past the {w} x {h} image: {what}",
                    bb[0], bb[1], bb[2], bb[3]
                ),
            );
            if outside {
                continue;
            }
        }
        bb = [
            bb[0].clamp(0.0, fw),
            bb[1].clamp(0.0, fh),
            bb[2].clamp(0.0, fw),
            bb[3].clamp(0.0, fh),
        ];
        if bb[2] <= bb[0] || bb[3] <= bb[1] {
            report.push(
                Code::BoxOutside,
                &r.ann_file,
                &b.record,
                format!("box lies on the edge of the {w} x {h} image, nothing inside; dropped"),
            );
            continue;
        }
        boxes.push(bb);
        classes.push(b.class);
        crowd.push(b.ignore);
    }
    Some(LoadedImage {
        file: r.file,
        ann_file: r.ann_file,
        record: r.record,
        size: (w, h),
        boxes,
        classes,
        crowd,
        split: r.split,
    })
}
