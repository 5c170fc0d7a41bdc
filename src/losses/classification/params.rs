//! Building a [`ClsLoss`] from a name and JSON parameters, checking parameter values, and the
//! flat JSON form used by serde (`{"name": "focal", "alpha": 0.25, "gamma": 2.0}`).
//!
//! Parameter names per loss (missing ones take the defaults in brackets):
//! `ce` (none); `balanced_ce`: alpha [0.75]; `focal`: alpha [0.25], gamma [2];
//! `focal_star`: gamma [2], beta [1]; `ghm_c`: bins [10], momentum [0]; `qfl`: beta [2];
//! `varifocal`: alpha [0.75], gamma [2]; `eql`: lambda [0.00177], `num_classes` and
//! `class_freq` (one frequency per class). For EQL, `num_classes` alone gives every class
//! frequency 1 (no class is rare: plain CE), `class_freq` alone sets `num_classes` to its
//! length, and neither gives one frequent class.

use serde_json::{Map, Value, json};

use super::eql::EQL_LAMBDA;
use super::focal::{FOCAL_ALPHA, FOCAL_GAMMA, FOCAL_STAR_BETA, FOCAL_STAR_GAMMA};
use super::ghm::{GHM_BINS, GHM_MOMENTUM};
use super::loss::{CLS_LOSS_NAMES, ClsLoss};
use super::quality::{QFL_BETA, VARIFOCAL_ALPHA, VARIFOCAL_GAMMA};

/// Default `alpha` of the alpha-balanced CE.
pub const BALANCED_CE_ALPHA: f64 = 0.75;

/// Reads the parameters of one loss, naming the loss in every error.
struct Params<'a> {
    loss: &'a str,
    map: Map<String, Value>,
}

impl Params<'_> {
    fn allow(&self, names: &[&str]) -> Result<(), String> {
        match self.map.keys().find(|k| !names.contains(&k.as_str())) {
            None => Ok(()),
            Some(k) if names.is_empty() => Err(format!(
                "{}: unknown parameter '{k}' (this loss takes no parameters)",
                self.loss
            )),
            Some(k) => Err(format!(
                "{}: unknown parameter '{k}' (expected {})",
                self.loss,
                names.join(", ")
            )),
        }
    }

    fn f64_or(&self, key: &str, default: f64) -> Result<f64, String> {
        match self.map.get(key) {
            None => Ok(default),
            Some(v) => v.as_f64().ok_or_else(|| self.type_err(key, "a number", v)),
        }
    }

    fn usize_opt(&self, key: &str) -> Result<Option<usize>, String> {
        match self.map.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(|n| Some(n as usize))
                .ok_or_else(|| self.type_err(key, "a non-negative integer", v)),
        }
    }

    fn vec_opt(&self, key: &str) -> Result<Option<Vec<f64>>, String> {
        let Some(v) = self.map.get(key) else {
            return Ok(None);
        };
        let err = || self.type_err(key, "an array of numbers", v);
        let arr = v.as_array().ok_or_else(err)?;
        arr.iter()
            .map(|e| e.as_f64().ok_or_else(err))
            .collect::<Result<_, _>>()
            .map(Some)
    }

    fn type_err(&self, key: &str, want: &str, got: &Value) -> String {
        let s = got.to_string();
        let s = if s.chars().count() > 40 {
            format!("{}...", s.chars().take(40).collect::<String>())
        } else {
            s
        };
        format!("{}: parameter '{key}' must be {want}, got {s}", self.loss)
    }
}

/// Errs unless `ok`, with a message naming the loss and the parameter.
fn check(
    ok: bool,
    loss: &str,
    key: &str,
    rule: &str,
    value: impl std::fmt::Display,
) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{loss}: parameter '{key}' must be {rule}, got {value}"
        ))
    }
}

