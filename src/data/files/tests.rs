use super::*;
use crate::data::report::Code;
use image::{ImageEncoder, codecs::png::PngEncoder};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("anchorscope-files-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&d).ok();
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A PNG whose EXIF says "rotate 90 degrees clockwise" (orientation 6): a little-endian TIFF
/// header and one IFD entry (tag 0x0112, SHORT, count 1, value 6).
fn rotated_png(path: &Path, w: u32, h: u32) {
    let exif = vec![
        0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x12, 0x01, 0x03, 0x00, 0x01,
        0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];
    let mut img = image::RgbImage::new(w, h);
    img.put_pixel(0, 0, image::Rgb([255, 0, 0]));
    let mut bytes = Vec::new();
    let mut enc = PngEncoder::new(&mut bytes);
    enc.set_exif_metadata(exif).unwrap();
    enc.write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgb8)
        .unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn coco(dir: &Path, images: &str, anns: &str) -> DatasetSpec {
    let p = dir.join("ann.json");
    let text = format!(
        r#"{{"images":[{images}],"categories":[{{"id":1,"name":"a"}}],"annotations":[{anns}]}}"#
    );
    std::fs::write(&p, text).unwrap();
    DatasetSpec::Coco {
        annotations: p,
        images: None,
    }
}

#[test]
fn exif_orientation_is_applied_and_explains_a_swapped_size() {
    let d = tmp("exif");
    rotated_png(&d.join("r.png"), 40, 20);
    let h = image_io::probe(&d.join("r.png")).unwrap();
    assert_eq!(h.stored, (40, 20));
    assert_eq!(
        h.size(),
        (20, 40),
        "rotated by 90 degrees: width and height exchange"
    );
    let img = image_io::decode(&d.join("r.png")).unwrap();
    assert_eq!(img.dimensions(), (20, 40));
    // the red top-left pixel of the stored image is at the top right after a clockwise turn
    assert_eq!(img.get_pixel(19, 0).0, [255, 0, 0]);
    let spec = coco(
        &d,
        r#"{"id":1,"file_name":"r.png","width":40,"height":20}"#,
        "",
    );
    let ds = FileDataset::open(&spec, &OpenOptions::default()).unwrap();
    let p = &ds.report().problems[0];
    assert_eq!(p.code, Code::SizeMismatch);
    assert!(p.message.contains("EXIF orientation"), "{}", p.message);
    assert_eq!(ds.load(0).unwrap().size(), (20, 40));
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn crowd_boxes_come_last_and_cache_is_bounded() {
    let d = tmp("crowd");
    for k in 0..5 {
        image::RgbImage::new(16, 16)
            .save(d.join(format!("{k}.png")))
            .unwrap();
    }
    let images: Vec<String> = (0..5)
        .map(|k| format!(r#"{{"id":{k},"file_name":"{k}.png","width":16,"height":16}}"#))
        .collect();
    let anns = r#"{"id":1,"image_id":0,"category_id":1,"bbox":[0,0,4,4],"iscrowd":1},
                  {"id":2,"image_id":0,"category_id":1,"bbox":[5,5,4,4]}"#;
    let spec = coco(&d, &images.join(","), anns);
    let opts = OpenOptions {
        cache_images: 2,
        ..OpenOptions::default()
    };
    let ds = FileDataset::open(&spec, &opts).unwrap();
    let s = ds.load(0).unwrap();
    assert_eq!(s.crowd, [false, true]);
    let (gts, _, ignore) = s.split_crowd();
    assert_eq!(gts, [[5.0, 5.0, 9.0, 9.0]]);
    assert_eq!(ignore, [[0.0, 0.0, 4.0, 4.0]]);
    for i in 0..5 {
        ds.load(i).unwrap();
    }
    assert_eq!(
        ds.source.cache.len(),
        2,
        "at most `cache_images` decoded images are kept"
    );
    // no validation split: a seeded 10% (at least one image) is held out, the rest trains
    let (t, v) = ds.train_val(7);
    assert_eq!((t.len(), v.len()), (4, 1));
    let (t2, v2) = ds.train_val(7);
    assert_eq!(
        v.source_index(0),
        v2.source_index(0),
        "the same seed holds out the same image"
    );
    assert!((0..t2.len()).all(|i| t2.source_index(i) != v.source_index(0)));
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn nothing_loadable_is_an_error_naming_the_file() {
    let d = tmp("none");
    let spec = coco(&d, r#"{"id":1,"file_name":"gone.png"}"#, "");
    let (e, r) = FileDataset::open_checked(&spec, &OpenOptions::default())
        .err()
        .unwrap();
    let msg = e.to_string();
    assert!(
        msg.contains("ann.json") && msg.contains("nothing loadable") && !msg.contains('\n'),
        "{msg}"
    );
    assert_eq!(r.count(Code::ImageMissing), 1);
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn problems_of_coco_annotations_link_to_their_kept_image() {
    let d = tmp("coco-link");
    for f in ["a.png", "b.png"] {
        image::RgbImage::new(16, 16).save(d.join(f)).unwrap();
    }
    let spec = coco(
        &d,
        r#"{"id":1,"file_name":"a.png"},{"id":2,"file_name":"b.png"},{"id":3,"file_name":"gone.png"}"#,
        r#"{"id":1,"image_id":2,"category_id":9,"bbox":[1,1,4,4]},
           {"id":2,"image_id":2,"category_id":1,"bbox":[1,1,0,4]},
           {"id":3,"image_id":3,"category_id":9,"bbox":[1,1,4,4]},
           {"id":4,"image_id":1,"category_id":1,"bbox":[1,1,4,4]}"#,
    );
    let ds = FileDataset::open(&spec, &OpenOptions::default()).unwrap();
    let image_of = |rec: &str| {
        ds.report()
            .problems
            .iter()
            .find(|p| p.record == rec)
            .unwrap_or_else(|| panic!("no problem for {rec}"))
            .image
    };
    // b.png is image 1 of the kept images; gone.png is dropped, so its problems link nowhere
    assert_eq!(image_of("annotation id 1"), Some(1));
    assert_eq!(image_of("annotation id 2"), Some(1));
    assert_eq!(image_of("annotation id 3"), None);
}

#[test]
fn opening_reports_the_fraction_of_images_indexed() {
    let d = tmp("progress");
    let mut images = Vec::new();
    for k in 0..5 {
        image::RgbImage::new(16, 16)
            .save(d.join(format!("{k}.png")))
            .unwrap();
        images.push(format!(r#"{{"id":{},"file_name":"{k}.png"}}"#, k + 1));
    }
    let spec = coco(&d, &images.join(","), "");
    let heard = std::sync::Mutex::new(Vec::new());
    let ds = FileDataset::open_with_progress(&spec, &OpenOptions::default(), &|f| {
        heard.lock().unwrap().push(f)
    })
    .unwrap();
    assert_eq!(ds.len(), 5);
    let mut f = heard.into_inner().unwrap();
    f.sort_by(f32::total_cmp);
    // one call per image (5 < 100 images: every image is a 1% step), the last one 1.0
    assert_eq!(f, vec![0.2, 0.4, 0.6, 0.8, 1.0]);
}
