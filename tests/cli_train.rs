//! `anchorscope train`: the files of a short run, resuming, and a diverging run.

#[cfg(feature = "gpu")]
use anchorscope::backend::gpu::skip_without_gpu;
use std::process::Command;

fn train(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_anchorscope"))
        .arg("train")
        .args(args)
        .output()
        .expect("spawn")
}

#[test]
fn short_run_writes_its_files_and_resumes() {
    let dir = std::env::temp_dir().join(format!("anchorscope-train-{}", std::process::id()));
    let out = dir.join("run");
    let o = train(&[
        "--steps",
        "3",
        "--batch",
        "2",
        "--eval-images",
        "4",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[0].starts_with("step,loss_total,loss_cls,loss_reg"));
    // the tiny RetinaNet's P3-P5, three columns each after the ten of every version
    assert!(
        lines[0].ends_with(",pos_P3,cls_P3,reg_P3,pos_P4,cls_P4,reg_P4,pos_P5,cls_P5,reg_P5"),
        "{}",
        lines[0]
    );
    for l in &lines[1..] {
        assert_eq!(l.split(',').count(), 19, "{l}");
        // the host objective (always on step 0; on every step of the CPU backend) measures
        // every level, and the levels add up to cls and reg (fused GPU steps leave them empty)
        if l.contains(",,") && !l.starts_with("0,") {
            continue;
        }
        let c: Vec<f64> = l.split(',').map(|v| v.parse().unwrap()).collect();
        let (cls, reg): (f64, f64) = (0..3)
            .map(|k| (c[11 + 3 * k], c[12 + 3 * k]))
            .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
        assert!((cls - c[2]).abs() <= 1e-9 * c[2].abs().max(1.0), "{l}");
        assert!((reg - c[3]).abs() <= 1e-9 * c[3].abs().max(1.0), "{l}");
        let loss: f64 = l.split(',').nth(1).unwrap().parse().unwrap();
        assert!(loss.is_finite() && loss > 0.0);
    }
    let cfg = std::fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(
        cfg.contains("[model]") && cfg.contains("steps = 3"),
        "{cfg}"
    );
    let eval: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("eval.json")).unwrap()).unwrap();
    assert_eq!(eval["steps"], 3);
    assert!(eval["ap50"].as_f64().unwrap() >= 0.0);
    let ckpt = out.join("checkpoint.safetensors");
    assert!(std::fs::metadata(&ckpt).unwrap().len() > 560_543 * 4);
    // resume: continues from step 3 to 5
    let out2 = dir.join("resumed");
    let o = train(&[
        "--steps",
        "5",
        "--batch",
        "2",
        "--eval-images",
        "4",
        "--out",
        out2.to_str().unwrap(),
        "--resume",
        ckpt.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(out2.join("metrics.csv")).unwrap();
    let steps: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(steps, ["3", "4"]);
    // f32 settings in their shortest form (0.4, not 0.4000000059604645)
    let cfg = std::fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(cfg.contains("neg_iou_thr = 0.4\n"), "{cfg}");
    assert!(!cfg.contains("0.4000000059604645"), "{cfg}");

    // resume in the same folder: metrics.csv keeps steps 0-2 and gains 3-5
    let resume_here = |steps: &str, extra: &[&str]| {
        let mut a = vec![
            "--steps",
            steps,
            "--batch",
            "2",
            "--eval-images",
            "4",
            "--out",
            out.to_str().unwrap(),
            "--resume",
            ckpt.to_str().unwrap(),
        ];
        a.extend_from_slice(extra);
        train(&a)
    };
    let o = resume_here("6", &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    let steps: Vec<&str> = csv.lines().map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(steps, ["step", "0", "1", "2", "3", "4", "5"], "{csv}");
    // --steps counts the total: not above the checkpoint's step 6, nothing to train
    let o = resume_here("4", &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("at step 6") && err.contains("--steps 4"),
        "{err}"
    );
    // a config with the balanced pyramid does not fit the plain checkpoint: one line
    let bfp = dir.join("bfp.toml");
    std::fs::write(&bfp, "[model]\nbalanced_fpn = true\n").unwrap();
    let o = resume_here("8", &["--config", bfp.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("checkpoint.safetensors") && err.contains("balanced feature pyramid"),
        "{err}"
    );
    let csv2 = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert_eq!(csv2, csv, "a refused resume leaves metrics.csv alone");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn diverging_run_names_the_component_and_exits_2() {
    let dir = std::env::temp_dir().join(format!("anchorscope-diverge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("hot.toml");
    std::fs::write(&cfg, "lr = 1e12\nwarmup_steps = 0\ngrad_clip = 0.0\n").unwrap();
    let out = dir.join("run");
    let o = train(&[
        "--steps",
        "30",
        "--batch",
        "2",
        "--eval-images",
        "2",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("diverged at step") && err.contains("is not finite"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// `train --steps 1 --config CFG --out OUT`, which must exit 2; its stderr.
fn one_step_fails(cfg: &std::path::Path, out: &std::path::Path) -> String {
    let o = train(&[
        "--steps",
        "1",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn bad_config_is_one_line() {
    let dir = std::env::temp_dir().join(format!("anchorscope-badtrain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("typo.toml");
    std::fs::write(&cfg, "learning_rate = 0.1\n").unwrap();
    let err = one_step_fails(&cfg, &dir.join("r"));
    assert!(
        err.contains("typo.toml") && err.contains("learning_rate"),
        "{err}"
    );
    let o = train(&[
        "--steps",
        "1",
        "--backend",
        "tpu",
        "--out",
        dir.join("r").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).ok();
}

#[cfg(feature = "gpu")]
#[test]
fn gpu_backend_trains_and_says_so() {
    let dir = std::env::temp_dir().join(format!("anchorscope-gputrain-{}", std::process::id()));
    let o = train(&[
        "--backend",
        "gpu",
        "--dataset",
        "synthetic:tiny",
        "--steps",
        "3",
        "--batch",
        "2",
        "--eval-images",
        "2",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    if !o.status.success() {
        // fails here under ANCHORSCOPE_REQUIRE_GPU=1, else prints the skip
        skip_without_gpu(format!("no GPU adapter: {stderr}"));
        return;
    }
    assert!(o.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("backend gpu: "), "{stdout}");
    let csv = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    let rows: Vec<f64> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(rows.len(), 3, "{csv}");
    assert!(rows.iter().all(|l| l.is_finite() && *l > 0.0), "{csv}");
    // per level: step 0 takes the host objective (every cell filled), steps 1 and 2 the fused
    // loss kernels (positives filled, the level losses empty); the levels' positives add up
    for (step, line) in csv.lines().skip(1).enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), 19, "{line}");
        let pos: usize = (0..3)
            .map(|k| cells[10 + 3 * k].parse::<usize>().unwrap())
            .sum();
        assert_eq!(pos, cells[4].parse::<usize>().unwrap(), "{line}");
        for k in 0..3 {
            let (cls, reg) = (cells[11 + 3 * k], cells[12 + 3 * k]);
            if step == 0 {
                assert!(
                    cls.parse::<f64>().is_ok() && reg.parse::<f64>().is_ok(),
                    "{line}"
                );
            } else {
                assert_eq!((cls, reg), ("", ""), "fused step {step}: {line}");
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn hard_positives_come_from_the_config_file() {
    let dir = std::env::temp_dir().join(format!("anchorscope-hardpos-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("hard.toml");
    std::fs::write(
        &cfg,
        "[hard_positives]\nocclude = true\npatch = 0.25\nrotate_deg = 10.0\n",
    )
    .unwrap();
    let run = |name: &str, config: Option<&std::path::Path>| {
        let out = dir.join(name);
        let mut args = vec![
            "--dataset",
            "synthetic:tiny",
            "--steps",
            "2",
            "--batch",
            "2",
            "--eval-images",
            "2",
            "--backend",
            "cpu",
            "--out",
            out.to_str().unwrap(),
        ];
        if let Some(c) = config {
            args.extend(["--config", c.to_str().unwrap()]);
        }
        let o = train(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let csv = std::fs::read_to_string(out.join("metrics.csv")).unwrap();
        let first: String = csv.lines().nth(1).unwrap().split(',').take(3).collect();
        (
            std::fs::read_to_string(out.join("config.toml")).unwrap(),
            first,
        )
    };
    let (written, on) = run("on", Some(&cfg));
    assert!(
        written.contains("[hard_positives]")
            && written.contains("occlude = true")
            && written.contains("patch = 0.25")
            && written.contains("rotate_deg = 10"),
        "{written}"
    );
    let (written, off) = run("off", None);
    assert!(written.contains("occlude = false"), "{written}");
    assert_ne!(on, off, "the first step's losses differ");
    std::fs::write(&cfg, "[hard_positives]\npatch = 0.0\n").unwrap();
    let err = one_step_fails(&cfg, &dir.join("bad"));
    assert!(
        err.contains("hard.toml") && err.contains("hard_positives.patch must be in (0, 1]"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
