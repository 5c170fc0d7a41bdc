//! The stats tab's data remedies section: for each applied remedy, the image count and the
//! class histogram before and after it (bars side by side; the classes of both lists on one
//! axis, so merged classes show where they went).

use crate::app::plot_export::{PlotExports, Series};
use crate::data::remedies::{ClassHistogram, RemedyStep};
use egui::Color32;
use egui_plot::{Bar, BarChart, Legend};

/// Fill of the "before" bars.
const BEFORE: Color32 = Color32::from_rgb(120, 120, 120);
/// Fill of the "after" bars.
const AFTER: Color32 = Color32::from_rgb(90, 160, 220);

/// `images 120 -> 340, objects 800 -> 2,100`.
pub fn step_text(s: &RemedyStep) -> String {
    let objects = |h: &ClassHistogram| h.counts.iter().sum::<u64>();
    format!(
        "images {} -> {}, objects {} -> {}",
        s.before.images,
        s.after.images,
        objects(&s.before),
        objects(&s.after)
    )
}

/// The class names of both histograms, the first one's order then the new ones.
pub fn union_names(a: &[String], b: &[String]) -> Vec<String> {
    let mut out = a.to_vec();
    out.extend(b.iter().filter(|n| !a.contains(n)).cloned());
    out
}

/// Shows every step.
pub fn remedies_ui(ui: &mut egui::Ui, steps: &[RemedyStep], exports: &PlotExports) {
    ui.strong("Data remedies");
    for (k, s) in steps.iter().enumerate() {
        ui.label(format!("{}. {}", k + 1, s.name));
        ui.label(step_text(s));
        step_plot(ui, k, s, exports);
    }
    ui.weak("Each remedy's class histogram before (grey) and after (blue) it.");
}

fn step_plot(ui: &mut egui::Ui, k: usize, s: &RemedyStep, exports: &PlotExports) {
    let names = union_names(&s.before.names, &s.after.names);
    let x_of = |n: &str| names.iter().position(|m| m == n).unwrap_or(0) as f64;
    let bars = |h: &ClassHistogram, dx: f64, fill: Color32| -> Vec<Bar> {
        h.names
            .iter()
            .zip(&h.counts)
            .map(|(n, &c)| {
                Bar::new(x_of(n) + dx, c as f64)
                    .width(0.35)
                    .name(n)
                    .fill(fill)
            })
            .collect()
    };
    let before = bars(&s.before, -0.18, BEFORE);
    let after = bars(&s.after, 0.18, AFTER);
    let id = format!("stats_remedy_{k}");
    let resp = super::plots::class_count_plot(&id, &names)
        .legend(Legend::default())
        .show(ui, |p| {
            p.bar_chart(BarChart::new("before", before).color(BEFORE));
            p.bar_chart(BarChart::new("after", after).color(AFTER));
        });
    let series = || -> Vec<Series> {
        let pts = |h: &ClassHistogram| {
            h.names
                .iter()
                .zip(&h.counts)
                .map(|(n, &c)| [x_of(n), c as f64])
                .collect()
        };
        vec![
            ("before".to_string(), pts(&s.before)),
            ("after".to_string(), pts(&s.after)),
        ]
    };
    exports.buttons(ui, &id, series, resp.response.rect);
}
