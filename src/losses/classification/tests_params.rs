//! [`ClsLoss::from_json`], defaults, parameter checks and the serde form.

use serde_json::{Value, json};

use super::*;

#[test]
fn defaults_are_applied() {
    let d = |n: &str| ClsLoss::from_json(n, &json!({})).unwrap();
    assert_eq!(d("ce"), ClsLoss::Ce);
    assert_eq!(d("balanced_ce"), ClsLoss::BalancedCe { alpha: 0.75 });
    assert_eq!(
        d("focal"),
        ClsLoss::Focal {
            alpha: 0.25,
            gamma: 2.0
        }
    );
    assert_eq!(
        d("focal_star"),
        ClsLoss::FocalStar {
            gamma: 2.0,
            beta: 1.0
        }
    );
    assert_eq!(
        d("ghm_c"),
        ClsLoss::GhmC {
            bins: 10,
            momentum: 0.0
        }
    );
    assert_eq!(d("qfl"), ClsLoss::Qfl { beta: 2.0 });
    assert_eq!(
        d("varifocal"),
        ClsLoss::Varifocal {
            alpha: 0.75,
            gamma: 2.0
        }
    );
    assert_eq!(
        d("eql"),
        ClsLoss::Eql {
            lambda: 0.00177,
            class_freq: vec![1.0]
        }
    );
    assert_eq!(ClsLoss::default(), d("focal"));
    // null means "no parameters" too.
    assert_eq!(
        ClsLoss::from_json("focal", &Value::Null).unwrap(),
        d("focal")
    );
}

#[test]
fn every_name_builds_and_round_trips_its_name() {
    for &name in CLS_LOSS_NAMES {
        let loss = ClsLoss::default_for(name).unwrap();
        assert_eq!(loss.name(), name);
        let back = ClsLoss::from_json(name, &loss.params_json()).unwrap();
        assert_eq!(back, loss);
    }
}

#[test]
fn partial_params_keep_the_other_defaults() {
    let l = ClsLoss::from_json("focal", &json!({"gamma": 1})).unwrap();
    assert_eq!(
        l,
        ClsLoss::Focal {
            alpha: 0.25,
            gamma: 1.0
        }
    );
    let l = ClsLoss::from_json("ghm_c", &json!({"bins": 30, "momentum": 0.75})).unwrap();
    assert_eq!(
        l,
        ClsLoss::GhmC {
            bins: 30,
            momentum: 0.75
        }
    );
    let l = ClsLoss::from_json("focal", &json!({"alpha": -1})).unwrap();
    assert_eq!(
        l,
        ClsLoss::Focal {
            alpha: -1.0,
            gamma: 2.0
        },
        "negative alpha disables it"
    );
}

#[test]
fn eql_parameters() {
    let l = ClsLoss::from_json("eql", &json!({"num_classes": 3})).unwrap();
    assert_eq!(
        l,
        ClsLoss::Eql {
            lambda: 0.00177,
            class_freq: vec![1.0; 3]
        }
    );
    let f = json!({"class_freq": [0.5, 0.001], "lambda": 0.01});
    let l = ClsLoss::from_json("eql", &f).unwrap();
    assert_eq!(
        l,
        ClsLoss::Eql {
            lambda: 0.01,
            class_freq: vec![0.5, 0.001]
        }
    );
    let both = json!({"class_freq": [0.5, 0.001], "num_classes": 2});
    assert!(ClsLoss::from_json("eql", &both).is_ok());
    let e = ClsLoss::from_json("eql", &json!({"class_freq": [0.5], "num_classes": 2})).unwrap_err();
    assert!(
        e.contains("class_freq") && e.contains("num_classes is 2"),
        "{e}"
    );
    let e = ClsLoss::from_json("eql", &json!({"num_classes": 0})).unwrap_err();
    assert!(e.contains("'num_classes'"), "{e}");
    let e = ClsLoss::from_json("eql", &json!({"class_freq": [0.5, 2.0]})).unwrap_err();
    assert!(e.contains("'class_freq'"), "{e}");
    let e = ClsLoss::from_json("eql", &json!({"class_freq": [0.5, "x"]})).unwrap_err();
    assert!(e.contains("array of numbers"), "{e}");
}

