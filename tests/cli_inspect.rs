//! `anchorscope inspect`: the JSON contract, its consistency, and bad input.

use serde_json::Value;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anchorscope"))
        .args(args)
        .output()
        .expect("spawn anchorscope")
}

fn inspect_json(args: &[&str]) -> Value {
    let mut all = vec!["inspect", "--json"];
    all.extend_from_slice(args);
    let out = run(&all);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

#[test]
fn json_contract_is_consistent() {
    let doc = inspect_json(&[
        "--dataset",
        "synthetic:shapes@3",
        "--image",
        "2",
        "--dump-anchors",
    ]);
    assert_eq!(doc["image"]["index"], 2);
    assert_eq!(doc["image"]["width"], 256);
    assert_eq!(doc["image"]["height"], 256);
    let gt = doc["gt"].as_array().unwrap();
    assert!(!gt.is_empty());
    for g in gt {
        assert_eq!(g["box"].as_array().unwrap().len(), 4);
        assert!(g["class"].as_u64().unwrap() < 3);
    }
    // default pyramid P3-P5 on 256 x 256: 9216 + 2304 + 576 anchors
    let levels = doc["levels"].as_array().unwrap();
    let strides: Vec<u64> = levels
        .iter()
        .map(|l| l["stride"].as_u64().unwrap())
        .collect();
    assert_eq!(strides, [8, 16, 32]);
    let counts = usizes(&Value::Array(
        levels.iter().map(|l| l["anchors"].clone()).collect(),
    ));
    assert_eq!(counts, [9216, 2304, 576]);
    let anchors = doc["anchors"].as_array().unwrap();
    let a = &doc["assign"];
    let labels: Vec<i64> = a["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect();
    assert_eq!(anchors.len(), 12_096);
    assert_eq!(labels.len(), anchors.len());
    assert_eq!(a["max_iou"].as_array().unwrap().len(), labels.len());
    let pos = labels.iter().filter(|&&l| l > 0).count();
    let neg = labels.iter().filter(|&&l| l == 0).count();
    let ign = labels.iter().filter(|&&l| l < 0).count();
    assert_eq!(a["num_pos"].as_u64().unwrap() as usize, pos);
    assert_eq!(a["num_neg"].as_u64().unwrap() as usize, neg);
    assert_eq!(a["num_ignored"].as_u64().unwrap() as usize, ign);
    let per_gt = usizes(&a["pos_per_gt"]);
    assert_eq!(per_gt.len(), gt.len());
    assert_eq!(per_gt.iter().sum::<usize>(), pos);
    // low-quality matching: every GT has a positive
    assert!(per_gt.iter().all(|&n| n > 0), "{per_gt:?}");
    // samplers: picks are real positives / negatives and obey the default counts
    let s = &doc["samplers"];
    for name in ["random", "hard_negative", "ohem", "iou_balanced", "pisa"] {
        let r = &s[name];
        for i in usizes(&r["pos"]) {
            assert!(labels[i] > 0, "{name}: pick {i} is not positive");
        }
        for i in usizes(&r["neg"]) {
            assert_eq!(labels[i], 0, "{name}: pick {i} is not negative");
        }
        assert_eq!(
            usizes(&r["indices"]).len(),
            usizes(&r["pos"]).len() + usizes(&r["neg"]).len()
        );
    }
    let random_pos = usizes(&s["random"]["pos"]).len();
    assert_eq!(random_pos, pos.min(128));
    assert_eq!(usizes(&s["random"]["neg"]).len(), 256 - random_pos);
    assert_eq!(usizes(&s["hard_negative"]["neg"]).len(), (3 * pos).min(neg));
    assert_eq!(
        usizes(&s["ohem"]["pos"]).len() + usizes(&s["ohem"]["neg"]).len(),
        512
    );
    assert_eq!(
        s["pisa"]["weights"].as_array().unwrap().len(),
        usizes(&s["pisa"]["indices"]).len()
    );
}

#[test]
fn same_seed_same_answer_and_config_changes_it() {
    let a = inspect_json(&["--image", "1"]);
    let b = inspect_json(&["--image", "1"]);
    assert_eq!(a, b);
    let dir = std::env::temp_dir().join(format!("anchorscope-inspect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("strict.toml");
    std::fs::write(
        &cfg,
        "seed = 5\n[assigner]\nkind = \"max_iou\"\npos_iou_thr = 0.6\nneg_iou_thr = 0.4\n\
         match_low_quality = false\n[samplers.random]\nnum = 64\n",
    )
    .unwrap();
    let c = inspect_json(&["--image", "1", "--config", cfg.to_str().unwrap()]);
    assert!(c["assign"]["num_pos"].as_u64() < a["assign"]["num_pos"].as_u64());
    let picked = c["samplers"]["random"]["indices"].as_array().unwrap().len();
    assert!(picked <= 64);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn readable_summary() {
    let out = run(&["inspect", "--image", "0"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("anchors: 12096"), "{text}");
    assert!(text.contains("sampler iou_balanced"));
}

fn assert_error(args: &[&str], needle: &str) {
    let out = run(args);
    assert_eq!(out.status.code(), Some(2), "args {args:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "{err:?} should mention {needle:?}");
}

#[test]
fn bad_input_is_one_line_and_status_2() {
    assert_error(&["inspect", "--dataset", "synthetic:nope"], "nope");
    assert_error(&["inspect", "--image", "1000000"], "out of range");
    assert_error(
        &["inspect", "--config", "/nonexistent/cfg.toml"],
        "/nonexistent/cfg.toml",
    );
    let dir = std::env::temp_dir().join(format!("anchorscope-badcfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("typo.toml");
    std::fs::write(
        &cfg,
        "[assigner]\nkind = \"max_iou\"\npos_iou_thresh = 0.6\n",
    )
    .unwrap();
    let before = std::fs::read(&cfg).unwrap();
    assert_error(&["inspect", "--config", cfg.to_str().unwrap()], "typo.toml");
    assert_eq!(
        std::fs::read(&cfg).unwrap(),
        before,
        "the user's file is untouched"
    );
    std::fs::remove_dir_all(&dir).ok();
}
