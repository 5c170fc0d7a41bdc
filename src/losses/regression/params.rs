//! Building a [`RegLoss`] from a name and JSON parameters, with checked values.

use super::{IouMode, REG_LOSS_NAMES, RegLoss};
use serde_json::{Map, Value};

pub(super) fn one() -> f64 {
    1.0
}
pub(super) fn half() -> f64 {
    0.5
}
pub(super) fn one_and_half() -> f64 {
    1.5
}
pub(super) fn eps_iou() -> f64 {
    1e-6
}
pub(super) fn beta_bounded() -> f64 {
    0.2
}
pub(super) fn eps_bounded() -> f64 {
    1e-3
}
pub(super) fn eps_torchvision() -> f64 {
    1e-7
}

/// Which values a numeric parameter accepts.
#[derive(Clone, Copy)]
enum Range {
    /// Finite and `>= 0`.
    NonNegative,
    /// Finite and `> 0`.
    Positive,
}

/// Parameter names each loss accepts.
fn allowed(name: &str) -> &'static [&'static str] {
    match name {
        "smooth_l1" | "kl" => &["beta"],
        "balanced_l1" => &["alpha", "gamma", "beta"],
        "iou" => &["mode", "eps"],
        "bounded_iou" => &["beta", "eps"],
        "giou" | "diou" => &["eps"],
        "ciou" => &["eps", "gated"],
        _ => &[],
    }
}

/// Reads typed parameters of one loss, producing one-line errors that name both.
struct Reader<'a> {
    loss: &'a str,
    obj: &'a Map<String, Value>,
}

impl Reader<'_> {
    fn num(&self, key: &str, default: f64, range: Range) -> Result<f64, String> {
        let Some(v) = self.obj.get(key) else {
            return Ok(default);
        };
        let x = v.as_f64().ok_or_else(|| {
            format!(
                "loss '{}': parameter '{key}' must be a number, got {v}",
                self.loss
            )
        })?;
        let (ok, what) = match range {
            Range::NonNegative => (x.is_finite() && x >= 0.0, "a finite number >= 0"),
            Range::Positive => (x.is_finite() && x > 0.0, "a finite number > 0"),
        };
        if ok {
            Ok(x)
        } else {
            Err(format!(
                "loss '{}': parameter '{key}' must be {what}, got {x}",
                self.loss
            ))
        }
    }

    fn flag(&self, key: &str, default: bool) -> Result<bool, String> {
        match self.obj.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => Err(format!(
                "loss '{}': parameter '{key}' must be true or false, got {v}",
                self.loss
            )),
        }
    }

    fn mode(&self, key: &str) -> Result<IouMode, String> {
        match self.obj.get(key) {
            None => Ok(IouMode::default()),
            Some(Value::String(s)) if s == "linear" => Ok(IouMode::Linear),
            Some(Value::String(s)) if s == "log" => Ok(IouMode::Log),
            Some(Value::String(s)) if s == "square" => Ok(IouMode::Square),
            Some(v) => Err(format!(
                "loss '{}': parameter '{key}' must be \"linear\", \"log\" or \"square\", got {v}",
                self.loss
            )),
        }
    }
}

impl RegLoss {
    /// Builds a loss from its name (one of [`REG_LOSS_NAMES`]) and a JSON object of
    /// parameters (`null` or `{}` for the defaults). Parameter names: `beta`, `alpha`, `gamma`,
    /// `mode` (`"linear" | "log" | "square"`), `eps`, `gated`. An unknown name or parameter, a
    /// wrong type or an out-of-range value is a one-line error naming the loss and parameter.
    pub fn from_json(name: &str, params: &Value) -> Result<RegLoss, String> {
        if !REG_LOSS_NAMES.contains(&name) {
            return Err(format!(
                "unknown regression loss '{name}'; expected one of: {}",
                REG_LOSS_NAMES.join(", ")
            ));
        }
        let empty = Map::new();
        let obj = match params {
            Value::Null => &empty,
            Value::Object(m) => m,
            other => {
                return Err(format!(
                    "loss '{name}': parameters must be a JSON object, got {other}"
                ));
            }
        };
        let ok = allowed(name);
        if let Some(k) = obj.keys().find(|k| !ok.contains(&k.as_str())) {
            let expected = if ok.is_empty() {
                "it takes none".to_string()
            } else {
                format!("expected one of: {}", ok.join(", "))
            };
            return Err(format!(
                "loss '{name}': unknown parameter '{k}'; {expected}"
            ));
        }
        let r = Reader { loss: name, obj };
        use Range::{NonNegative, Positive};
        Ok(match name {
            "l1" => RegLoss::L1,
            "l2" => RegLoss::L2,
            "smooth_l1" => RegLoss::SmoothL1 {
                beta: r.num("beta", one(), NonNegative)?,
            },
            "balanced_l1" => RegLoss::BalancedL1 {
                alpha: r.num("alpha", half(), Positive)?,
                gamma: r.num("gamma", one_and_half(), Positive)?,
                beta: r.num("beta", one(), Positive)?,
            },
            "iou" => {
                let mode = r.mode("mode")?;
                let eps = r.num("eps", eps_iou(), Positive)?;
                if eps >= 1.0 {
                    return Err(format!(
                        "loss 'iou': parameter 'eps' must be < 1, got {eps}"
                    ));
                }
                RegLoss::Iou { mode, eps }
            }
            "bounded_iou" => RegLoss::BoundedIou {
                beta: r.num("beta", beta_bounded(), Positive)?,
                eps: r.num("eps", eps_bounded(), NonNegative)?,
            },
            "giou" => RegLoss::Giou {
                eps: r.num("eps", eps_torchvision(), NonNegative)?,
            },
            "diou" => RegLoss::Diou {
                eps: r.num("eps", eps_torchvision(), NonNegative)?,
            },
            "ciou" => RegLoss::Ciou {
                eps: r.num("eps", eps_torchvision(), NonNegative)?,
                gated: r.flag("gated", false)?,
            },
            "kl" => RegLoss::Kl {
                beta: r.num("beta", one(), NonNegative)?,
            },
            _ => unreachable!("name checked against REG_LOSS_NAMES"),
        })
    }
}
