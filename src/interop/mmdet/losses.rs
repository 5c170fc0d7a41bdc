//! `loss_cls` and `loss_bbox` under MMDetection 3's loss classes.

use crate::interop::py::{Py, dict, f, i, s};
use crate::losses::classification::ClsLoss;
use crate::losses::regression::RegLoss;

/// `loss_cls` and the head that goes with it.
pub(super) fn cls_loss(l: &ClsLoss, w: f64, notes: &mut Vec<String>) -> (Py, &'static str) {
    let sig = |name: &str| {
        dict([
            ("type", s(name)),
            ("use_sigmoid", Py::Bool(true)),
            ("loss_weight", f(w)),
        ])
    };
    match l {
        ClsLoss::Ce => (sig("CrossEntropyLoss"), "RetinaHead"),
        ClsLoss::BalancedCe { alpha } => {
            // alpha-balanced CE is focal loss with gamma 0
            let mut d = sig("FocalLoss");
            d.set("gamma", f(0.0));
            d.set("alpha", f(*alpha));
            (d, "RetinaHead")
        }
        ClsLoss::Focal { alpha, gamma } => {
            let mut d = sig("FocalLoss");
            d.set("gamma", f(*gamma));
            d.set("alpha", f(*alpha));
            (d, "RetinaHead")
        }
        ClsLoss::FocalStar { gamma, beta } => {
            notes.push(format!(
                "cls_loss: focal_star (gamma {gamma}, beta {beta}); exported as FocalLoss with gamma {gamma}, alpha 0.25"
            ));
            let mut d = sig("FocalLoss");
            d.set("gamma", f(*gamma));
            d.set("alpha", f(0.25));
            (d, "RetinaHead")
        }
        ClsLoss::GhmC { bins, momentum } => {
            let mut d = sig("GHMC");
            d.set("bins", i(*bins as i64));
            d.set("momentum", f(*momentum));
            (d, "RetinaHead")
        }
        ClsLoss::Qfl { beta } => {
            notes.push("cls_loss: QualityFocalLoss needs a GFLHead (IoU-quality targets)".into());
            let mut d = sig("QualityFocalLoss");
            d.set("beta", f(*beta));
            (d, "GFLHead")
        }
        ClsLoss::Varifocal { alpha, gamma } => {
            notes.push("cls_loss: VarifocalLoss needs a VFNetHead (IoU-aware targets)".into());
            let mut d = sig("VarifocalLoss");
            d.set("alpha", f(*alpha));
            d.set("gamma", f(*gamma));
            d.set("iou_weighted", Py::Bool(true));
            (d, "VFNetHead")
        }
        ClsLoss::Eql { lambda, .. } => {
            notes.push(format!(
                "cls_loss: EQL (lambda {lambda}) is not in MMDetection; exported as sigmoid CrossEntropyLoss"
            ));
            (sig("CrossEntropyLoss"), "RetinaHead")
        }
    }
}

/// `loss_bbox` and whether it works on decoded boxes (`reg_decoded_bbox`).
pub(super) fn reg_loss(l: &RegLoss, w: f64, notes: &mut Vec<String>) -> (Py, bool) {
    let lw = ("loss_weight", f(w));
    match *l {
        RegLoss::L1 => (dict([("type", s("L1Loss")), lw]), false),
        RegLoss::L2 => (dict([("type", s("MSELoss")), lw]), false),
        RegLoss::SmoothL1 { beta } => (
            dict([("type", s("SmoothL1Loss")), ("beta", f(beta)), lw]),
            false,
        ),
        RegLoss::BalancedL1 { alpha, gamma, beta } => (
            dict([
                ("type", s("BalancedL1Loss")),
                ("alpha", f(alpha)),
                ("gamma", f(gamma)),
                ("beta", f(beta)),
                lw,
            ]),
            false,
        ),
        RegLoss::Iou { mode, eps } => (
            dict([
                ("type", s("IoULoss")),
                ("mode", s(mode.name())),
                ("eps", f(eps)),
                lw,
            ]),
            true,
        ),
        RegLoss::BoundedIou { beta, eps } => (
            dict([
                ("type", s("BoundedIoULoss")),
                ("beta", f(beta)),
                ("eps", f(eps)),
                lw,
            ]),
            false,
        ),
        RegLoss::Giou { eps } => (dict([("type", s("GIoULoss")), ("eps", f(eps)), lw]), true),
        RegLoss::Diou { eps } => (dict([("type", s("DIoULoss")), ("eps", f(eps)), lw]), true),
        RegLoss::Ciou { eps, gated } => {
            if !gated {
                notes.push("reg_loss: ciou without the IoU > 0.5 gate (torchvision); MMDetection's CIoULoss gates alpha".into());
            }
            (dict([("type", s("CIoULoss")), ("eps", f(eps)), lw]), true)
        }
        RegLoss::Kl { beta } => {
            notes.push(format!(
                "reg_loss: KL loss (beta {beta}) needs a variance head; exported as SmoothL1Loss"
            ));
            (
                dict([("type", s("SmoothL1Loss")), ("beta", f(beta)), lw]),
                false,
            )
        }
    }
}
