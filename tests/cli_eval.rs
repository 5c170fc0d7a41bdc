//! `anchorscope eval`: the 12 lines, `--json`, one-line errors with exit status 2, the empty
//! results warning, and re-evaluating the files `train` writes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anchorscope"))
        .args(args)
        .output()
        .expect("spawn")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "anchorscope-cli-eval-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

const GT: &str = r#"{"images": [{"id": 1, "width": 100, "height": 100}, {"id": 2, "width": 100, "height": 100}],
 "annotations": [
  {"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0},
  {"id": 2, "image_id": 1, "category_id": 2, "bbox": [50, 50, 40, 40], "area": 1600, "iscrowd": 0},
  {"id": 3, "image_id": 2, "category_id": 1, "bbox": [20, 20, 10, 10], "area": 100, "iscrowd": 0}],
 "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}]}"#;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn prints_twelve_lines_and_json() {
    let d = tmp("ok");
    let gt = write(&d, "gt.json", GT);
    // cat: one of two found at 0.9 (AP50 = 51/101); dog found (1)
    let dt = write(
        &d,
        "dt.json",
        r#"[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "score": 0.9},
        {"image_id": 1, "category_id": 2, "bbox": [50, 50, 40, 40], "score": 0.8}]"#,
    );
    let o = run(&["eval", "--gt", &gt, "--dt", &dt]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.752"
    );
    assert_eq!(
        lines[11],
        " Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = -1.000"
    );
    let o = run(&["eval", "--gt", &gt, "--dt", &dt, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ap50 = (51.0 / 101.0 + 1.0) / 2.0;
    assert!((v["stats"][1].as_f64().unwrap() - ap50).abs() < 1e-12);
    assert_eq!(v["per_class"][1]["name"], "dog");
    assert_eq!(v["per_class"][1]["num_gt"], 1);
    // pycocotools' precision is tp / (tp + fp + eps): 1 reads 1 - 1e-16
    assert!((v["per_class"][1]["apm"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    for k in ["cls", "loc", "both", "dupe", "bkg", "miss"] {
        assert!(v["tide"][k].is_number(), "tide.{k}");
    }
    assert!(
        v["tide"]["miss"].as_f64().unwrap() > 0.0,
        "the second cat is missed"
    );
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let d = tmp("bad");
    let gt = write(&d, "gt.json", GT);
    let cases = [
        (
            r#"[{"image_id": 9, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}]"#,
            "[0]: image_id 9 is not in",
        ),
        (
            r#"[{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1], "score": 0.5}]"#,
            "[0]:",
        ),
        ("[{", "not valid JSON"),
    ];
    for (text, want) in cases {
        let dt = write(&d, "dt.json", text);
        let before = std::fs::read(&dt).unwrap();
        let o = run(&["eval", "--gt", &gt, "--dt", &dt]);
        assert_eq!(o.status.code(), Some(2), "{text}");
        let e = stderr(&o);
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(
            e.starts_with(&format!("anchorscope: error: {dt}: ")) && e.contains(want),
            "{e}"
        );
        assert_eq!(
            std::fs::read(&dt).unwrap(),
            before,
            "the user's file is untouched"
        );
    }
    let bad_gt = write(
        &d,
        "bad_gt.json",
        &GT.replace(r#""category_id": 2,"#, r#""category_id": 7,"#),
    );
    let dt = write(&d, "dt.json", "[]");
    let o = run(&["eval", "--gt", &bad_gt, "--dt", &dt]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o)
            .contains("bad_gt.json: annotations[1] (id 2): category_id 7 is not in `categories`"),
        "{}",
        stderr(&o)
    );
    let o = run(&[
        "eval",
        "--gt",
        &d.join("missing.json").to_string_lossy(),
        "--dt",
        &dt,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing.json: cannot read"));
}

#[test]
fn empty_results_give_zeros_and_a_warning() {
    let d = tmp("empty");
    let gt = write(&d, "gt.json", GT);
    let dt = write(&d, "dt.json", "[]");
    let o = run(&["eval", "--gt", &gt, "--dt", &dt, "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("warning: no detections"),
        "{}",
        stderr(&o)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let stats: Vec<f64> = v["stats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    // every range with GT is 0; large has no GT (-1, as pycocotools)
    assert_eq!(
        stats,
        [0.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.0]
    );
}

#[test]
fn train_writes_files_that_eval_reproduces() {
    let d = tmp("train");
    let out = d.join("run");
    let o = run(&[
        "train",
        "--steps",
        "2",
        "--batch",
        "2",
        "--eval-images",
        "6",
        "--backend",
        "cpu",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let read = |n: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(out.join(n)).unwrap()).unwrap()
    };
    let (gt, dets, eval) = (
        read("val_gt.json"),
        read("detections.json"),
        read("eval.json"),
    );
    assert_eq!(gt["images"].as_array().unwrap().len(), 6);
    assert!(!gt["annotations"].as_array().unwrap().is_empty());
    assert!(dets.is_array());
    assert_eq!(eval["per_class"].as_array().unwrap().len(), 3);
    let o = run(&[
        "eval",
        "--gt",
        out.join("val_gt.json").to_str().unwrap(),
        "--dt",
        out.join("detections.json").to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let again: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        again["stats"], eval["stats"],
        "eval.json is what `eval` computes from the files"
    );
    for (a, b) in again["per_class"]
        .as_array()
        .unwrap()
        .iter()
        .zip(eval["per_class"].as_array().unwrap())
    {
        assert_eq!(a["ap"], b["ap"]);
        assert_eq!(a["num_gt"], b["num_gt"]);
    }
}
