use super::*;
use crate::app::panels::DatasetStats;
use crate::app::plot_export::PlotExports;
use crate::config::LabConfig;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

fn stats() -> DatasetStats {
    let ds = crate::data::SyntheticDataset::new(Default::default(), 0);
    crate::data::dataset_stats(&ds, 20, &LabConfig::default(), |_| {}).unwrap()
}

fn harness<'a>(stats: Option<&'a DatasetStats>, exports: &'a PlotExports) -> Harness<'a, AppState> {
    Harness::builder()
        .with_size(egui::vec2(600.0, 2000.0))
        .build_ui_state(
            move |ui, state: &mut AppState| {
                let ctx = PanelContext {
                    inspection: None,
                    scores: None,
                    prior_prob: 0.01,
                    stats,
                    exports,
                    dataset: None,
                };
                stats_ui(ui, state, &ctx);
            },
            AppState::default(),
        )
}

#[test]
fn shows_computing_without_stats() {
    let exports = PlotExports::default();
    let mut h = harness(None, &exports);
    h.run_steps(2); // the spinner keeps repainting
    h.get_by_label("Computing statistics...");
}

#[test]
fn renders_every_section_with_stats() {
    let st = stats();
    let exports = PlotExports::default();
    let mut h = harness(Some(&st), &exports);
    h.run();
    assert!(h.query_by_label("Computing statistics...").is_none());
    h.get_by_label(&class_ratio_text(&st.class_counts, &st.class_names));
    h.get_by_label(&fg_bg_text(st.anchor_counts.fg, st.anchor_counts.bg));
    for imbalance in [
        "Foreground-foreground",
        "Scale",
        "Location",
        "Foreground-background",
    ] {
        h.get_by_label_contains(&format!("{imbalance} imbalance"));
    }
    h.get_by_label_contains("COCO sizes: small");
    assert_eq!(
        h.query_all_by_label("CSV").count(),
        5,
        "one export per plot"
    );
    h.get_all_by_label("CSV").next().unwrap().click();
    h.run();
    assert_eq!(exports.take().len(), 1);
}

#[test]
fn helpers() {
    let names: Vec<String> = vec!["a".into(), "b".into()];
    assert_eq!(
        class_ratio_text(&[30, 10], &names),
        "max : min = 3.0 : 1 (a : b)"
    );
    assert_eq!(
        class_ratio_text(&[30, 0], &names),
        "max : min = 30 : 0 (b has no objects)"
    );
    assert_eq!(pow10_label(3.0), "1k");
    assert_eq!(pow10_label(0.0), "1");
    assert_eq!(pow10_label(6.0_f64 + 1.5f64.log10()), "1.5M");
    let (a, b): (&[f32], &[f32]) = (&[1.0, 10.0, 100.0, 0.0, f32::NAN], &[1000.0]);
    let h = log_histograms(&[a, b], 4);
    assert_eq!((h[0].total(), h[1].total()), (3, 1));
    assert_eq!(h[0].edges, h[1].edges);
    let input = egui_plot::GridInput {
        bounds: (0.0, 2.0),
        base_step_size: 0.1,
    };
    let marks: Vec<f64> = log10_marks(input).iter().map(|m| m.value).collect();
    assert_eq!(marks.len(), 7, "{marks:?}"); // 1 2 5 10 20 50 100
    assert_eq!(heat_colour(0.0), Color32::from_rgb(68, 1, 84));
    assert_eq!(heat_colour(1.0), Color32::from_rgb(253, 231, 37));
}

#[test]
fn shows_each_remedy_before_and_after() {
    use crate::data::remedies::{ClassHistogram, RemedyStep};
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let step = RemedyStep {
        name: "merge truck -> car".into(),
        before: ClassHistogram {
            images: 4,
            names: names(&["car", "truck", "person"]),
            counts: vec![3, 1, 1],
            ignore: 0,
        },
        after: ClassHistogram {
            images: 4,
            names: names(&["car", "person"]),
            counts: vec![4, 1],
            ignore: 0,
        },
    };
    assert_eq!(step_text_of(&step), "images 4 -> 4, objects 5 -> 5");
    assert_eq!(
        remedies::union_names(&step.before.names, &names(&["vehicle", "person"])),
        names(&["car", "truck", "person", "vehicle"])
    );
    let info = crate::app::worker::DatasetInfo {
        name: "d".into(),
        len: 4,
        class_names: step.after.names.clone(),
        report: None,
        image_names: None,
        remedies: std::sync::Arc::new(vec![step]),
    };
    let exports = PlotExports::default();
    let mut h = Harness::builder()
        .with_size(egui::vec2(600.0, 1200.0))
        .build_ui_state(
            |ui, state: &mut AppState| {
                let ctx = PanelContext {
                    inspection: None,
                    scores: None,
                    prior_prob: 0.01,
                    stats: None,
                    exports: &exports,
                    dataset: Some(&info),
                };
                stats_ui(ui, state, &ctx);
            },
            AppState::default(),
        );
    h.run_steps(2);
    h.get_by_label("1. merge truck -> car");
    h.get_by_label("images 4 -> 4, objects 5 -> 5");
    h.get_by_label_contains("before (grey) and after (blue)");
}

fn step_text_of(s: &crate::data::remedies::RemedyStep) -> String {
    remedies::step_text(s)
}
