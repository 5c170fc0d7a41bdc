use super::*;

fn nums(pos: usize, neg: usize, share: f64) -> ViewNumbers {
    ViewNumbers {
        positives: 40,
        picked_pos: pos,
        picked_neg: neg,
        pos_share: share,
    }
}

#[test]
fn numbers_mark_what_differs() {
    let a = nums(40, 120, 0.0046);
    let b = nums(40, 472, 0.9374);
    let t = numbers_text(&a, &b);
    assert_eq!(
        t,
        "40 positives, picked 40 pos / 120 neg *\npositives' share of the loss 0.5% *"
    );
    assert!(!numbers_text(&a, &a).contains('*'));
}

#[test]
fn pan_and_zoom_follow_the_half_that_moved() {
    let mut c = CompareView::default();
    let mut left = ImageView::default();
    left.zoom = 2.0;
    left.centre = egui::vec2(10.0, 20.0);
    c.sync(&mut left);
    assert_eq!(
        (c.right.zoom, c.right.centre),
        (2.0, egui::vec2(10.0, 20.0))
    );
    // the right half zooms: the left follows
    c.right.zoom = 3.0;
    c.sync(&mut left);
    assert_eq!(left.zoom, 3.0);
    // the left half pans: the right follows
    left.centre = egui::vec2(5.0, 5.0);
    c.sync(&mut left);
    assert_eq!(c.right.centre, egui::vec2(5.0, 5.0));
}
