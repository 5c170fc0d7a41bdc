use super::*;

fn sample(w: u32, h: u32, boxes: Vec<Box4>) -> Sample {
    let n = boxes.len();
    Sample {
        image: image::RgbImage::from_pixel(w, h, image::Rgb([200, 10, 10])),
        boxes,
        classes: vec![0; n],
        crowd: vec![false; n],
    }
}

/// Hand-computed: a 400 x 200 image into 256 x 256: s = min(256/400, 256/200) = 0.64, scaled
/// to 256 x 128, dy = (256 - 128) / 2 = 64; the box [100, 50, 300, 150] becomes
/// [64, 32 + 64, 192, 96 + 64] = [64, 96, 192, 160].
#[test]
fn letterbox_hand_case() {
    let size = InputSize::default();
    let t = size.transform((400, 200));
    assert_eq!((t.sx, t.dx, t.dy, t.scaled), (0.64, 0.0, 64.0, (256, 128)));
    let out = size.apply(&sample(400, 200, vec![[100.0, 50.0, 300.0, 150.0]]));
    assert_eq!(out.size(), (256, 256));
    assert_eq!(out.boxes[0], [64.0, 96.0, 192.0, 160.0]);
    assert_eq!(
        out.image.get_pixel(10, 10).0,
        [114, 114, 114],
        "padding is grey 114"
    );
    assert_eq!(out.image.get_pixel(10, 128).0, [200, 10, 10]);
    let back = t.invert(&out.boxes[0]);
    for k in 0..4 {
        assert!((back[k] - [100.0, 50.0, 300.0, 150.0][k]).abs() < 1e-4);
    }
}

/// Stretch: 400 x 200 into 256 x 256 scales x by 0.64 and y by 1.28.
#[test]
fn stretch_hand_case() {
    let size = InputSize {
        resize: ResizeMode::Stretch,
        ..InputSize::default()
    };
    let out = size.apply(&sample(400, 200, vec![[100.0, 50.0, 300.0, 150.0]]));
    assert_eq!(out.size(), (256, 256));
    assert_eq!(out.boxes[0], [64.0, 64.0, 192.0, 192.0]);
}

#[test]
fn same_size_is_untouched_and_bad_sizes_named() {
    let s = sample(256, 256, vec![[1.0, 2.0, 3.0, 4.0]]);
    assert_eq!(InputSize::default().apply(&s), s);
    let e = InputSize {
        width: 4,
        ..InputSize::default()
    }
    .validate()
    .unwrap_err();
    assert!(e.contains("width"), "{e}");
}
