//! Shared helpers of the panel tests: a real inspection and a kittest harness around a panel.

use super::PanelContext;
use crate::app::plot_export::PlotExports;
use crate::app::state::AppState;
use crate::inspect::{Inspection, inspect_sample};
use egui_kittest::Harness;

/// The inspection of synthetic `shapes` image 0 under `state`'s lab settings.
pub fn inspection(state: &AppState) -> Inspection {
    let sample = crate::data::synthetic::generate(&Default::default(), 0, 0);
    let names = vec!["disc".into(), "rectangle".into(), "triangle".into()];
    inspect_sample(sample, names, &state.lab)
}

/// A harness of `height` points showing `panel` with `ins` and a default [`AppState`].
pub fn panel_harness<'a>(
    ins: &'a Inspection,
    exports: &'a PlotExports,
    height: f32,
    panel: fn(&mut egui::Ui, &mut AppState, &PanelContext),
) -> Harness<'a, AppState> {
    Harness::builder()
        .with_size(egui::vec2(700.0, height))
        .build_ui_state(
            move |ui, state: &mut AppState| {
                let ctx = PanelContext {
                    inspection: Some(ins),
                    scores: None,
                    prior_prob: 0.01,
                    stats: None,
                    exports,
                    dataset: None,
                };
                panel(ui, state, &ctx);
            },
            AppState::default(),
        )
}
