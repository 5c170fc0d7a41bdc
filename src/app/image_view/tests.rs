use super::*;
use crate::app::panels::test_support::inspection;
use crate::app::state::AppState;

#[test]
fn hover_read_out_names_prior_or_live_model() {
    let state = AppState::default();
    let ins = inspection(&state);
    let view = ImageView::default();
    let classes = ins.class_names.len();
    let pos = ins.assign.labels.iter().position(|&l| l > 0).unwrap();
    let neg = ins.assign.labels.iter().position(|&l| l == 0).unwrap();
    let settings = &state.overlay;

    let prior = view.hover_text(&ins, settings, pos, 0.01, None);
    assert!(
        prior.contains("score 0.0100 (prior pi, untrained)"),
        "{prior}"
    );
    assert!(!prior.contains("model"), "{prior}");

    // a model that gives the positive's class 0.9 and every negative class 0.05, one 0.2
    let mut probs = vec![0.05f32; ins.anchors.len() * classes];
    let gt_class = ins.sample.classes[(ins.assign.labels[pos] - 1) as usize];
    probs[pos * classes + gt_class] = 0.9;
    probs[neg * classes + classes - 1] = 0.2;
    let model = Some(ModelScores {
        probs: &probs,
        step: 42,
        source: "live",
    });
    let text = view.hover_text(&ins, settings, pos, 0.01, model);
    let name = &ins.class_names[gt_class];
    assert!(
        text.contains(&format!(
            "score 0.9000 (live model at step 42, target class {name})"
        )),
        "{text}"
    );
    // CE of a positive at p = 0.9 is -ln 0.9
    assert!(
        text.contains(&format!("CE {:.5}", -(0.9f64.ln()))),
        "{text}"
    );
    let text = view.hover_text(&ins, settings, neg, 0.01, model);
    let last = &ins.class_names[classes - 1];
    assert!(
        text.contains(&format!(
            "score 0.2000 (live model at step 42, highest class {last})"
        )),
        "{text}"
    );
    // probabilities of another size (another image): the prior
    let short = ModelScores {
        probs: &probs[..10],
        step: 1,
        source: "live",
    };
    let (p, source) = anchor_score(&ins, pos, 0.01, Some(short));
    assert_eq!((p, source.as_str()), (0.01, "prior pi, untrained"));
}

#[test]
fn letterbox_covers_the_view_but_not_the_image() {
    use egui::{Rect, pos2};
    let view = Rect::from_min_max(pos2(0.0, 0.0), pos2(100.0, 80.0));
    let image = Rect::from_min_max(pos2(20.0, 10.0), pos2(70.0, 60.0));
    let bands = draw::letterbox(view, image);
    let area: f32 = bands.iter().map(|r| r.area()).sum();
    assert_eq!(area, view.area() - image.area());
    assert!(bands.iter().all(|b| !b.intersects(image.shrink(0.01))));
    // an image larger than the view leaves nothing; one outside it leaves the whole view
    let big = Rect::from_min_max(pos2(-10.0, -10.0), pos2(200.0, 200.0));
    assert!(draw::letterbox(view, big).is_empty());
    let away = Rect::from_min_max(pos2(300.0, 300.0), pos2(400.0, 400.0));
    assert_eq!(draw::letterbox(view, away), vec![view]);
}
