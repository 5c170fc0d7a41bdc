//! Section 3: the image on screen. The cumulative normalised loss of its positives and of its
//! negatives under the current model (the RetinaNet paper's Fig. 4), and the share of the
//! image's loss carried by the positives, under CE and under the overlay's loss.
//!
//! Each anchor's loss is its classification loss summed over the classes: a positive has
//! target 1 for its GT's class and 0 for the others, a negative 0 for every class; ignored
//! anchors are left out. Scores come from [`PanelContext::score`] (the prior until a model is
//! trained).

use super::{PlotSpec, pct, series_plot};
use crate::app::panels::PanelContext;
use crate::app::plot_export::Series;
use crate::app::state::AppState;
use crate::inspect::Inspection;
use crate::losses::classification::ClsLoss;
use crate::losses::classification::stable::logit;
use std::sync::Arc;

/// Most points drawn per curve.
const MAX_POINTS: usize = 400;

/// The per-anchor classification losses of one image, by group.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImageLosses {
    /// One loss per positive anchor.
    pub pos: Vec<f64>,
    /// One loss per negative anchor.
    pub neg: Vec<f64>,
}

impl ImageLosses {
    /// Share of the image's total loss carried by the positives (`None` when it is zero).
    pub fn pos_share(&self) -> Option<f64> {
        let (p, n) = (self.pos.iter().sum::<f64>(), self.neg.iter().sum::<f64>());
        (p + n > 0.0).then(|| p / (p + n))
    }
}

/// Per-anchor losses of the inspected image under `loss` (see the module doc), evaluated in
/// one batch by [`ClsLoss::eval`] so batch-dependent losses (GHM-C, EQL) work too.
pub fn image_losses(
    insp: &Inspection,
    ctx: &PanelContext,
    loss: &ClsLoss,
) -> Result<ImageLosses, String> {
    let c = insp.class_names.len().max(1);
    let (mut logits, mut targets, mut positive) = (Vec::new(), Vec::new(), Vec::new());
    for (i, &label) in insp.assign.labels.iter().enumerate() {
        if label < 0 {
            continue;
        }
        let class = (label > 0).then(|| insp.sample.classes[(label - 1) as usize]);
        for j in 0..c {
            let p = ctx.score(i, j, c).clamp(1e-7, 1.0 - 1e-7);
            logits.push(logit(p));
            targets.push(if class == Some(j) { 1.0 } else { 0.0 });
        }
        positive.push(label > 0);
    }
    let out = loss.eval(&logits, &targets)?;
    let mut r = ImageLosses::default();
    for (row, &is_pos) in out.values.chunks(c).zip(&positive) {
        let v: f64 = row.iter().sum();
        if is_pos { r.pos.push(v) } else { r.neg.push(v) }
    }
    Ok(r)
}

/// The cumulative normalised loss: `values` sorted ascending, their running sum divided by
/// the total, against the fraction of samples; at most [`MAX_POINTS`] points plus `(0, 0)`.
/// Empty when the total is zero.
pub fn cumulative_curve(values: &[f64]) -> Vec<[f64; 2]> {
    let total: f64 = values.iter().sum();
    if values.is_empty() || total <= 0.0 || !total.is_finite() {
        return Vec::new();
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let step = n.div_ceil(MAX_POINTS).max(1);
    let mut out = vec![[0.0, 0.0]];
    let mut acc = 0.0;
    for (i, x) in v.iter().enumerate() {
        acc += x;
        if (i + 1) % step == 0 || i + 1 == n {
            out.push([(i + 1) as f64 / n as f64, acc / total]);
        }
    }
    out
}

/// What the section shows, cached between frames.
struct Summary {
    /// What it was computed from.
    key: String,
    /// Under CE and under the overlay's loss.
    ce: Result<ImageLosses, String>,
    /// See `ce`.
    current: Result<ImageLosses, String>,
}

/// The summary for this frame, recomputed only when the inputs change.
fn summary(ui: &egui::Ui, insp: &Inspection, ctx: &PanelContext, loss: &ClsLoss) -> Arc<Summary> {
    let key = format!(
        "{:p} {} {:?} {} {loss:?}",
        insp,
        insp.assign.labels.len(),
        ctx.scores.map(|s| (s.as_ptr(), s.len())),
        ctx.prior_prob
    );
    let id = ui.scope_id().with("loss_explorer_cumulative");
    if let Some(s) = ui
        .data(|d| d.get_temp::<Arc<Summary>>(id))
        .filter(|s| s.key == key)
    {
        return s;
    }
    let s = Arc::new(Summary {
        key,
        ce: image_losses(insp, ctx, &ClsLoss::Ce),
        current: image_losses(insp, ctx, loss),
    });
    ui.data_mut(|d| d.insert_temp(id, s.clone()));
    s
}

/// "Positives carry X% of the loss", or why not.
fn share_text(r: &Result<ImageLosses, String>) -> String {
    match r {
        Ok(l) => match l.pos_share() {
            Some(s) => format!("Positives carry {} of the loss", pct(s)),
            None => "No loss on this image".into(),
        },
        Err(e) => format!("Cannot evaluate: {e}"),
    }
}

/// Shows the current-image section.
pub fn cumulative_ui(ui: &mut egui::Ui, state: &mut AppState, ctx: &PanelContext) {
    let Some(insp) = ctx.inspection else {
        ui.label("No image inspected yet.");
        return;
    };
    let loss = &state.overlay.loss;
    let s = summary(ui, insp, ctx, loss);
    if ctx.scores.is_none() {
        ui.weak(format!(
            "untrained model: every anchor scores pi = {}, so all positives (and all negatives) \
             have the same loss and the curves are straight lines.",
            ctx.prior_prob
        ));
    }
    let (n_pos, n_neg) = s.ce.as_ref().map_or((0, 0), |l| (l.pos.len(), l.neg.len()));
    ui.label(format!(
        "{n_pos} positives, {n_neg} negatives (ignored anchors left out)."
    ));
    egui::Grid::new("loss_explorer_image_shares")
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            ui.strong("CE");
            ui.strong(format!("Overlay loss ({})", loss.name()));
            ui.end_row();
            ui.label(share_text(&s.ce));
            ui.label(share_text(&s.current));
            ui.end_row();
        });
    let mut series: Vec<Series> = Vec::new();
    for (tag, r) in [("CE", &s.ce), (loss.name(), &s.current)] {
        if let Ok(l) = r {
            series.push((format!("{tag}: positives"), cumulative_curve(&l.pos)));
            series.push((format!("{tag}: negatives"), cumulative_curve(&l.neg)));
        }
    }
    let spec = PlotSpec {
        name: "cumulative normalised loss",
        x: "fraction of samples (sorted by loss)",
        y: "cumulative normalised loss",
        y_bounds: Some((0.0, 1.0)),
    };
    let current = loss.name();
    series_plot(
        ui,
        ctx,
        &spec,
        &series,
        |n| n.starts_with(current) && current != "ce",
        |_| {},
    );
}
