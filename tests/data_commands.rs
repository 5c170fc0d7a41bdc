//! Every command on every SPEC: a small COCO, VOC and YOLO dataset (written by the test from
//! synthetic scenes of two image sizes) is checked, inspected, trains 20 steps and evaluates.

mod support;

use serde_json::Value;
use support::{clean_datasets, run, tmp, tree_hash};

#[test]
fn coco_voc_and_yolo_are_checked_inspected_trained_and_evaluated() {
    let root = tmp("commands");
    let specs = clean_datasets(&root.join("data"), 10);
    let cfg = root.join("small.toml");
    std::fs::write(
        &cfg,
        "[data]\nwidth = 128\nheight = 128\nresize = \"letterbox\"\n",
    )
    .unwrap();
    let before = tree_hash(&root.join("data"));
    for spec in &specs {
        let o = run(&["check", "--dataset", spec, "--json", "--strict"]);
        assert!(
            o.status.success(),
            "{spec}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["images"], 10, "{spec}");
        assert!(
            v["problems"].as_array().unwrap().is_empty(),
            "{spec}: {}",
            v["problems"]
        );

        // inspect image 1 (192 x 160): the anchors cover that size, GT boxes are the file's
        let o = run(&["inspect", "--dataset", spec, "--image", "1", "--json"]);
        assert!(
            o.status.success(),
            "{spec}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(
            (v["image"]["width"].as_u64(), v["image"]["height"].as_u64()),
            (Some(192), Some(160)),
            "{spec}"
        );
        assert!(!v["gt"].as_array().unwrap().is_empty(), "{spec}");
        assert!(v["assign"]["num_pos"].as_u64().unwrap() > 0, "{spec}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("no problems"),
            "the report summary is on stderr: {err}"
        );

        let kind = spec.split(':').next().unwrap();
        let out = root.join(format!("run-{kind}"));
        let o = run(&[
            "train",
            "--dataset",
            spec,
            "--config",
            cfg.to_str().unwrap(),
            "--steps",
            "20",
            "--batch",
            "2",
            "--backend",
            "cpu",
            "--out",
            out.to_str().unwrap(),
        ]);
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "{spec}: {stdout}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(stdout.contains("held out"), "{stdout}");
        let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
        assert_eq!(csv.lines().count(), 21, "20 steps");
        let eval: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("eval.json")).unwrap()).unwrap();
        assert_eq!(eval["steps"], 20);
        // 10 images, every fifth in the validation split (VOC / YOLO) or a seeded 10% (COCO)
        let held = eval["held_out_images"].as_u64().unwrap();
        assert!(held == 2 || held == 1, "{spec}: {held}");
        assert!(eval["ap50"].as_f64().unwrap() >= 0.0);
        let cfg_out = std::fs::read_to_string(out.join("config.toml")).unwrap();
        assert!(
            cfg_out.contains("[data]") && cfg_out.contains("width = 128"),
            "{cfg_out}"
        );
        assert!(
            cfg_out.contains("num_classes = 3"),
            "classes come from the dataset: {cfg_out}"
        );
    }
    assert_eq!(
        tree_hash(&root.join("data")),
        before,
        "the datasets are untouched"
    );
    std::fs::remove_dir_all(&root).ok();
}
