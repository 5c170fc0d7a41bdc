//! ultralytics YOLO datasets described by a `data.yaml` ([`data_yaml`]); label rows in
//! [`rows`]. An image's label file is found by replacing the last `/images/` of its path with
//! `/labels/` and its extension with `.txt`. Split sources are folders (searched recursively
//! for `jpg jpeg png webp bmp tif tiff`) or `.txt` lists of image paths (relative ones resolved
//! against the list file's folder).

pub mod data_yaml;
pub mod rows;
#[cfg(test)]
mod tests;

use super::files::RawImage;
use super::report::{Code, Report};
use std::path::{Path, PathBuf};

/// Image file extensions read from folders.
pub const IMAGE_EXTENSIONS: [&str; 7] = ["jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff"];

/// The label file of an image: the last `images` folder of the path becomes `labels`, the
/// extension `.txt`.
pub fn label_path(image: &Path) -> PathBuf {
    let parts: Vec<_> = image.components().collect();
    let last = parts.iter().rposition(|c| c.as_os_str() == "images");
    let mut p = PathBuf::new();
    for (k, c) in parts.iter().enumerate() {
        if Some(k) == last && k + 1 < parts.len() {
            p.push("labels");
        } else {
            p.push(c.as_os_str());
        }
    }
    p.set_extension("txt");
    p
}

fn is_image(p: &Path) -> bool {
    p.extension()
        .and_then(|x| x.to_str())
        .is_some_and(|x| IMAGE_EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(x)))
}

/// The images of one split source with the record naming each (`line N` of a list file).
fn source_images(
    src: &Path,
    yaml: &Path,
    key: &str,
    report: &mut Report,
) -> Vec<(PathBuf, PathBuf, String)> {
    if src.is_dir() {
        let mut v: Vec<PathBuf> = walkdir::WalkDir::new(src)
            .follow_links(true)
            .into_iter()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_file() && is_image(e.path()))
            .map(|e| e.into_path())
            .collect();
        v.sort();
        return v
            .into_iter()
            .map(|p| (p, yaml.to_path_buf(), String::new()))
            .collect();
    }
    let bytes = match std::fs::read(src) {
        Ok(b) => b,
        Err(e) => {
            report.push(
                Code::ImageMissing,
                yaml,
                key,
                format!("{}: {e}; split source dropped", src.display()),
            );
            return Vec::new();
        }
    };
    let Ok(text) = String::from_utf8(bytes) else {
        report.push(
            Code::FileMalformed,
            src,
            "",
            "image list is not UTF-8 text; dropped",
        );
        return Vec::new();
    };
    let base = src.parent().map(Path::to_path_buf).unwrap_or_default();
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(k, l)| {
            (
                base.join(l.trim()),
                src.to_path_buf(),
                format!("line {}", k + 1),
            )
        })
        .collect()
}

/// Reads a YOLO dataset: class names and the parsed images (boxes normalised, not yet checked
/// against the image files).
pub fn load(data: &Path, report: &mut Report) -> Result<(Vec<String>, Vec<RawImage>), String> {
    let bytes = std::fs::read(data).map_err(|e| format!("{}: {e}", data.display()))?;
    let text =
        String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8 text", data.display()))?;
    let Ok(d) = data_yaml::parse(&text, data, report) else {
        return Err(format!(
            "{}: cannot be used (see the report)",
            data.display()
        ));
    };
    let mut images = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (split, srcs) in &d.splits {
        for src in srcs {
            for (file, list, record) in source_images(src, data, split.as_str(), report) {
                if !seen.insert(file.clone()) {
                    continue;
                }
                let label = label_path(&file);
                let boxes = match std::fs::read(&label) {
                    Err(_) => {
                        report.push(
                            Code::LabelMissing,
                            &label,
                            "",
                            format!("no label file for {}; a background image", file.display()),
                        );
                        Vec::new()
                    }
                    Ok(b) => match String::from_utf8(b) {
                        Ok(t) => rows::parse(&t, &label, d.names.len(), report),
                        Err(_) => {
                            report.push(
                                Code::FileMalformed,
                                &label,
                                "",
                                "label file is not text; a background image",
                            );
                            Vec::new()
                        }
                    },
                };
                let (ann_file, record) = if record.is_empty() {
                    (label, record)
                } else {
                    (list, record)
                };
                images.push(RawImage {
                    file,
                    ann_file,
                    record,
                    declared: None,
                    boxes,
                    split: *split,
                });
            }
        }
    }
    Ok((d.names, images))
}
