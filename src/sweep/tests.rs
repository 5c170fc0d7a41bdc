//! Grid crossing and naming, plan errors, the presets, the results table.

use super::grid::{self, Axis};
use super::naming::{label, run_name};
use super::results::{ResultRow, to_csv, to_markdown};
use super::{Overrides, PRESETS, SweepPlan, preset};
use crate::losses::classification::{ClsLoss, prior_bias};
use crate::losses::regression::RegLoss;
use crate::sample::SamplerConfig;

const GRID_2X3: &str = r#"
steps = 7
batch = 2
[grid]
lr = [0.01, 0.02, 0.005]
cls_loss = [{ name = "ce" }, { name = "focal", gamma = 2.0, alpha = 0.25 }]
"#;

fn plan(text: &str) -> anyhow::Result<SweepPlan> {
    SweepPlan::parse(text, "g.toml", &Overrides::default())
}

fn err(text: &str) -> String {
    format!("{:#}", plan(text).unwrap_err())
}

#[test]
fn crossing_a_2x3_grid_gives_6_runs_in_key_order() {
    let p = plan(GRID_2X3).unwrap();
    // axes sorted by key: cls_loss (2 values) varies slowest, lr (3 values) fastest
    assert_eq!(p.columns, ["cls_loss", "lr"]);
    let names: Vec<&str> = p.runs.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "00-ce_lr0.01",
            "01-ce_lr0.02",
            "02-ce_lr0.005",
            "03-focal-alpha0.25-gamma2_lr0.01",
            "04-focal-alpha0.25-gamma2_lr0.02",
            "05-focal-alpha0.25-gamma2_lr0.005",
        ]
    );
    let lrs: Vec<f64> = p.runs.iter().map(|r| r.settings.train.lr).collect();
    assert_eq!(lrs, [0.01, 0.02, 0.005, 0.01, 0.02, 0.005]);
    assert_eq!(p.runs[0].settings.train.cls_loss, ClsLoss::Ce);
    assert_eq!(
        p.runs[5].settings.train.cls_loss,
        ClsLoss::Focal {
            alpha: 0.25,
            gamma: 2.0
        }
    );
    // the base reaches every run
    assert!(p.runs.iter().all(|r| r.settings.train.steps == 7));
    assert!(p.runs.iter().all(|r| r.settings.train.batch == 2));
    assert_eq!(p.runs[4].labels, ["focal alpha=0.25 gamma=2", "0.02"]);
    assert_eq!(p.dataset.to_string(), "synthetic:shapes@0");
    assert_eq!(p.eval_images, 200);
}

