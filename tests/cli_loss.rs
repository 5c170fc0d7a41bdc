//! `anchorscope loss`: JSON in, JSON out, checked against formulas written out here.

use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn run_loss(input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_anchorscope"))
        .args(["loss", "--input", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn anchorscope");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn ok_json(input: Value) -> Value {
    let out = run_loss(&input.to_string());
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[test]
fn focal_and_giou_cases() {
    let logits = [-2.0, 0.0, 1.5, 3.0];
    let targets = [0.0, 1.0, 1.0, 0.0];
    let out = ok_json(json!({"cases": [
        {"loss": "focal", "params": {"alpha": 0.25, "gamma": 2}, "logits": logits, "targets": targets},
        {"loss": "giou", "params": {}, "pred": [[0, 0, 2, 2], [0, 0, 1, 1]], "target": [[1, 1, 3, 3], [2, 0, 3, 1]]},
    ]}));
    let cases = out["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    assert_eq!(cases[0]["loss"], "focal");
    let values = cases[0]["values"].as_array().unwrap();
    let grads = cases[0]["grad"].as_array().unwrap();
    assert_eq!(values.len(), 4);
    assert_eq!(grads.len(), 4);
    for k in 0..4 {
        let (x, y) = (logits[k], targets[k]);
        let fl = |x: f64| {
            let p = sigmoid(x);
            let (pt, at) = if y == 1.0 { (p, 0.25) } else { (1.0 - p, 0.75) };
            -at * (1.0 - pt).powi(2) * pt.ln()
        };
        let v = values[k].as_f64().unwrap();
        assert!((v - fl(x)).abs() < 1e-9, "value {k}: {v} vs {}", fl(x));
        let h = 1e-5;
        let fd = (fl(x + h) - fl(x - h)) / (2.0 * h);
        let g = grads[k].as_f64().unwrap();
        assert!((g - fd).abs() < 1e-6, "grad {k}: {g} vs {fd}");
    }
    let gv: Vec<f64> = cases[1]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(
        (gv[0] - 1.079365).abs() < 1e-5 && (gv[1] - 1.333333).abs() < 1e-5,
        "{gv:?}"
    );
    let g0 = cases[1]["grad"][0].as_array().unwrap();
    assert_eq!(g0.len(), 4);
}

#[test]
fn every_loss_name_runs_with_defaults() {
    let cls = [
        "ce",
        "balanced_ce",
        "focal",
        "focal_star",
        "ghm_c",
        "qfl",
        "varifocal",
    ];
    let reg = [
        "l1",
        "l2",
        "smooth_l1",
        "balanced_l1",
        "iou",
        "bounded_iou",
        "giou",
        "diou",
        "ciou",
    ];
    let mut cases: Vec<Value> = cls
        .iter()
        .map(|n| json!({"loss": n, "logits": [0.3, -1.0], "targets": [1.0, 0.0]}))
        .collect();
    cases.push(
        json!({"loss": "eql", "params": {"num_classes": 2, "class_freq": [0.9, 0.0001]},
        "logits": [0.3, -1.0, 0.5, 0.2], "targets": [1.0, 0.0, 0.0, 0.0]}),
    );
    cases.extend(
        reg.iter()
            .map(|n| json!({"loss": n, "pred": [[1, 1, 5, 6]], "target": [[0, 0, 4, 5]]})),
    );
    cases.push(json!({"loss": "kl", "pred": [[1, 1, 5, 6, 0.1, 0.2, -0.1, 0.0]], "target": [[0, 0, 4, 5]]}));
    let n = cases.len();
    let out = ok_json(json!({ "cases": cases }));
    let got = out["cases"].as_array().unwrap();
    assert_eq!(got.len(), n);
    for c in got {
        for v in c["values"].as_array().unwrap() {
            assert!(v.as_f64().unwrap().is_finite(), "{c}");
        }
    }
    assert_eq!(got[n - 1]["grad"][0].as_array().unwrap().len(), 8);
}

fn assert_bad(input: &str, needle: &str) {
    let out = run_loss(input);
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "{err:?} should mention {needle:?}");
}

#[test]
fn bad_input_is_one_line_and_status_2() {
    assert_bad("{not json", "invalid JSON");
    assert_bad(
        r#"{"cases":[{"loss":"nope","logits":[1],"targets":[1]}]}"#,
        "nope",
    );
    assert_bad(
        r#"{"cases":[{"loss":"focal","logits":[1,2],"targets":[1]}]}"#,
        "case 0",
    );
    assert_bad(
        r#"{"cases":[{"loss":"focal","params":{"gamma":2},"logits":[1],"targets":[1]},
        {"loss":"focal","params":{"gamm":2},"logits":[1],"targets":[1]}]}"#,
        "case 1",
    );
    assert_bad(
        r#"{"cases":[{"loss":"giou","pred":[[0,0,1]],"target":[[0,0,1,1]]}]}"#,
        "giou",
    );
}

#[test]
fn missing_file_names_the_file() {
    let out = Command::new(env!("CARGO_BIN_EXE_anchorscope"))
        .args(["loss", "--input", "/nonexistent/cases.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/cases.json"));
}
