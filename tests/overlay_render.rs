//! The box overlay pipeline renders known boxes offscreen with the right colours at the right
//! pixels, and pan/zoom only rewrite its uniform. Runs on lavapipe (`WGPU_BACKEND=vulkan`);
//! with `ANCHORSCOPE_REQUIRE_GPU=1` a missing adapter is a failure, otherwise a printed skip.

use anchorscope::app::overlay::{
    BoxInstance, BoxSet, OffscreenOverlay, OverlayView, render_offscreen, request_device,
};
use anchorscope::backend::gpu::skip_without_gpu;

const W: u32 = 64;
const H: u32 = 64;
const RED: [f32; 4] = [1.0, 0.0, 0.0, 1.0];
const GREEN: [f32; 4] = [0.0, 1.0, 0.0, 1.0];
const HALF_BLUE: [f32; 4] = [0.0, 0.0, 1.0, 0.5];
const CLEAR: [u8; 4] = [0, 0, 0, 0];

fn device() -> Option<(wgpu::Device, wgpu::Queue)> {
    match request_device() {
        Ok((device, queue, info)) => {
            eprintln!(
                "adapter: {} ({:?}, {:?})",
                info.name, info.backend, info.device_type
            );
            Some((device, queue))
        }
        Err(e) => {
            skip_without_gpu(format!("no wgpu device: {e:#}"));
            None
        }
    }
}

/// Zoom 2, image (0, 0) at screen (4, 4): screen = 4 + 2 * image; every edge lands on a pixel
/// boundary, so pixel (x, y), centre (x + 0.5, y + 0.5), is either inside or outside.
fn view() -> OverlayView {
    OverlayView::new(2.0, [4.0, 4.0])
}

/// Red filled (screen 8..32), green 2-px outline only (screen x 40..60, y 8..28), and
/// half-transparent blue (screen 20..40) over the red's corner.
fn three_boxes() -> BoxSet {
    BoxSet::new(vec![
        BoxInstance::new([2.0, 2.0, 14.0, 14.0]).with_fill(RED),
        BoxInstance::new([18.0, 2.0, 28.0, 12.0]).with_outline(GREEN, 2.0),
        BoxInstance::new([8.0, 8.0, 18.0, 18.0]).with_fill(HALF_BLUE),
    ])
}

fn px(img: &[u8], x: u32, y: u32) -> [u8; 4] {
    let i = ((y * W + x) * 4) as usize;
    img[i..i + 4].try_into().unwrap()
}

#[track_caller]
fn assert_px(img: &[u8], x: u32, y: u32, want: [u8; 4], tol: u8) {
    let got = px(img, x, y);
    let ok = got.iter().zip(want).all(|(&g, w)| g.abs_diff(w) <= tol);
    assert!(ok, "pixel ({x}, {y}): got {got:?}, want {want:?} +- {tol}");
}

/// The colour checks shared by the plain and the MSAA render.
fn check_three_boxes(img: &[u8]) {
    assert_eq!(img.len(), (W * H * 4) as usize);
    // Red fill: inside, on its first and last pixels, and just outside.
    for (x, y) in [(12, 12), (8, 8), (31, 12), (12, 31), (18, 16)] {
        assert_px(img, x, y, [255, 0, 0, 255], 1);
    }
    for (x, y) in [(7, 12), (12, 7), (32, 12), (12, 32)] {
        assert_px(img, x, y, CLEAR, 0);
    }
    // Blue at alpha 0.5 over opaque red: premultiplied (0.5 * blue + 0.5 * red, alpha 1).
    for (x, y) in [(26, 26), (20, 20), (31, 31)] {
        assert_px(img, x, y, [128, 0, 128, 255], 2);
    }
    // Blue alone over the transparent clear: premultiplied half blue.
    for (x, y) in [(36, 36), (25, 39), (39, 25)] {
        assert_px(img, x, y, [0, 0, 128, 128], 2);
    }
    assert_px(img, 40, 36, CLEAR, 0);
    // Green outline: 2 px bands inside the box edges, nothing in its interior.
    for (x, y) in [
        (40, 18),
        (41, 18),
        (59, 18),
        (58, 18),
        (50, 8),
        (50, 9),
        (50, 27),
        (40, 8),
    ] {
        assert_px(img, x, y, [0, 255, 0, 255], 1);
    }
    for (x, y) in [(42, 18), (57, 18), (50, 10), (50, 25), (50, 18)] {
        assert_px(img, x, y, CLEAR, 0);
    }
    for (x, y) in [(39, 18), (60, 18), (50, 7), (50, 28)] {
        assert_px(img, x, y, CLEAR, 0);
    }
    // Far outside everything.
    for (x, y) in [(0, 0), (2, 2), (63, 63), (5, 60)] {
        assert_px(img, x, y, CLEAR, 0);
    }
}

#[test]
fn three_known_boxes_have_the_right_pixels() {
    let Some((device, queue)) = device() else {
        return;
    };
    let img = render_offscreen(&device, &queue, W, H, &three_boxes(), &view());
    check_three_boxes(&img);
}