#[test]
fn cross_is_row_major_and_merge_replaces_tables_whole() {
    let axes = vec![
        Axis {
            key: "a".into(),
            values: vec![1.into(), 2.into()],
        },
        Axis {
            key: "m.b".into(),
            values: vec![true.into(), false.into()],
        },
    ];
    let pts = grid::cross(&axes);
    let flat: Vec<String> = pts
        .iter()
        .map(|p| {
            p.iter()
                .map(|(_, v)| label(v))
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    assert_eq!(flat, ["1,true", "1,false", "2,true", "2,false"]);
    let base: toml::Table = toml::from_str("a = 0\n[m]\nc = 3\n[l]\nname = \"x\"\np = 1").unwrap();
    let t = grid::merge(&base, &pts[1]).unwrap();
    assert_eq!(t["a"].as_integer(), Some(1));
    assert_eq!(t["m"]["b"].as_bool(), Some(false));
    assert_eq!(t["m"]["c"].as_integer(), Some(3), "sub-table entries kept");
    let l: toml::Value =
        toml::from_str::<toml::Table>("v = { name = \"y\" }").unwrap()["v"].clone();
    let t = grid::merge(&base, &vec![("l".into(), l)]).unwrap();
    assert!(
        t["l"].get("p").is_none(),
        "a table value replaces the old table"
    );
    let e = grid::merge(&base, &vec![("a.x".into(), 1.into())]).unwrap_err();
    assert!(e.contains("a.x") && e.contains("not a table"), "{e}");
    assert_eq!(
        grid::get_path(&base, "m.c").and_then(|v| v.as_integer()),
        Some(3)
    );
    assert!(grid::get_path(&base, "m.zz").is_none());
}

#[test]
fn names_are_numbered_padded_and_safe() {
    let pt = vec![
        ("model.balanced_fpn".to_string(), toml::Value::from(false)),
        ("lab.prior_prob".to_string(), toml::Value::from(0.5)),
        ("optimizer".to_string(), toml::Value::from("adam w/x")),
        ("reg_loss".to_string(), {
            let mut t = toml::Table::new();
            t.insert("name".into(), "smooth_l1".into());
            t.insert("beta".into(), (1.0f64 / 9.0).into());
            toml::Value::Table(t)
        }),
    ];
    assert_eq!(
        run_name(7, 120, &pt),
        "007-no-balanced_fpn_prior_prob0.5_adam-w-x_smooth_l1-beta0.1111"
    );
    assert_eq!(run_name(3, 5, &[]), "03");
    assert_eq!(label(&toml::Value::from(2.0)), "2");
    assert_eq!(label(&toml::Value::from(1e-5)), "0.00001");
}

#[test]
fn dotted_axes_and_several_grids() {
    let p = plan(
        r#"
cls_loss = { name = "focal", alpha = 0.25, gamma = 2.0 }
[[grid]]
cls_loss.gamma = [0.0, 2.0]
model.balanced_fpn = [false, true]
[[grid]]
cls_loss = [{ name = "ce" }]
lab.prior_prob = [0.5]
"#,
    )
    .unwrap();
    assert_eq!(p.runs.len(), 5);
    assert_eq!(
        p.columns,
        [
            "cls_loss.gamma",
            "model.balanced_fpn",
            "cls_loss",
            "lab.prior_prob"
        ]
    );
    let r = &p.runs[1];
    assert_eq!(r.name, "01-gamma0_balanced_fpn");
    assert!(r.settings.model.balanced_fpn);
    assert_eq!(
        r.settings.train.cls_loss,
        ClsLoss::Focal {
            alpha: 0.25,
            gamma: 0.0
        }
    );
    // a column the run does not vary shows its effective value, "-" where there is none
    assert_eq!(r.labels, ["0", "true", "focal alpha=0.25 gamma=0", "0.01"]);
    let ce = &p.runs[4];
    assert_eq!(ce.name, "04-ce_prior_prob0.5");
    assert_eq!(ce.labels, ["-", "false", "ce", "0.5"]);
    assert_eq!(ce.settings.train.lab.prior_prob, 0.5);
}

#[test]
fn bad_grids_name_the_file_and_key() {
    let e = err("steps = 3\n");
    assert!(e.starts_with("g.toml: no [grid]"), "{e}");
    let e = err("[grid]\nlr = 0.1\n");
    assert!(e.starts_with("g.toml: [grid] lr: must be an array"), "{e}");
    let e = err("[grid]\nlr = []\n");
    assert!(e.starts_with("g.toml: [grid] lr: no values"), "{e}");
    let e = err("[grid]\ncls_loss = [{ name = \"focal\", gama = 2.0 }]\n");
    assert!(
        e.starts_with("g.toml: [grid] cls_loss = focal gama=2:"),
        "{e}"
    );
    assert!(e.contains("gama"), "{e}");
    let e = err("[grid]\nlr = [0.01, -1.0]\n");
    assert!(e.starts_with("g.toml: [grid] lr = -1: lr must be"), "{e}");
    let e = err("[grid]\nlrr = [0.01]\n");
    assert!(
        e.starts_with("g.toml: [grid] lrr = 0.01:") && e.contains("lrr"),
        "{e}"
    );
    let e = err("[grid]\ndataset = [\"synthetic:tiny\"]\n");
    assert!(
        e.starts_with("g.toml: [grid] dataset: cannot be varied"),
        "{e}"
    );
    let e = err("stepz = 3\n[grid]\nlr = [0.01]\n");
    assert!(e.starts_with("g.toml: ") && e.contains("stepz"), "{e}");
    let e = err("dataset = \"nope:x\"\n[grid]\nlr = [0.01]\n");
    assert!(e.starts_with("g.toml: dataset:"), "{e}");
    let e = err("eval_images = 0\n[grid]\nlr = [0.01]\n");
    assert!(e.starts_with("g.toml: eval_images: must be"), "{e}");
    let e = err("[grid\n");
    assert!(e.starts_with("g.toml: line 1"), "{e}");
    let e = err("[model]\nfpn_channels = \"x\"\n[grid]\nlr = [0.01]\n");
    assert!(
        e.starts_with("g.toml: [model]:") && e.contains("fpn_channels"),
        "{e}"
    );
}

#[test]
fn overrides_set_the_base_and_the_grid_wins() {
    let ov = Overrides {
        steps: Some(3),
        batch: Some(1),
        seed: Some(9),
        dataset: Some("synthetic:tiny@4".into()),
        eval_images: Some(5),
    };
    let p = SweepPlan::parse("steps = 50\n[grid]\nbatch = [2, 4]\n", "g.toml", &ov).unwrap();
    assert_eq!(p.dataset.to_string(), "synthetic:tiny@4");
    assert_eq!(p.eval_images, 5);
    let r: Vec<(u64, usize, u64)> = p
        .runs
        .iter()
        .map(|r| {
            (
                r.settings.train.steps,
                r.settings.train.batch,
                r.settings.train.seed,
            )
        })
        .collect();
    assert_eq!(r, [(3, 2, 9), (3, 4, 9)]);
    // The folder's sweep.toml (the plan's text) reads back as the sweep that ran.
    assert!(p.text.contains("overrides steps = 3") && p.text.contains("# steps = 50"));
    let again = SweepPlan::parse(&p.text, "sweep.toml", &Overrides::default()).unwrap();
    assert_eq!(again.dataset.to_string(), "synthetic:tiny@4");
    assert_eq!(again.eval_images, 5);
    let steps: Vec<u64> = again.runs.iter().map(|r| r.settings.train.steps).collect();
    assert_eq!(steps, [3, 3]);
    let plain = SweepPlan::parse(
        "steps = 50\n[grid]\nbatch = [2]\n",
        "g.toml",
        &Overrides::default(),
    );
    assert_eq!(plain.unwrap().text, "steps = 50\n[grid]\nbatch = [2]\n");
}

#[test]
fn presets_parse_into_their_runs() {
    let count = |name: &str| {
        SweepPlan::parse(preset(name).unwrap(), name, &Overrides::default())
            .unwrap()
            .runs
    };
    assert_eq!(PRESETS.len(), 4);
    let focal = count("focal-ablation");
    assert_eq!(focal.len(), 17);
    let gammas: Vec<(f64, f64)> = focal[..15]
        .iter()
        .map(|r| match r.settings.train.cls_loss {
            ClsLoss::Focal { alpha, gamma } => (alpha, gamma),
            ref other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(gammas[0], (0.25, 0.0));
    assert_eq!(gammas[4], (0.25, 5.0));
    assert_eq!(gammas[14], (0.75, 5.0));
    // CE with the prior (bias -4.6) and without it: prior 0.5 is bias 0, the standard init
    let ce: Vec<f64> = focal[15..]
        .iter()
        .inspect(|r| assert_eq!(r.settings.train.cls_loss, ClsLoss::Ce))
        .map(|r| r.settings.train.lab.prior_prob)
        .collect();
    assert_eq!(ce, [0.01, 0.5]);
    assert_eq!(prior_bias(0.5), 0.0);
    assert!((prior_bias(0.01) + 4.59512).abs() < 1e-4);
    let samplers = count("sampler-ablation");
    let kinds: Vec<&str> = samplers
        .iter()
        .map(|r| r.settings.train.sampler.name())
        .collect();
    assert_eq!(
        kinds,
        [
            "None",
            "Random",
            "Hard negative mining",
            "OHEM",
            "IoU-balanced",
            "PISA"
        ]
    );
    assert!(matches!(
        samplers[0].settings.train.cls_loss,
        ClsLoss::Focal { .. }
    ));
    assert!(
        samplers[1..]
            .iter()
            .all(|r| r.settings.train.cls_loss == ClsLoss::Ce)
    );
    match &samplers[1].settings.train.sampler {
        SamplerConfig::Random(s) => {
            assert_eq!((s.num, s.pos_fraction, s.neg_pos_ub), (256, 0.25, 3.0))
        }
        other => panic!("{other:?}"),
    }
    let reg = count("regression-ablation");
    let names: Vec<&str> = reg
        .iter()
        .map(|r| r.settings.train.reg_loss.name())
        .collect();
    assert_eq!(
        names,
        ["smooth_l1", "l1", "balanced_l1", "giou", "diou", "ciou"]
    );
    assert_eq!(
        reg[0].settings.train.reg_loss,
        RegLoss::SmoothL1 { beta: 1.0 / 9.0 }
    );
    let hard = count("hard-positives");
    let hp: Vec<(bool, f32)> = hard
        .iter()
        .map(|r| {
            let h = &r.settings.train.hard_positives;
            (h.occlude, h.rotate_deg)
        })
        .collect();
    assert_eq!(hp, [(false, 0.0), (false, 10.0), (true, 0.0), (true, 10.0)]);
    assert!(hard.iter().all(
        |r| matches!(r.settings.train.cls_loss, ClsLoss::Focal { .. })
            && r.settings.train.steps == 600
            && r.settings.train.batch == 8
    ));
    assert!(preset("nope").is_none());
}

fn row(run: &str, setting: &str, ap: f64) -> ResultRow {
    ResultRow {
        run: run.into(),
        settings: vec![setting.into()],
        stats: [ap, 0.5, 0.25, -1.0, 0.125, 0.0625, 0.75],
        loss_cls: 0.03125,
        loss_reg: 0.2,
        share_pos: 0.9,
        steps: 20,
        seconds: 12.345,
    }
}

#[test]
fn results_table_formats_hand_made_values() {
    let cols = vec!["cls_loss".to_string()];
    let rows = [row("00-ce", "ce", 0.1), row("01-x", "a, \"b\"", 0.4567)];
    let csv = to_csv(&cols, &rows);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "run,cls_loss,ap,ap50,ap75,aps,apm,apl,ar100,loss_cls,loss_reg,share_pos,steps,seconds"
    );
    assert_eq!(
        lines[1],
        "00-ce,ce,0.1,0.5,0.25,-1,0.125,0.0625,0.75,0.03125,0.2,0.9,20,12.345"
    );
    assert_eq!(
        lines[2],
        "01-x,\"a, \"\"b\"\"\",0.4567,0.5,0.25,-1,0.125,0.0625,0.75,0.03125,0.2,0.9,20,12.345"
    );
    assert_eq!(lines.len(), 3);
    let md = to_markdown(&cols, &rows[..1]);
    let lines: Vec<&str> = md.lines().collect();
    assert_eq!(
        lines[0],
        "| run | cls_loss | ap | ap50 | ap75 | aps | apm | apl | ar100 | loss_cls | loss_reg | share_pos | steps | seconds |"
    );
    assert_eq!(
        lines[1],
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    assert_eq!(
        lines[2],
        "| 00-ce | ce | 0.100 | 0.500 | 0.250 | - | 0.125 | 0.062 | 0.750 | 0.0312 | 0.2000 | 0.9000 | 20 | 12.3 |"
    );
    let nan = ResultRow {
        loss_cls: f64::NAN,
        ..row("02-y", "a|b", 0.0)
    };
    let md = to_markdown(&cols, &[nan]);
    assert!(
        md.contains("| 02-y | a\\|b | 0.000 |") && md.contains("| - | 0.2000 |"),
        "{md}"
    );
}

#[test]
fn a_row_is_read_from_a_run_folder() {
    let dir = std::env::temp_dir().join(format!("anchorscope-sweep-row-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let stats: Vec<f64> = (0..12).map(|i| i as f64 / 16.0).collect();
    let eval = serde_json::json!({
        "dataset": "synthetic:shapes@0", "eval_images": 4, "steps": 2,
        "train_seconds": 1.5, "stats": stats,
    });
    std::fs::write(dir.join("eval.json"), eval.to_string()).unwrap();
    std::fs::write(
        dir.join("metrics.csv"),
        format!(
            "{}\n0,1,0.5,0.25,3,9,0.75,1,0.01,5\n1,2,0.625,0.125,3,9,0.5,1,0.01,5\n",
            crate::train::metrics::CSV_HEADER
        ),
    )
    .unwrap();
    let r = ResultRow::read(&dir, "00-x", vec!["v".into()]).unwrap();
    assert_eq!(
        r.stats,
        [
            0.0,
            1.0 / 16.0,
            2.0 / 16.0,
            3.0 / 16.0,
            4.0 / 16.0,
            5.0 / 16.0,
            0.5
        ]
    );
    assert_eq!((r.loss_cls, r.loss_reg, r.share_pos), (0.625, 0.125, 0.5));
    assert_eq!((r.steps, r.seconds), (2, 1.5));
    std::fs::write(dir.join("eval.json"), "{\"stats\": [1]}").unwrap();
    let e = format!("{:#}", ResultRow::read(&dir, "00-x", vec![]).unwrap_err());
    assert!(
        e.contains("eval.json") && e.contains("'stats' has 1 values"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn hard_positive_settings_are_grid_axes() {
    let p = plan(
        "[grid]\nhard_positives.occlude = [false, true]\nhard_positives.rotate_deg = [0.0, 10.0]\n",
    )
    .unwrap();
    assert_eq!(
        p.columns,
        ["hard_positives.occlude", "hard_positives.rotate_deg"]
    );
    let got: Vec<(bool, f32)> = p
        .runs
        .iter()
        .map(|r| {
            let h = &r.settings.train.hard_positives;
            (h.occlude, h.rotate_deg)
        })
        .collect();
    assert_eq!(
        got,
        [(false, 0.0), (false, 10.0), (true, 0.0), (true, 10.0)]
    );
    assert_eq!(p.runs[3].name, "03-occlude_rotate_deg10");
    assert!(
        p.runs
            .iter()
            .all(|r| r.settings.train.hard_positives.patch == 1.0 / 3.0)
    );
    let e = err("[grid]\nhard_positives.patch = [0.5, 2.0]\n");
    assert!(
        e.starts_with("g.toml: [grid] hard_positives.patch = 2: hard_positives.patch must be"),
        "{e}"
    );
}
