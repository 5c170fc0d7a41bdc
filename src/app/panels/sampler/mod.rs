//! The sampler tab: which sampler the overlay shows, its parameters, the seed, the counts of
//! its picks and the Libra R-CNN comparison of negative IoU histograms.

mod hist;
mod params;
#[cfg(test)]
mod tests;

pub use hist::{BINS, IouHistograms, IouSet, iou_histograms};

use super::PanelContext;
use super::anchors::cache::{cached, inspection_key};
use crate::app::state::{AppState, SamplerChoice};
use crate::inspect::Inspection;
use crate::sample::SampleResult;
use std::hash::{Hash, Hasher};

/// Shows the sampler tab.
pub fn sampler_ui(ui: &mut egui::Ui, state: &mut AppState, ctx: &PanelContext) {
    egui::ScrollArea::vertical()
        .id_salt("sampler_tab")
        .show(ui, |ui| {
            ui.strong("Sampler shown in the overlay");
            ui.horizontal_wrapped(|ui| {
                for c in SamplerChoice::ALL {
                    ui.radio_value(&mut state.overlay.sampler, c, c.label());
                }
            });
            egui::CollapsingHeader::new(format!("{} parameters", state.overlay.sampler.label()))
                .id_salt("sampler_params")
                .default_open(true)
                .show(ui, |ui| {
                    params::params_ui(ui, state.overlay.sampler, &mut state.lab.samplers)
                });
            ui.horizontal(|ui| {
                let l = ui.label("Seed:");
                ui.add(egui::DragValue::new(&mut state.lab.seed))
                    .labelled_by(l.id);
                if ui
                    .button("Resample")
                    .on_hover_text("Draw again with the next seed")
                    .clicked()
                {
                    state.lab.seed = state.lab.seed.wrapping_add(1);
                }
            });
            ui.separator();
            let choice = state.overlay.sampler;
            match ctx.inspection.map(|i| (i, i.sampler(choice.key()))) {
                Some((ins, Some(r))) => results_ui(ui, ins, r, choice, state.lab.seed, ctx),
                Some((_, None)) => {
                    ui.label(format!("No result for sampler '{}'.", choice.key()));
                }
                None => {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label("Sampling...");
                    });
                }
            }
        });
}

/// Counts, histograms and caption for the chosen sampler's result.
fn results_ui(
    ui: &mut egui::Ui,
    ins: &Inspection,
    r: &SampleResult,
    choice: SamplerChoice,
    seed: u64,
    ctx: &PanelContext,
) {
    let a = &ins.assign;
    let (pos, neg) = (a.num_pos(), a.num_neg());
    ui.label(format!(
        "Candidates: {} ({pos} positives, {neg} negatives; {} ignored)",
        pos + neg,
        a.num_ignored()
    ));
    ui.strong(format!("Picked positives: {}", r.num_pos()));
    ui.strong(format!("Picked negatives: {}", r.num_neg()));
    let mean_w = |idx: &[usize]| {
        idx.iter().map(|&i| r.weights[i] as f64).sum::<f64>() / idx.len().max(1) as f64
    };
    if choice == SamplerChoice::Pisa {
        ui.label(format!(
            "Mean weight: positives {:.3}, negatives {:.3}",
            mean_w(&r.pos),
            mean_w(&r.neg)
        ));
    }
    ui.separator();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (inspection_key(ins), choice.key(), seed, &r.neg).hash(&mut h);
    let id = ui.make_persistent_id("sampler_hist");
    let hists = cached(ui, id, h.finish(), || iou_histograms(ins, &r.neg, seed));
    let skip_id = ui.make_persistent_id("sampler_skip_zero");
    let mut skip_zero = ui.data(|d| d.get_temp::<bool>(skip_id)).unwrap_or(true);
    if ui
        .checkbox(
            &mut skip_zero,
            "Leave out negatives with IoU 0 (pure background)",
        )
        .changed()
    {
        ui.data_mut(|d| d.insert_temp(skip_id, skip_zero));
    }
    hist::hist_ui(ui, &hists, skip_zero, ctx.exports);
    ui.weak(
        "Libra R-CNN's comparison. Hard negatives sit at higher IoU, near the objects; a random \
         pick mirrors the all-negatives histogram, dominated by easy background. Heights are \
         fractions of each set, so the three are comparable.",
    );
    if matches!(choice, SamplerChoice::HardNegative | SamplerChoice::Ohem) {
        ui.weak(
            "The inspection ranks by the untrained prior's loss, which is the same for every \
             negative: ties go to the lowest anchor index, so these picks are not hard.",
        );
    }
}
