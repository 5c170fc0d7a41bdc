//! Where the live detections' labels go: greedy placement that never overlaps two labels.
//! The hovered box is labelled first, then the others by descending score; each label tries
//! below its box's left edge, then above it, and is skipped when both places intersect a
//! label already placed (or when [`MAX_LABELS`] are placed).

use egui::{Rect, Vec2, pos2};

/// Most labels drawn at once (the hovered box's counts among them).
pub const MAX_LABELS: usize = 8;

/// One box that would like a label.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LabelCandidate {
    /// The box on screen.
    pub bbox: Rect,
    /// Size of its label text.
    pub size: Vec2,
    /// Detection score (higher is placed first).
    pub score: f32,
    /// The pointer is over this box (placed before everything else).
    pub hovered: bool,
}

/// The label rectangle of each candidate, `None` for those left unlabelled; at most
/// `max_labels` are placed and no two placed rectangles intersect.
pub fn place_labels(cands: &[LabelCandidate], max_labels: usize) -> Vec<Option<Rect>> {
    let mut order: Vec<usize> = (0..cands.len()).collect();
    order.sort_by(|&a, &b| {
        let (ca, cb) = (&cands[a], &cands[b]);
        cb.hovered
            .cmp(&ca.hovered)
            .then(cb.score.total_cmp(&ca.score))
            .then(a.cmp(&b))
    });
    let mut out = vec![None; cands.len()];
    let mut placed: Vec<Rect> = Vec::new();
    for i in order {
        if placed.len() >= max_labels {
            break;
        }
        let c = &cands[i];
        let below = Rect::from_min_size(pos2(c.bbox.left(), c.bbox.bottom() + 2.0), c.size);
        let above = Rect::from_min_size(pos2(c.bbox.left(), c.bbox.top() - 2.0 - c.size.y), c.size);
        if let Some(r) = [below, above]
            .into_iter()
            .find(|r| placed.iter().all(|p| !p.intersects(*r)))
        {
            placed.push(r);
            out[i] = Some(r);
        }
    }
    out
}

/// The index of the smallest box under `pointer`, if any.
pub fn hovered_box(boxes: &[Rect], pointer: Option<egui::Pos2>) -> Option<usize> {
    let p = pointer?;
    (0..boxes.len())
        .filter(|&i| boxes[i].contains(p))
        .min_by(|&a, &b| boxes[a].area().total_cmp(&boxes[b].area()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui::vec2;

    fn cand(x: f32, y: f32, score: f32) -> LabelCandidate {
        LabelCandidate {
            bbox: Rect::from_min_size(pos2(x, y), vec2(40.0, 30.0)),
            size: vec2(50.0, 12.0),
            score,
            hovered: false,
        }
    }

    fn no_overlaps(r: &[Option<Rect>]) {
        let placed: Vec<Rect> = r.iter().flatten().copied().collect();
        for (i, a) in placed.iter().enumerate() {
            for b in &placed[i + 1..] {
                assert!(!a.intersects(*b), "{a:?} and {b:?} overlap");
            }
        }
    }

    #[test]
    fn far_apart_boxes_all_get_a_label_below() {
        let c = [cand(0.0, 0.0, 0.9), cand(200.0, 0.0, 0.5)];
        let r = place_labels(&c, MAX_LABELS);
        // below the box: x at the box's left, y at its bottom + 2
        assert_eq!(
            r[0],
            Some(Rect::from_min_size(pos2(0.0, 32.0), vec2(50.0, 12.0)))
        );
        assert_eq!(
            r[1],
            Some(Rect::from_min_size(pos2(200.0, 32.0), vec2(50.0, 12.0)))
        );
    }

    #[test]
    fn close_boxes_go_above_then_are_skipped_by_score() {
        // three boxes 5 points apart: the best gets below, the second above, the third none
        let c = [
            cand(10.0, 0.0, 0.3),
            cand(0.0, 0.0, 0.9),
            cand(5.0, 0.0, 0.6),
        ];
        let r = place_labels(&c, MAX_LABELS);
        assert_eq!(r[1].unwrap().min, pos2(0.0, 32.0));
        assert_eq!(r[2].unwrap().min, pos2(5.0, -14.0));
        assert_eq!(r[0], None);
        no_overlaps(&r);
    }

    #[test]
    fn the_hovered_box_wins_and_the_count_is_capped() {
        let mut c: Vec<LabelCandidate> = (0..20)
            .map(|k| cand(100.0 * k as f32, 0.0, k as f32 / 20.0))
            .collect();
        // a low-score box right on top of the best one, hovered
        let mut h = cand(1900.0, 0.0, 0.01);
        h.hovered = true;
        c.push(h);
        let r = place_labels(&c, 5);
        assert_eq!(r.iter().flatten().count(), 5);
        assert_eq!(r[20].unwrap().min, pos2(1900.0, 32.0), "hovered: below");
        // the best box (19, at the same place) goes above the hovered one's label
        assert_eq!(r[19].unwrap().min, pos2(1900.0, -14.0));
        // then 18, 17, 16 by score
        assert!(r[18].is_some() && r[16].is_some() && r[15].is_none());
        no_overlaps(&r);
    }

    #[test]
    fn hover_picks_the_smallest_box_under_the_pointer() {
        let big = Rect::from_min_size(pos2(0.0, 0.0), vec2(100.0, 100.0));
        let small = Rect::from_min_size(pos2(10.0, 10.0), vec2(20.0, 20.0));
        assert_eq!(hovered_box(&[big, small], Some(pos2(15.0, 15.0))), Some(1));
        assert_eq!(hovered_box(&[big, small], Some(pos2(50.0, 50.0))), Some(0));
        assert_eq!(hovered_box(&[big, small], Some(pos2(150.0, 50.0))), None);
        assert_eq!(hovered_box(&[big], None), None);
    }
}