#[test]
fn msaa_target_gives_the_same_pixels() {
    let Some((device, queue)) = device() else {
        return;
    };
    let mut target = OffscreenOverlay::new(&device, W, H, 4);
    let img = target.render(&device, &queue, &three_boxes(), &view());
    check_three_boxes(&img);
}

#[test]
fn pan_and_zoom_rewrite_only_the_uniform() {
    let Some((device, queue)) = device() else {
        return;
    };
    let mut target = OffscreenOverlay::new(&device, W, H, 1);
    let boxes = three_boxes();
    let a = target.render(&device, &queue, &boxes, &view());
    let first = target.renderer().layer_stats(0).unwrap();
    assert_eq!(
        (first.generation, first.instance_uploads),
        (boxes.generation(), 1)
    );
    assert_eq!((first.instances, first.uniform_writes), (3, 1));

    // Pan by (+5, +3) pixels: same instances, a new uniform, the picture shifted.
    let panned = OverlayView::new(2.0, [9.0, 7.0]);
    let b = target.render(&device, &queue, &boxes.clone(), &panned);
    let s = target.renderer().layer_stats(0).unwrap();
    assert_eq!(
        (s.generation, s.instance_uploads, s.uniform_writes),
        (boxes.generation(), 1, 2)
    );
    for (x, y) in [(12, 12), (26, 26), (36, 36), (40, 18), (50, 18), (2, 2)] {
        assert_eq!(
            px(&b, x + 5, y + 3),
            px(&a, x, y),
            "panned pixel ({x}, {y})"
        );
    }

    // Zoom to 1: still no upload; the red box now covers screen 6..18.
    let zoomed = OverlayView::new(1.0, [4.0, 4.0]);
    let c = target.render(&device, &queue, &boxes, &zoomed);
    let s = target.renderer().layer_stats(0).unwrap();
    assert_eq!((s.instance_uploads, s.uniform_writes), (1, 3));
    assert_px(&c, 7, 7, [255, 0, 0, 255], 1);
    assert_px(&c, 20, 20, [0, 0, 128, 128], 2);

    // The same view again writes nothing; a new set uploads once.
    target.render(&device, &queue, &boxes, &zoomed);
    assert_eq!(target.renderer().layer_stats(0).unwrap().uniform_writes, 3);
    let other = BoxSet::new(vec![
        BoxInstance::new([0.0, 0.0, 4.0, 4.0]).with_fill(GREEN),
    ]);
    target.render(&device, &queue, &other, &zoomed);
    let s = target.renderer().layer_stats(0).unwrap();
    assert_eq!(
        (s.generation, s.instance_uploads, s.instances),
        (other.generation(), 2, 1)
    );
}

#[test]
fn opacity_and_group_mask_apply_without_upload() {
    let Some((device, queue)) = device() else {
        return;
    };
    let mut target = OffscreenOverlay::new(&device, W, H, 1);
    let boxes = BoxSet::new(vec![
        BoxInstance::new([2.0, 2.0, 14.0, 14.0])
            .with_fill(RED)
            .with_group(0),
        BoxInstance::new([18.0, 2.0, 28.0, 12.0])
            .with_fill(GREEN)
            .with_group(3),
    ]);
    let v = OverlayView {
        opacity: 0.5,
        group_mask: 1 << 3,
        ..view()
    };
    let img = target.render(&device, &queue, &boxes, &v);
    assert_px(&img, 12, 12, CLEAR, 0);
    assert_px(&img, 50, 18, [0, 128, 0, 128], 2);
    assert_eq!(
        target.renderer().layer_stats(0).unwrap().instance_uploads,
        1
    );
}

#[test]
fn buffer_grows_for_many_boxes_and_tiny_boxes_stay_visible() {
    let Some((device, queue)) = device() else {
        return;
    };
    let mut target = OffscreenOverlay::new(&device, W, H, 1);
    // 3000 sub-pixel boxes on a 50 x 60 grid (more than the initial 1024-box buffer).
    let boxes: Vec<_> = (0..3000)
        .map(|i| {
            let (x, y) = ((i % 50) as f32, (i / 50) as f32);
            BoxInstance::new([x + 0.4, y + 0.4, x + 0.6, y + 0.6]).with_fill(GREEN)
        })
        .collect();
    let boxes = BoxSet::new(boxes);
    let img = target.render(&device, &queue, &boxes, &OverlayView::new(1.0, [0.0, 0.0]));
    let s = target.renderer().layer_stats(0).unwrap();
    assert!(s.capacity >= 3000 && s.instances == 3000, "{s:?}");
    for (x, y) in [(0, 0), (49, 0), (0, 59), (49, 59), (25, 30)] {
        assert_px(&img, x, y, [0, 255, 0, 255], 0);
    }
    assert_px(&img, 55, 10, CLEAR, 0);
    assert_px(&img, 10, 62, CLEAR, 0);
}
