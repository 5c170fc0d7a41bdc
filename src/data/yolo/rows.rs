//! One YOLO label file (`labels/NAME.txt`) parsed from memory.
//!
//! Each row is `class cx cy w h`: a 0-based class and the box centre and size normalised by the
//! image width and height (ultralytics' format). A row with more than 5 numbers is a polygon
//! `class x1 y1 x2 y2 ...` (normalised points, at least 3); its box is the points' bounding
//! box. Values may exceed [0, 1] by 0.01 (ultralytics' tolerance); a box reaching past the image
//! is clipped later, once the image size is known ([`Code::BoxOutside`]).

use crate::data::files::RawBox;
use crate::data::report::{Code, Report};
use std::collections::HashSet;
use std::path::Path;

/// Tolerance outside [0, 1] accepted for normalised values.
pub const NORM_TOLERANCE: f64 = 0.01;

/// Parses label text into normalised boxes (`bbox` in [0, 1], `normalized: true`).
/// Problems are reported with the row's 1-based line; an empty file reports
/// [`Code::LabelEmpty`].
pub fn parse(text: &str, path: &Path, num_classes: usize, report: &mut Report) -> Vec<RawBox> {
    let mut out = Vec::new();
    let mut seen: HashSet<Vec<u64>> = HashSet::new();
    if text.trim().is_empty() {
        report.push(
            Code::LabelEmpty,
            path,
            "",
            "empty label file; a background image",
        );
        return out;
    }
    for (k, line) in text.lines().enumerate() {
        let rec = format!("line {}", k + 1);
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let nums: Result<Vec<f64>, _> = fields.iter().map(|f| f.parse::<f64>()).collect();
        let Ok(nums) = nums else {
            report.push(
                Code::RowMalformed,
                path,
                rec,
                format!("`{}` is not numbers; dropped", short(line)),
            );
            continue;
        };
        if nums.iter().any(|x| !x.is_finite()) {
            report.push(
                Code::NonFinite,
                path,
                rec,
                "a value is NaN or infinite; dropped",
            );
            continue;
        }
        let polygon = nums.len() > 5;
        if nums.len() < 5 || (polygon && (nums.len() % 2 == 0 || nums.len() < 7)) {
            let n = nums.len();
            report.push(Code::RowMalformed, path, rec, format!("{n} numbers, expected `class cx cy w h` or a polygon `class x1 y1 x2 y2 x3 y3 ...`; dropped"));
            continue;
        }
        let c = nums[0];
        if c < 0.0 || c.fract() != 0.0 || c >= num_classes as f64 {
            report.push(
                Code::ClassUnknown,
                path,
                rec,
                format!("class {c} is not one of the {num_classes} names; dropped"),
            );
            continue;
        }
        let key: Vec<u64> = nums.iter().map(|x| x.to_bits()).collect();
        if !seen.insert(key) {
            report.push(
                Code::RowDuplicate,
                path,
                rec,
                "the same row again; extra copy dropped",
            );
            continue;
        }
        let (lo, hi) = (-NORM_TOLERANCE, 1.0 + NORM_TOLERANCE);
        let b = if polygon {
            let pts = &nums[1..];
            if pts.iter().any(|&v| v < lo || v > hi) {
                report.push(
                    Code::YoloUnnormalized,
                    path,
                    rec,
                    "a polygon point is outside [0, 1]; dropped",
                );
                continue;
            }
            let range = |from: usize| {
                pts.iter()
                    .skip(from)
                    .step_by(2)
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                        (a.min(v), b.max(v))
                    })
            };
            let ((x0, x1), (y0, y1)) = (range(0), range(1));
            [x0, y0, x1, y1]
        } else {
            let [cx, cy, w, h] = [nums[1], nums[2], nums[3], nums[4]];
            if [cx, cy, w, h].iter().any(|&v| v < lo || v > hi) {
                report.push(
                    Code::YoloUnnormalized,
                    path,
                    rec,
                    format!("cx {cx} cy {cy} w {w} h {h}: outside [0, 1]; dropped"),
                );
                continue;
            }
            [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0]
        };
        if b[2] <= b[0] || b[3] <= b[1] {
            report.push(
                Code::BoxDegenerate,
                path,
                rec,
                "zero width or height; dropped",
            );
            continue;
        }
        out.push(RawBox {
            bbox: b.map(|v| v as f32),
            class: c as usize,
            ignore: false,
            record: rec,
            normalized: true,
        });
    }
    out
}

/// At most 40 characters of a row, for messages.
fn short(s: &str) -> String {
    let t: String = s.chars().take(40).collect();
    if t.len() < s.len() {
        format!("{t}...")
    } else {
        t
    }
}
