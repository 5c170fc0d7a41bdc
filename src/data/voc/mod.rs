//! Pascal VOC 2007 / 2012 folders: `Annotations/*.xml`, `JPEGImages/`, and optional
//! `ImageSets/Main/{train,val,trainval,test}.txt` splits (`train.txt` / `trainval.txt` train,
//! `val.txt` validation, `test.txt` test; without them every annotation file is read and the
//! held-out split is a seeded 10%). Image files are `JPEGImages/<filename>` (from the XML;
//! default `<id>.jpg`). Classes are the names found, in the 20-class VOC order when all are VOC
//! names, else sorted. `difficult` objects become ignore regions.

mod parse;
#[cfg(test)]
mod tests;

pub use parse::{VocFile, VocObject, parse};

use super::files::{RawBox, RawImage, Split};
use super::report::{Code, Report};
use std::collections::BTreeSet;
use std::path::Path;

/// The 20 Pascal VOC classes in their usual order.
pub const VOC_CLASSES: [&str; 20] = [
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "diningtable",
    "dog",
    "horse",
    "motorbike",
    "person",
    "pottedplant",
    "sheep",
    "sofa",
    "train",
    "tvmonitor",
];

/// Reads a VOC folder: class names and the parsed images (not yet checked against the files).
pub fn load(dir: &Path, report: &mut Report) -> Result<(Vec<String>, Vec<RawImage>), String> {
    let ann_dir = dir.join("Annotations");
    if !ann_dir.is_dir() {
        return Err(format!(
            "{}: no Annotations/ folder (expected a Pascal VOC folder)",
            dir.display()
        ));
    }
    let sets = dir.join("ImageSets").join("Main");
    let mut ids: Vec<(String, Split, String)> = Vec::new();
    let mut seen = BTreeSet::new();
    for (file, split) in [
        ("train.txt", Split::Train),
        ("trainval.txt", Split::Train),
        ("val.txt", Split::Val),
        ("test.txt", Split::Test),
    ] {
        let p = sets.join(file);
        let Ok(bytes) = std::fs::read(&p) else {
            continue;
        };
        let Ok(text) = String::from_utf8(bytes) else {
            report.push(
                Code::FileMalformed,
                &p,
                "",
                "not UTF-8 text; split file dropped",
            );
            continue;
        };
        for (k, line) in text.lines().enumerate() {
            let Some(id) = line.split_whitespace().next() else {
                continue;
            };
            if seen.insert(id.to_string()) {
                ids.push((id.to_string(), split, format!("line {}", k + 1)));
            }
        }
    }
    if ids.is_empty() {
        let mut found: Vec<String> = std::fs::read_dir(&ann_dir)
            .map_err(|e| format!("{}: {e}", ann_dir.display()))?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("xml")))
            .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .collect();
        found.sort();
        ids = found
            .into_iter()
            .map(|id| (id, Split::Train, String::new()))
            .collect();
    }
    let mut files: Vec<(RawImage, Vec<(String, VocObject)>)> = Vec::new();
    for (id, split, line) in ids {
        let xml = ann_dir.join(format!("{id}.xml"));
        let bytes = match std::fs::read(&xml) {
            Ok(b) => b,
            Err(_) => {
                let set = sets.join(format!("{}.txt", split.as_str()));
                report.push(
                    Code::LabelMissing,
                    &set,
                    line,
                    format!("no annotation file {}; image skipped", xml.display()),
                );
                continue;
            }
        };
        let Ok(text) = String::from_utf8(bytes) else {
            report.push(
                Code::FileMalformed,
                &xml,
                "",
                "not UTF-8 text; file dropped",
            );
            continue;
        };
        let Ok(f) = parse(&text, &xml, report) else {
            continue;
        };
        let name = f.filename.clone().unwrap_or_else(|| format!("{id}.jpg"));
        let raw = RawImage {
            file: dir.join("JPEGImages").join(name),
            ann_file: xml,
            record: String::new(),
            declared: f.size,
            boxes: Vec::new(),
            split,
        };
        files.push((
            raw,
            f.objects.into_iter().map(|o| (o.name.clone(), o)).collect(),
        ));
    }
    let names: BTreeSet<&str> = files
        .iter()
        .flat_map(|f| f.1.iter().map(|o| o.0.as_str()))
        .collect();
    let classes: Vec<String> = if names.iter().all(|n| VOC_CLASSES.contains(n)) {
        VOC_CLASSES.iter().map(|s| s.to_string()).collect()
    } else {
        names.iter().map(|s| s.to_string()).collect()
    };
    let images = files
        .into_iter()
        .map(|(mut raw, objs)| {
            for (name, o) in objs {
                let class = classes
                    .iter()
                    .position(|c| *c == name)
                    .expect("every name is a class");
                raw.boxes.push(RawBox {
                    bbox: o.bbox,
                    class,
                    ignore: o.difficult,
                    record: format!("object {}", o.index),
                    normalized: false,
                });
            }
            raw
        })
        .collect();
    Ok((classes, images))
}
