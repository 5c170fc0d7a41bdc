//! `anchorscope sweep`: a tiny grid's files, refusing to overwrite, `--resume` redoing only
//! the run whose eval.json is gone, the same numbers from a second sweep with the same seed,
//! bad grids, presets.

mod support;
use support::{run, tmp, write};

const GRID: &str = r#"
# two runs, a few steps, a small evaluation
dataset = "synthetic:shapes@0"
eval_images = 4
steps = 3
batch = 2
seed = 1

[grid]
cls_loss = [{ name = "ce" }, { name = "focal", alpha = 0.25, gamma = 2.0 }]
"#;

const RUNS: [&str; 2] = ["00-ce", "01-focal-alpha0.25-gamma2"];

fn sweep(args: &[&str]) -> std::process::Output {
    let mut a = vec!["sweep", "--backend", "cpu"];
    a.extend_from_slice(args);
    run(&a)
}

fn ok(o: &std::process::Output) -> String {
    assert!(
        o.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// results.csv without its last column (`seconds`, a wall time).
fn numbers(csv: &str) -> Vec<String> {
    csv.lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string())
        .collect()
}

#[test]
fn tiny_grid_runs_resumes_and_repeats() {
    let dir = tmp("sweep");
    let grid = dir.join("grid.toml");
    write(&grid, GRID);
    let out = dir.join("a");
    let (g, o) = (grid.to_str().unwrap(), out.to_str().unwrap());
    let stdout = ok(&sweep(&["--grid", g, "--out", o]));
    assert!(stdout.contains("2 of 2 runs finished"), "{stdout}");
    for r in RUNS {
        let d = out.join(r);
        for f in [
            "config.toml",
            "metrics.csv",
            "checkpoint.safetensors",
            "eval.json",
        ] {
            assert!(d.join(f).is_file(), "{r}/{f} missing");
        }
        assert_eq!(
            std::fs::read_to_string(d.join("metrics.csv"))
                .unwrap()
                .lines()
                .count(),
            4
        );
        let ev: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("eval.json")).unwrap()).unwrap();
        assert_eq!(ev["steps"], 3);
        assert_eq!(ev["held_out_images"], 4);
    }
    let cfg = std::fs::read_to_string(out.join(RUNS[0]).join("config.toml")).unwrap();
    assert!(
        cfg.contains("name = \"ce\"") && cfg.contains("steps = 3"),
        "{cfg}"
    );
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "run,cls_loss,ap,ap50,ap75,aps,apm,apl,ar100,loss_cls,loss_reg,share_pos,steps,seconds"
    );
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[1].starts_with("00-ce,ce,"), "{csv}");
    assert!(
        lines[2].starts_with("01-focal-alpha0.25-gamma2,focal alpha=0.25 gamma=2,"),
        "{csv}"
    );
    for l in &lines[1..] {
        let cells: Vec<&str> = l.split(',').collect();
        assert_eq!(cells.len(), 14, "{l}");
        let ap: f64 = cells[2].parse().unwrap();
        assert!((0.0..=1.0).contains(&ap), "{l}");
        let loss_cls: f64 = cells[9].parse().unwrap();
        assert!(loss_cls.is_finite() && loss_cls > 0.0, "{l}");
        assert_eq!(cells[12], "3");
    }
    // the two losses give different training, so different final losses
    assert_ne!(lines[1].split(',').nth(9), lines[2].split(',').nth(9));
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(
        md.contains("| run | cls_loss | ap |") && md.contains("| 00-ce | ce |"),
        "{md}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("sweep.toml")).unwrap(),
        GRID
    );

    // the same folder again without --resume: refused, nothing touched
    let before = std::fs::metadata(out.join(RUNS[0]).join("checkpoint.safetensors"))
        .unwrap()
        .modified()
        .unwrap();
    let o2 = sweep(&["--grid", g, "--out", o]);
    assert_eq!(o2.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o2.stderr);
    assert!(
        err.contains("--resume") && err.lines().count() == 1,
        "{err}"
    );

    // --resume redoes only the run whose eval.json is gone
    std::fs::remove_file(out.join(RUNS[1]).join("eval.json")).unwrap();
    let stdout = ok(&sweep(&["--grid", g, "--out", o, "--resume"]));
    assert!(
        stdout.contains("1 to train (3 steps), 1 already complete"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{}: complete, kept", RUNS[0])),
        "{stdout}"
    );
    let after = std::fs::metadata(out.join(RUNS[0]).join("checkpoint.safetensors"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after, "the complete run was trained again");
    assert!(out.join(RUNS[1]).join("eval.json").is_file());
    let csv2 = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert_eq!(
        numbers(&csv2),
        numbers(&csv),
        "retrained run changed its numbers"
    );

    // a changed setting is not complete: --resume with --steps 4 trains both again
    let stdout = ok(&sweep(&[
        "--grid", g, "--out", o, "--resume", "--steps", "4",
    ]));
    assert!(
        stdout.contains("2 to train (8 steps), 0 already complete"),
        "{stdout}"
    );

    // a second sweep with the same seed: the same numbers
    let out_b = dir.join("b");
    ok(&sweep(&["--grid", g, "--out", out_b.to_str().unwrap()]));
    let csv_b = std::fs::read_to_string(out_b.join("results.csv")).unwrap();
    assert_eq!(numbers(&csv_b), numbers(&csv));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_grids_are_one_line_errors_naming_file_and_key() {
    let dir = tmp("sweep-bad");
    let cases = [
        (
            "[grid]\ncls_loss = [{ name = \"focal\", gama = 2.0 }]\n",
            "[grid] cls_loss",
        ),
        ("[grid]\nlr = 0.1\n", "[grid] lr: must be an array"),
        ("steps = 2\n", "no [grid]"),
        (
            "[grid]\nsampler = [{ kind = \"nope\" }]\n",
            "[grid] sampler",
        ),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let grid = dir.join(format!("g{i}.toml"));
        write(&grid, text);
        let out = dir.join(format!("out{i}"));
        let o = sweep(&[
            "--grid",
            grid.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{text}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(grid.to_str().unwrap()) && err.contains(want),
            "{text}: {err}"
        );
        assert!(!out.exists(), "an output folder was created for a bad grid");
        assert_eq!(std::fs::read_to_string(&grid).unwrap(), *text);
    }
    let o = sweep(&[
        "--grid",
        dir.join("missing.toml").to_str().unwrap(),
        "--out",
        "x",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing.toml: cannot read"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn presets_are_listed_and_plan_their_runs() {
    let help = ok(&run(&["sweep", "--help"]));
    for p in [
        "focal-ablation",
        "sampler-ablation",
        "regression-ablation",
        "hard-positives",
    ] {
        assert!(help.contains(p), "{help}");
    }
    let o = ok(&run(&[
        "sweep",
        "--preset",
        "focal-ablation",
        "--out",
        "unused",
        "--dry-run",
        "--steps",
        "5",
    ]));
    assert!(o.starts_with("17 runs on synthetic:shapes@0"), "{o}");
    assert!(o.contains("16-ce_prior_prob0.5"), "{o}");
    assert!(o.contains("lab.prior_prob = 0.5; 5 steps"), "{o}");
    assert!(!std::path::Path::new("unused").exists());
    let o = run(&["sweep", "--preset", "nope", "--out", "x"]);
    assert_eq!(o.status.code(), Some(2));
}