impl ClsLoss {
    /// Builds the loss `name` from a JSON object of parameters (or `null` for all defaults).
    /// Errors (one line, naming the loss and the parameter) on an unknown loss or parameter,
    /// a wrong type or an out-of-range value.
    pub fn from_json(name: &str, params: &Value) -> Result<ClsLoss, String> {
        let map = match params {
            Value::Null => Map::new(),
            Value::Object(m) => m.clone(),
            other => {
                return Err(format!(
                    "{name}: parameters must be a JSON object, got {other}"
                ));
            }
        };
        let p = Params { loss: name, map };
        let loss = match name {
            "ce" => {
                p.allow(&[])?;
                ClsLoss::Ce
            }
            "balanced_ce" => {
                p.allow(&["alpha"])?;
                ClsLoss::BalancedCe {
                    alpha: p.f64_or("alpha", BALANCED_CE_ALPHA)?,
                }
            }
            "focal" => {
                p.allow(&["alpha", "gamma"])?;
                ClsLoss::Focal {
                    alpha: p.f64_or("alpha", FOCAL_ALPHA)?,
                    gamma: p.f64_or("gamma", FOCAL_GAMMA)?,
                }
            }
            "focal_star" => {
                p.allow(&["gamma", "beta"])?;
                ClsLoss::FocalStar {
                    gamma: p.f64_or("gamma", FOCAL_STAR_GAMMA)?,
                    beta: p.f64_or("beta", FOCAL_STAR_BETA)?,
                }
            }
            "ghm_c" => {
                p.allow(&["bins", "momentum"])?;
                ClsLoss::GhmC {
                    bins: p.usize_opt("bins")?.unwrap_or(GHM_BINS),
                    momentum: p.f64_or("momentum", GHM_MOMENTUM)?,
                }
            }
            "qfl" => {
                p.allow(&["beta"])?;
                ClsLoss::Qfl {
                    beta: p.f64_or("beta", QFL_BETA)?,
                }
            }
            "varifocal" => {
                p.allow(&["alpha", "gamma"])?;
                ClsLoss::Varifocal {
                    alpha: p.f64_or("alpha", VARIFOCAL_ALPHA)?,
                    gamma: p.f64_or("gamma", VARIFOCAL_GAMMA)?,
                }
            }
            "eql" => {
                p.allow(&["lambda", "num_classes", "class_freq"])?;
                let lambda = p.f64_or("lambda", EQL_LAMBDA)?;
                let n = p.usize_opt("num_classes")?;
                let class_freq = match (n, p.vec_opt("class_freq")?) {
                    (Some(n), Some(f)) if n != f.len() => {
                        return Err(format!(
                            "eql: parameter 'class_freq' has {} entries but num_classes is {n}",
                            f.len()
                        ));
                    }
                    (_, Some(f)) => f,
                    (Some(n), None) => {
                        check(n >= 1, name, "num_classes", ">= 1", n)?;
                        vec![1.0; n]
                    }
                    (None, None) => vec![1.0],
                };
                ClsLoss::Eql { lambda, class_freq }
            }
            _ => {
                return Err(format!(
                    "unknown classification loss '{name}' (known: {})",
                    CLS_LOSS_NAMES.join(", ")
                ));
            }
        };
        loss.validate()?;
        Ok(loss)
    }

    /// The loss `name` with all its default parameters.
    pub fn default_for(name: &str) -> Result<ClsLoss, String> {
        ClsLoss::from_json(name, &Value::Null)
    }

