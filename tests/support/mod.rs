//! Datasets the tests write: one fixture per validation code ([`problem_fixtures`]) and small
//! clean COCO / VOC / YOLO datasets rendered from the synthetic scenes ([`clean_datasets`]).
#![allow(dead_code)]

use anchorscope::data::{Dataset, SyntheticDataset};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh folder under the temp dir.
pub fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("anchorscope-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&d).ok();
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs the binary.
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anchorscope"))
        .args(args)
        .output()
        .expect("spawn")
}

pub fn write(path: &Path, text: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A `w x h` PNG with a gradient.
pub fn png(path: &Path, w: u32, h: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 4) as u8, (y * 4) as u8, 90]));
    img.save(path).unwrap();
}

/// Writes the fixtures of every validation code under `root`: `coco/ann.json` (check with
/// `--max-pixels 5000`), `coco/broken.json`, `voc/`, `yolo/data.yaml`.
pub fn problem_fixtures(root: &Path) {
    let c = root.join("coco");
    png(&c.join("a.png"), 64, 48);
    png(&c.join("b.png"), 64, 48);
    png(&c.join("c.png"), 64, 48);
    write(&c.join("bad.png"), b"this is not an image");
    png(&c.join("tiny.png"), 4, 4);
    png(&c.join("big.png"), 100, 100);
    png(&c.join("trunc.png"), 64, 48);
    let bytes = std::fs::read(c.join("trunc.png")).unwrap();
    write(&c.join("trunc.png"), &bytes[..bytes.len() / 2]);
    write(
        &c.join("ann.json"),
        r#"{
 "images": [
  {"id": 1, "file_name": "a.png", "width": 64, "height": 48},
  {"id": 2, "file_name": "b.png", "width": 60, "height": 48},
  {"id": 3, "file_name": "c.png"},
  {"id": 4, "file_name": "missing.png", "width": 64, "height": 48},
  {"id": 5, "file_name": "bad.png", "width": 64, "height": 48},
  {"id": 6, "file_name": "tiny.png", "width": 4, "height": 4},
  {"id": 7, "file_name": "big.png", "width": 100, "height": 100},
  {"id": 1, "file_name": "a.png", "width": 64, "height": 48},
  {"id": "8", "file_name": "a.png"},
  {"id": 9, "file_name": "trunc.png", "width": 64, "height": 48}
 ],
 "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
 "annotations": [
  {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 10, 10]},
  {"id": 0, "image_id": 1, "category_id": 2, "bbox": [20, 20, 10, 10]},
  {"id": 2, "image_id": 1, "category_id": 1, "bbox": [5, 5, 0, 3]},
  {"id": 3, "image_id": 1, "category_id": 1, "bbox": [50, 40, 30, 20]},
  {"id": 4, "image_id": 99, "category_id": 1, "bbox": [1, 1, 5, 5]},
  {"id": 5, "image_id": 1, "category_id": 7, "bbox": [1, 1, 5, 5]},
  {"id": 1, "image_id": 1, "category_id": 1, "bbox": [2, 2, 5, 5]},
  {"id": 6, "image_id": 1, "category_id": 1, "bbox": [NaN, 1, 2, 2]},
  {"id": 7, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3]},
  {"id": 8, "image_id": 1, "category_id": 2, "bbox": [0, 0, 20, 20], "iscrowd": 1}
 ]
}"#,
    );
    write(&c.join("broken.json"), "{\"images\": [");
    let v = root.join("voc");
    png(&v.join("JPEGImages/a.png"), 64, 48);
    png(&v.join("JPEGImages/b.png"), 64, 48);
    write(
        &v.join("Annotations/a.xml"),
        "<annotation><filename>a.png</filename><size><width>64</width><height>48</height><depth>3</depth></size>\
         <object><name>dog</name><difficult>1</difficult><bndbox><xmin>2</xmin><ymin>2</ymin><xmax>20</xmax><ymax>20</ymax></bndbox></object>\
         <object><name>cat</name><bndbox><xmin>30</xmin><ymin>5</ymin><xmax>30</xmax><ymax>20</ymax></bndbox></object>\
         <object><name>cat</name><bndbox><xmin>30</xmin><ymin>5</ymin><xmax>50</xmax><ymax>30</ymax></bndbox></object>\
         </annotation>",
    );
    write(
        &v.join("Annotations/b.xml"),
        "<annotation><filename>b.png</filename><object><name>cat</name><bndbox><xmin>3</xmin><ymin>3</ymin><xmax>9</xmax><ymax>9</ymax></bndbox></object></annotation>",
    );
    write(
        &v.join("Annotations/c.xml"),
        "<?xml version=\"1.0\"?><!DOCTYPE annotation [<!ENTITY a \"aaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>\
         <annotation><filename>&b;</filename></annotation>",
    );
    write(
        &v.join("Annotations/d.xml"),
        "<annotation><filename>a.png</filename><size>",
    );
    let y = root.join("yolo");
    write(
        &y.join("data.yaml"),
        "path: .\ntrain: images/train\nval: images/val\nnc: 3\nnames: [a, b]\n",
    );
    for n in ["x", "y", "z", "w"] {
        png(&y.join(format!("images/train/{n}.png")), 64, 48);
    }
    png(&y.join("images/val/v.png"), 64, 48);
    write(
        &y.join("labels/train/x.txt"),
        "0 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2 0.2\n5 0.5 0.5 0.1 0.1\n0 1.5 0.5 0.1 0.1\n0 0.5 0.5\n\
         1 0.1 0.1 0.3 0.1 0.3 0.4\n0 nan 0.5 0.1 0.1\n0 0.5 0.5 0 0.1\n",
    );
    write(&y.join("labels/train/y.txt"), "");
    write(&y.join("labels/train/w.txt"), [0xff, 0xfe, 0x00, 0x41]);
    write(&y.join("labels/val/v.txt"), "1 0.3 0.3 0.2 0.4\n");
}

