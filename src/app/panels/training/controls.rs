//! The Training tab's knobs (loss, sampler, regression loss, rate, weights) and the
//! detections / evaluation section.

use super::runtime::TrainingRuntime;
use super::settings::{TRAIN_CLS_LOSSES, TRAIN_REG_LOSSES, TrainingSettings};
use crate::app::panels::PanelContext;
use crate::app::state::{AppState, SamplerChoice};
use crate::losses::classification::ClsLoss;
use crate::losses::regression::RegLoss;
use crate::train::{BackendChoice, OptimizerKind};

/// Loss, sampler, regression loss, learning rate, optimizer, weighting, batch. Changes reach a running
/// trainer as `SetConfig` (the app compares the settings every frame).
pub fn settings_ui(ui: &mut egui::Ui, s: &mut TrainingSettings) {
    egui::Grid::new("training_knobs")
        .num_columns(2)
        .show(ui, |ui| {
            ui.label("Classification loss");
            let shown = TRAIN_CLS_LOSSES
                .iter()
                .find(|(n, _)| *n == s.cls_loss.name())
                .map_or(s.cls_loss.name(), |(_, l)| l);
            egui::ComboBox::from_id_salt("training_cls_loss")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    for (name, label) in TRAIN_CLS_LOSSES {
                        let on = s.cls_loss.name() == *name;
                        if ui.selectable_label(on, *label).clicked()
                            && !on
                            && let Ok(l) = ClsLoss::default_for(name)
                        {
                            s.cls_loss = l;
                        }
                    }
                });
            ui.end_row();
            cls_params_ui(ui, &mut s.cls_loss);

            ui.label("Pyramid");
            ui.checkbox(&mut s.balanced_fpn, "Balanced feature pyramid")
                .on_hover_text(
                    "Libra R-CNN's balanced feature pyramid: the levels are resized to one, \
                     averaged, refined and added back (597,471 parameters instead of 560,543). \
                     Applies to a new run.",
                );
            ui.end_row();

            ui.label("Sampler");
            let label = s.sampler.map_or("None (all anchors)", |c| c.label());
            egui::ComboBox::from_id_salt("training_sampler")
                .selected_text(label)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut s.sampler, None, "None (all anchors)");
                    for c in SamplerChoice::ALL {
                        ui.selectable_value(&mut s.sampler, Some(c), c.label());
                    }
                });
            ui.end_row();

            ui.label("Regression loss");
            let shown = TRAIN_REG_LOSSES
                .iter()
                .find(|(n, _)| *n == s.reg_loss.name())
                .map_or(s.reg_loss.name(), |(_, l)| l);
            egui::ComboBox::from_id_salt("training_reg_loss")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    for (name, label) in TRAIN_REG_LOSSES {
                        let on = s.reg_loss.name() == *name;
                        if ui.selectable_label(on, *label).clicked()
                            && !on
                            && let Some(l) = RegLoss::default_for(name)
                        {
                            s.reg_loss = match l {
                                RegLoss::SmoothL1 { .. } => RegLoss::SmoothL1 { beta: 1.0 / 9.0 },
                                other => other,
                            };
                        }
                    }
                });
            ui.end_row();

            ui.label("Learning rate");
            ui.add(
                egui::Slider::new(&mut s.lr, 1e-5..=100.0)
                    .logarithmic(true)
                    .clamping(egui::SliderClamping::Never)
                    .custom_formatter(|v, _| format!("{v:.2e}")),
            );
            ui.end_row();
            optimizer_ui(ui, s);
            backend_ui(ui, s);
            ui.label("w_cls");
            ui.add_enabled(
                !s.weighting.guided,
                egui::Slider::new(&mut s.weighting.w_cls, 0.0..=5.0),
            );
            ui.end_row();
            ui.label("w_reg");
            ui.add(egui::Slider::new(&mut s.weighting.w_reg, 0.0..=5.0));
            ui.end_row();
            ui.label("");
            ui.checkbox(
                &mut s.weighting.guided,
                "guided loss (w_cls from L_reg / L_cls)",
            );
            ui.end_row();
            ui.label("Batch");
            ui.add(egui::Slider::new(&mut s.batch, 1..=16));
            ui.end_row();
            ui.label("Warm-up steps");
            ui.add(egui::Slider::new(&mut s.warmup_steps, 0..=500));
            ui.end_row();
            ui.label("Seed (new runs)");
            ui.add(egui::DragValue::new(&mut s.seed));
            ui.end_row();
            hard_positives_ui(ui, s);
        });
    ui.weak(
        "Changes apply from the next step of a running model; anchor settings and the seed \
         apply to a new run. A constant rate follows the warm-up.",
    );
}

