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
    // another assigner: the positives differ
    let c = ViewNumbers { positives: 55, ..a };
    assert!(numbers_text(&c, &a).starts_with("55 positives *, picked 40 pos / 120 neg\n"));
}

#[test]
fn the_right_assigner_counts_only_when_on_and_different() {
    let maxiou = AssignerConfig::MaxIou(MaxIouAssigner::default());
    let atss = AssignerConfig::Atss(AtssAssigner::default());
    let mut s = CompareSettings {
        right_assigner: Some(atss.clone()),
        ..CompareSettings::default()
    };
    assert_eq!(s.right_assigner(&maxiou), None, "view off");
    s.on = true;
    assert_eq!(s.right_assigner(&maxiou), Some(atss.clone()));
    assert_eq!(s.right_assigner(&atss), None, "same as the left");
    s.right_assigner = None;
    assert_eq!(s.right_assigner(&maxiou), None);
    assert_eq!(assigner_label(&atss), "ATSS");
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