#[test]
fn unknown_param_is_rejected() {
    let e = ClsLoss::from_json("focal", &json!({"gamma": 2, "beta": 1})).unwrap_err();
    assert_eq!(e, "focal: unknown parameter 'beta' (expected alpha, gamma)");
    let e = ClsLoss::from_json("ce", &json!({"alpha": 0.5})).unwrap_err();
    assert!(e.starts_with("ce: unknown parameter 'alpha'"), "{e}");
}

#[test]
fn unknown_loss_is_rejected_with_the_known_names() {
    let e = ClsLoss::from_json("softmax", &json!({})).unwrap_err();
    assert!(e.contains("'softmax'"), "{e}");
    for name in CLS_LOSS_NAMES {
        assert!(e.contains(name), "{e}");
    }
}

#[test]
fn wrong_types_and_ranges_are_rejected() {
    let cases = [
        ("focal", json!({"gamma": "2"}), "'gamma' must be a number"),
        (
            "focal",
            json!({"gamma": -0.5}),
            "'gamma' must be finite and >= 0",
        ),
        ("focal", json!({"alpha": 1.5}), "'alpha'"),
        (
            "balanced_ce",
            json!({"alpha": -0.1}),
            "'alpha' must be in [0, 1]",
        ),
        (
            "focal_star",
            json!({"gamma": 0}),
            "'gamma' must be finite and > 0",
        ),
        ("ghm_c", json!({"bins": 0}), "'bins'"),
        (
            "ghm_c",
            json!({"bins": 2.5}),
            "'bins' must be a non-negative integer",
        ),
        (
            "ghm_c",
            json!({"momentum": 1.0}),
            "'momentum' must be in [0, 1)",
        ),
        ("qfl", json!({"beta": -1}), "'beta'"),
        ("varifocal", json!({"alpha": -1}), "'alpha'"),
        ("eql", json!({"lambda": -1}), "'lambda'"),
    ];
    for (name, params, want) in cases {
        let e = ClsLoss::from_json(name, &params).unwrap_err();
        assert!(
            e.starts_with(&format!("{name}: ")) && e.contains(want),
            "{e}"
        );
        assert!(!e.contains('\n'));
    }
    let e = ClsLoss::from_json("focal", &json!([1, 2])).unwrap_err();
    assert!(e.contains("must be a JSON object"), "{e}");
}

#[test]
fn serde_form_is_flat_and_validated() {
    let l = ClsLoss::Focal {
        alpha: 0.25,
        gamma: 1.5,
    };
    let s = serde_json::to_string(&l).unwrap();
    let v: Value = serde_json::from_str(&s).unwrap();
    assert_eq!(v, json!({"name": "focal", "alpha": 0.25, "gamma": 1.5}));
    assert_eq!(serde_json::from_str::<ClsLoss>(&s).unwrap(), l);
    for &name in CLS_LOSS_NAMES {
        let l = ClsLoss::default_for(name).unwrap();
        let back: ClsLoss = serde_json::from_str(&serde_json::to_string(&l).unwrap()).unwrap();
        assert_eq!(back, l);
    }
    // Missing parameters take defaults; bad ones are errors.
    let l: ClsLoss = serde_json::from_str(r#"{"name": "varifocal"}"#).unwrap();
    assert_eq!(
        l,
        ClsLoss::Varifocal {
            alpha: 0.75,
            gamma: 2.0
        }
    );
    assert!(serde_json::from_str::<ClsLoss>(r#"{"name": "focal", "gama": 2}"#).is_err());
    assert!(serde_json::from_str::<ClsLoss>(r#"{"alpha": 2}"#).is_err());
}