    /// Checks that every parameter is in range (also done by `eval`).
    pub fn validate(&self) -> Result<(), String> {
        let n = self.name();
        let fin = |v: f64| v.is_finite();
        match self {
            ClsLoss::Ce => Ok(()),
            ClsLoss::BalancedCe { alpha } => {
                check((0.0..=1.0).contains(alpha), n, "alpha", "in [0, 1]", alpha)
            }
            ClsLoss::Focal { alpha, gamma } => {
                let ok = fin(*alpha) && *alpha <= 1.0;
                check(ok, n, "alpha", "<= 1 (negative disables it)", alpha)?;
                check(
                    fin(*gamma) && *gamma >= 0.0,
                    n,
                    "gamma",
                    "finite and >= 0",
                    gamma,
                )
            }
            ClsLoss::FocalStar { gamma, beta } => {
                check(
                    fin(*gamma) && *gamma > 0.0,
                    n,
                    "gamma",
                    "finite and > 0",
                    gamma,
                )?;
                check(fin(*beta), n, "beta", "finite", beta)
            }
            ClsLoss::GhmC { bins, momentum } => {
                check((1..=10_000).contains(bins), n, "bins", "in 1..=10000", bins)?;
                check(
                    (0.0..1.0).contains(momentum),
                    n,
                    "momentum",
                    "in [0, 1)",
                    momentum,
                )
            }
            ClsLoss::Qfl { beta } => check(
                fin(*beta) && *beta >= 0.0,
                n,
                "beta",
                "finite and >= 0",
                beta,
            ),
            ClsLoss::Varifocal { alpha, gamma } => {
                check(
                    fin(*alpha) && *alpha >= 0.0,
                    n,
                    "alpha",
                    "finite and >= 0",
                    alpha,
                )?;
                check(
                    fin(*gamma) && *gamma >= 0.0,
                    n,
                    "gamma",
                    "finite and >= 0",
                    gamma,
                )
            }
            ClsLoss::Eql { lambda, class_freq } => {
                check(
                    fin(*lambda) && *lambda >= 0.0,
                    n,
                    "lambda",
                    "finite and >= 0",
                    lambda,
                )?;
                check(!class_freq.is_empty(), n, "class_freq", "non-empty", "[]")?;
                match class_freq.iter().find(|f| !(0.0..=1.0).contains(*f)) {
                    Some(f) => check(false, n, "class_freq", "frequencies in [0, 1]", f),
                    None => Ok(()),
                }
            }
        }
    }

    /// The parameters as a JSON object, in the form [`ClsLoss::from_json`] reads.
    pub fn params_json(&self) -> Value {
        match self {
            ClsLoss::Ce => json!({}),
            ClsLoss::BalancedCe { alpha } => json!({ "alpha": alpha }),
            ClsLoss::Focal { alpha, gamma } => json!({ "alpha": alpha, "gamma": gamma }),
            ClsLoss::FocalStar { gamma, beta } => json!({ "gamma": gamma, "beta": beta }),
            ClsLoss::GhmC { bins, momentum } => json!({ "bins": bins, "momentum": momentum }),
            ClsLoss::Qfl { beta } => json!({ "beta": beta }),
            ClsLoss::Varifocal { alpha, gamma } => json!({ "alpha": alpha, "gamma": gamma }),
            ClsLoss::Eql { lambda, class_freq } => json!({
                "lambda": lambda, "num_classes": class_freq.len(), "class_freq": class_freq
            }),
        }
    }
}

impl From<ClsLoss> for Value {
    /// `{"name": ..., <params>}`.
    fn from(loss: ClsLoss) -> Value {
        let mut v = loss.params_json();
        if let Value::Object(m) = &mut v {
            m.insert("name".into(), Value::String(loss.name().into()));
        }
        v
    }
}

impl TryFrom<Value> for ClsLoss {
    type Error = String;

    /// Reads `{"name": ..., <params>}` through [`ClsLoss::from_json`].
    fn try_from(v: Value) -> Result<ClsLoss, String> {
        let Value::Object(mut m) = v else {
            return Err(format!(
                "classification loss must be an object with a 'name', got {v}"
            ));
        };
        match m.remove("name") {
            Some(Value::String(name)) => ClsLoss::from_json(&name, &Value::Object(m)),
            _ => Err("classification loss: missing string field 'name'".into()),
        }
    }
}
