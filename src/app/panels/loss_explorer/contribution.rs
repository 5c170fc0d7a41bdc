//! Section 2: the contribution calculator. N negatives at one p_t and M positives at another:
//! which share of the total loss each group carries under CE, balanced CE and FL (the seed
//! article's 99.54% / 93.74% example), through [`loss_shares`].

use super::{LossExplorerSettings, overlay_focal, pct};
use crate::app::state::AppState;
use crate::losses::classification::{ClsLoss, FOCAL_ALPHA, FOCAL_GAMMA, loss_shares};
use egui::DragValue;

/// One row of the table: a loss and the `(negatives, positives)` shares it gives.
#[derive(Clone, Debug, PartialEq)]
pub struct ShareRow {
    /// Display name with the parameters.
    pub name: String,
    /// `(share_neg, share_pos)`, or why they are undefined.
    pub shares: Result<(f64, f64), String>,
}

/// The rows: CE, balanced CE (the calculator's alpha), FL (the overlay's alpha and gamma, or
/// the defaults when the overlay is not focal) and, when it is neither, the overlay's loss.
pub fn share_rows(s: &LossExplorerSettings, overlay: &ClsLoss) -> Vec<ShareRow> {
    let (alpha, gamma) = overlay_focal(overlay).unwrap_or((FOCAL_ALPHA, FOCAL_GAMMA));
    let fl_name = if alpha < 0.0 {
        format!("FL (no alpha, gamma {gamma:.2})")
    } else {
        format!("FL (alpha {alpha:.2}, gamma {gamma:.2})")
    };
    let mut losses = vec![
        ("CE".to_string(), ClsLoss::Ce),
        (
            format!("Balanced CE (alpha {:.2})", s.balanced_alpha),
            ClsLoss::BalancedCe {
                alpha: s.balanced_alpha,
            },
        ),
        (fl_name, ClsLoss::Focal { alpha, gamma }),
    ];
    if !matches!(overlay, ClsLoss::Ce | ClsLoss::Focal { .. }) {
        losses.push((
            format!("Overlay loss ({})", overlay.name()),
            overlay.clone(),
        ));
    }
    losses
        .into_iter()
        .map(|(name, loss)| ShareRow {
            shares: loss_shares(s.n_neg, s.p_t_neg, s.n_pos, s.p_t_pos, &loss),
            name,
        })
        .collect()
}

/// A p_t input, kept inside (0, 1).
fn p_t_drag(p_t: &mut f64) -> DragValue<'_> {
    DragValue::new(p_t)
        .range(0.0001..=0.9999)
        .speed(0.001)
        .max_decimals(4)
}

/// Shows the calculator section.
pub fn contribution_ui(ui: &mut egui::Ui, state: &mut AppState) {
    let s = &mut state.loss_explorer;
    egui::Grid::new("loss_contribution_inputs")
        .num_columns(4)
        .show(ui, |ui| {
            let l = ui.label("Negatives N");
            ui.add(
                DragValue::new(&mut s.n_neg)
                    .range(0..=1_000_000_000u64)
                    .speed(1000.0),
            )
            .labelled_by(l.id);
            let l = ui.label("at p_t");
            ui.add(p_t_drag(&mut s.p_t_neg)).labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Positives M");
            ui.add(
                DragValue::new(&mut s.n_pos)
                    .range(0..=1_000_000_000u64)
                    .speed(1.0),
            )
            .labelled_by(l.id);
            let l = ui.label("at p_t");
            ui.add(p_t_drag(&mut s.p_t_pos)).labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Balanced CE alpha");
            let alpha = DragValue::new(&mut s.balanced_alpha)
                .range(0.0..=1.0)
                .speed(0.01)
                .max_decimals(3);
            ui.add(alpha).labelled_by(l.id);
            ui.end_row();
        });
    if ui.small_button("Seed article's example").clicked() {
        let d = LossExplorerSettings::default();
        (s.n_neg, s.p_t_neg, s.n_pos, s.p_t_pos) = (d.n_neg, d.p_t_neg, d.n_pos, d.p_t_pos);
    }
    ui.add_space(4.0);
    egui::Grid::new("loss_contribution_table")
        .striped(true)
        .num_columns(3)
        .show(ui, |ui| {
            ui.strong("Loss");
            ui.strong("Negatives' share");
            ui.strong("Positives' share");
            ui.end_row();
            for row in share_rows(s, &state.overlay.loss) {
                ui.label(&row.name);
                match row.shares {
                    Ok((neg, pos)) => {
                        ui.label(pct(neg));
                        ui.label(pct(pos));
                    }
                    Err(e) => {
                        ui.label("-").on_hover_text(e);
                        ui.label("-");
                    }
                }
                ui.end_row();
            }
        });
    ui.weak("FL uses the overlay's alpha and gamma (set them above).");
}