/// The "Hard positives" rows: occlusion (with its patch size) and rotation of positives.
fn hard_positives_ui(ui: &mut egui::Ui, s: &mut TrainingSettings) {
    let hp = &mut s.hard_positives;
    ui.label("Hard positives");
    ui.checkbox(&mut hp.occlude, "occlude the loss-raising patch")
        .on_hover_text(
            "A-Fast-RCNN's ASDN idea: before each step, inside every positive box, the patch \
             whose grey fill most raises the classification loss (from the gradient with \
             respect to the image) is filled. Costs an extra forward and backward a step.",
        );
    ui.end_row();
    ui.label("patch side");
    ui.add_enabled(
        hp.occlude,
        egui::Slider::new(&mut hp.patch, 0.1..=1.0).text("of the box"),
    );
    ui.end_row();
    ui.label("rotate positives");
    ui.add(egui::Slider::new(&mut hp.rotate_deg, 0.0..=30.0).suffix(" deg"))
        .on_hover_text(
            "ASTN's idea: the pixels of each positive box turn by a random angle up to this \
             about the box centre (0: off).",
        );
    ui.end_row();
}

/// Compute backend choice (a grid row).
fn backend_ui(ui: &mut egui::Ui, s: &mut TrainingSettings) {
    let label = |b: BackendChoice| match b {
        BackendChoice::Auto => "auto",
        BackendChoice::Cpu => "CPU",
        BackendChoice::Gpu => "GPU (wgpu)",
    };
    ui.label("Backend");
    egui::ComboBox::from_id_salt("training_backend")
        .selected_text(label(s.backend))
        .show_ui(ui, |ui| {
            for b in [BackendChoice::Auto, BackendChoice::Cpu, BackendChoice::Gpu] {
                ui.selectable_value(&mut s.backend, b, label(b));
            }
        })
        .response
        .on_hover_text(
            "auto: the GPU on a hardware adapter, the CPU on a software one (lavapipe) or none. \
             The run moves between backends at the next step.",
        );
    ui.end_row();
}

/// Optimizer choice and its momentum or betas (grid rows).
fn optimizer_ui(ui: &mut egui::Ui, s: &mut TrainingSettings) {
    let label = |k: OptimizerKind| match k {
        OptimizerKind::Sgd => "SGD",
        OptimizerKind::Adamw => "AdamW",
    };
    ui.label("Optimizer");
    egui::ComboBox::from_id_salt("training_optimizer")
        .selected_text(label(s.optimizer))
        .show_ui(ui, |ui| {
            for k in [OptimizerKind::Sgd, OptimizerKind::Adamw] {
                ui.selectable_value(&mut s.optimizer, k, label(k));
            }
        })
        .response
        .on_hover_text(
            "SGD with momentum and L2 weight decay, or AdamW (decoupled weight decay; \
             try a rate near 1e-3)",
        );
    ui.end_row();
    match s.optimizer {
        OptimizerKind::Sgd => {
            ui.label("  momentum");
            ui.add(egui::Slider::new(&mut s.momentum, 0.0..=0.99).text("momentum"));
            ui.end_row();
        }
        OptimizerKind::Adamw => {
            ui.label("  beta1");
            ui.add(egui::Slider::new(&mut s.adam_betas[0], 0.0..=0.99).text("beta1"));
            ui.end_row();
            ui.label("  beta2");
            ui.add(
                egui::Slider::new(&mut s.adam_betas[1], 0.9..=0.9999)
                    .text("beta2")
                    .max_decimals(4),
            );
            ui.end_row();
        }
    }
}