/// Writes `n` synthetic scenes (of alternating sizes 256 x 256 and 192 x 160) as COCO, VOC and
/// YOLO datasets under `root`; returns their SPECs.
pub fn clean_datasets(root: &Path, n: usize) -> [String; 3] {
    let ds = SyntheticDataset::preset("tiny", 3).unwrap().with_len(n);
    let names = ds.class_names();
    let (mut images, mut anns) = (Vec::new(), Vec::new());
    let mut yaml_names = String::new();
    for (k, name) in names.iter().enumerate() {
        yaml_names.push_str(&format!("  {k}: {name}\n"));
    }
    write(
        &root.join("yolo/data.yaml"),
        format!("path: .\ntrain: images/train\nval: images/val\nnames:\n{yaml_names}"),
    );
    let mut train_ids = String::new();
    let mut val_ids = String::new();
    for i in 0..n {
        let mut s = ds.load(i).unwrap();
        if i % 2 == 1 {
            let (w, h) = (192u32, 160u32);
            let (sx, sy) = (w as f32 / 256.0, h as f32 / 256.0);
            s.image =
                image::imageops::resize(&s.image, w, h, image::imageops::FilterType::Triangle);
            for b in &mut s.boxes {
                *b = [b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy];
            }
        }
        let (w, h) = s.image.dimensions();
        let file = format!("img{i:03}.png");
        s.image
            .save(root.join("coco").join(&file))
            .or_else(|_| {
                std::fs::create_dir_all(root.join("coco")).unwrap();
                s.image.save(root.join("coco").join(&file))
            })
            .unwrap();
        images.push(serde_json::json!({"id": i + 1, "file_name": file, "width": w, "height": h}));
        let split = if i % 5 == 4 { "val" } else { "train" };
        png_copy(&s.image, &root.join(format!("voc/JPEGImages/{file}")));
        png_copy(&s.image, &root.join(format!("yolo/images/{split}/{file}")));
        let mut xml = format!(
            "<annotation><filename>{file}</filename><size><width>{w}</width><height>{h}</height><depth>3</depth></size>"
        );
        let mut rows = String::new();
        for (b, &c) in s.boxes.iter().zip(&s.classes) {
            anns.push(serde_json::json!({"id": anns.len() + 1, "image_id": i + 1, "category_id": c + 1,
                "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]], "area": (b[2] - b[0]) * (b[3] - b[1]), "iscrowd": 0}));
            xml.push_str(&format!(
                "<object><name>{}</name><difficult>0</difficult><bndbox><xmin>{}</xmin><ymin>{}</ymin><xmax>{}</xmax><ymax>{}</ymax></bndbox></object>",
                names[c], b[0].round() + 1.0, b[1].round() + 1.0, b[2].round().max(b[0].round() + 1.0), b[3].round().max(b[1].round() + 1.0)
            ));
            let (fw, fh) = (w as f32, h as f32);
            rows.push_str(&format!(
                "{c} {:.6} {:.6} {:.6} {:.6}\n",
                (b[0] + b[2]) / 2.0 / fw,
                (b[1] + b[3]) / 2.0 / fh,
                (b[2] - b[0]) / fw,
                (b[3] - b[1]) / fh
            ));
        }
        xml.push_str("</annotation>");
        write(&root.join(format!("voc/Annotations/img{i:03}.xml")), xml);
        write(
            &root.join(format!("yolo/labels/{split}/img{i:03}.txt")),
            rows,
        );
        let id = format!("img{i:03}\n");
        if split == "val" {
            val_ids.push_str(&id)
        } else {
            train_ids.push_str(&id)
        }
    }
    write(&root.join("voc/ImageSets/Main/train.txt"), train_ids);
    write(&root.join("voc/ImageSets/Main/val.txt"), val_ids);
    let cats: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(k, n)| serde_json::json!({"id": k + 1, "name": n}))
        .collect();
    write(
        &root.join("coco/instances.json"),
        serde_json::to_string(
            &serde_json::json!({"images": images, "annotations": anns, "categories": cats}),
        )
        .unwrap(),
    );
    [
        format!("coco:{}", root.join("coco/instances.json").display()),
        format!("voc:{}", root.join("voc").display()),
        format!("yolo:{}", root.join("yolo/data.yaml").display()),
    ]
}

fn png_copy(img: &image::RgbImage, path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    img.save(path).unwrap();
}

/// A hash of every file under `root`: path, content and modification time.
pub fn tree_hash(root: &Path) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    files.sort();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for f in files {
        f.hash(&mut h);
        std::fs::read(&f).unwrap().hash(&mut h);
        std::fs::metadata(&f)
            .unwrap()
            .modified()
            .unwrap()
            .hash(&mut h);
    }
    h.finish()
}