/// Sliders for the parameters of the classification loss (grid rows).
fn cls_params_ui(ui: &mut egui::Ui, l: &mut ClsLoss) {
    let row = |ui: &mut egui::Ui, name: &str, v: &mut f64, lo: f64, hi: f64| {
        ui.label(format!("  {name}"));
        ui.add(egui::Slider::new(v, lo..=hi).text(name));
        ui.end_row();
    };
    match l {
        ClsLoss::Focal { alpha, gamma } => {
            row(ui, "gamma", gamma, 0.0, 5.0);
            row(ui, "alpha", alpha, 0.0, 1.0);
        }
        ClsLoss::FocalStar { gamma, beta } => {
            row(ui, "gamma", gamma, 0.1, 5.0);
            row(ui, "beta", beta, -5.0, 5.0);
        }
        ClsLoss::BalancedCe { alpha } => row(ui, "alpha", alpha, 0.0, 1.0),
        ClsLoss::Qfl { beta } => row(ui, "beta", beta, 0.0, 5.0),
        ClsLoss::GhmC { bins, momentum } => {
            ui.label("  bins");
            ui.add(egui::Slider::new(bins, 2..=50).text("bins"));
            ui.end_row();
            row(ui, "momentum", momentum, 0.0, 0.99);
        }
        _ => {}
    }
}

/// Detection settings, the live model's detections on the image on screen, and evaluation.
pub fn detections_ui(
    ui: &mut egui::Ui,
    state: &mut AppState,
    ctx: &PanelContext,
    rt: &TrainingRuntime,
) {
    let s = &mut state.training;
    ui.checkbox(
        &mut s.show_detections,
        "Draw the live model's detections on the image",
    );
    ui.add(egui::Slider::new(&mut s.score_thr, 0.01..=0.95).text("score threshold"));
    ui.add(egui::Slider::new(&mut s.nms_iou, 0.1..=0.9).text("NMS IoU"));
    match &rt.preview {
        Some(p) if p.index == state.image_index => {
            ui.label(format!(
                "Image {}: {} detections (model at step {}). The loss-weight overlay uses \
                 this model's scores.",
                p.index,
                p.detections.len(),
                p.step
            ));
            let names = ctx
                .inspection
                .map(|i| i.class_names.as_slice())
                .unwrap_or(&[]);
            for d in p.detections.iter().take(8) {
                let name = names.get(d.class).map_or("?", String::as_str);
                ui.weak(format!(
                    "{name} {:.2} [{:.0}, {:.0}, {:.0}, {:.0}]",
                    d.score, d.bbox[0], d.bbox[1], d.bbox[2], d.bbox[3]
                ));
            }
        }
        _ => {
            ui.weak("No live model for this image yet (the overlay uses the prior).");
        }
    }
    ui.separator();
    match &rt.eval {
        Some((step, ap)) => {
            let s = &ap.summary;
            ui.strong(format!(
                "Held-out ({} images), step {step}: AP {:.3}, AP50 {:.3}, AP75 {:.3}",
                ap.gt.images.len(),
                s.ap(),
                s.ap50(),
                s.ap75()
            ));
            let per_class: Vec<String> = s
                .per_class
                .iter()
                .map(|c| format!("{} {:.3}", c.name, c.ap))
                .collect();
            ui.weak(format!(
                "APs {:.3}, APm {:.3}, APl {:.3}, AR100 {:.3}; AP per class: {}. The Evaluation tab has the rest.",
                s.stats[3],
                s.stats[4],
                s.stats[5],
                s.stats[8],
                per_class.join(", ")
            ));
        }
        None => {
            ui.weak("Evaluate scores the live model on 100 held-out images.");
        }
    }
}
