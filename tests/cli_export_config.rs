//! `anchorscope export-config`: the MMDetection 3 config loads with mmengine's `Config` (when
//! importable; required with ANCHORSCOPE_REQUIRE_MMENGINE=1) and names only MMDetection 3 /
//! MMEngine classes; the Detectron2 keys; bad input.

mod support;
use std::process::Command;
use support::{run, tmp, write};

/// Every `type=` an export may name: MMDetection 3's registered classes (models, task
/// modules, losses) and MMEngine's (optimizer wrapper, optimizers, schedulers, loops).
const KNOWN_TYPES: &[&str] = &[
    "RetinaNet",
    "RetinaHead",
    "PISARetinaHead",
    "GFLHead",
    "VFNetHead",
    "FPN",
    "BFP",
    "AnchorGenerator",
    "DeltaXYWHBBoxCoder",
    "MaxIoUAssigner",
    "ATSSAssigner",
    "PseudoSampler",
    "RandomSampler",
    "OHEMSampler",
    "IoUBalancedNegSampler",
    "InstanceBalancedPosSampler",
    "CombinedSampler",
    "ScoreHLRSampler",
    "FocalLoss",
    "CrossEntropyLoss",
    "GHMC",
    "QualityFocalLoss",
    "VarifocalLoss",
    "SmoothL1Loss",
    "L1Loss",
    "MSELoss",
    "BalancedL1Loss",
    "IoULoss",
    "BoundedIoULoss",
    "GIoULoss",
    "DIoULoss",
    "CIoULoss",
    "Normal",
    "nms",
    "OptimWrapper",
    "SGD",
    "AdamW",
    "LinearLR",
    "CosineAnnealingLR",
    "MultiStepLR",
    "IterBasedTrainLoop",
];

/// The names after a `type='` key in a config text (not `refine_type='`).
fn types(text: &str) -> Vec<String> {
    text.match_indices("type='")
        .filter(|(i, _)| {
            !text[..*i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
        .map(|(i, m)| text[i + m.len()..].split('\'').next().unwrap().to_string())
        .collect()
}

/// `Some(Ok(printed))` when mmengine loaded the file, `Some(Err(stderr))` when it failed,
/// `None` (skip, with a printed reason) when mmengine is not importable.
fn mmengine_loads(path: &std::path::Path) -> Option<Result<String, String>> {
    let probe = Command::new("python3")
        .args(["-c", "import mmengine"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        if std::env::var("ANCHORSCOPE_REQUIRE_MMENGINE").as_deref() == Ok("1") {
            panic!("mmengine is not importable and ANCHORSCOPE_REQUIRE_MMENGINE=1");
        }
        eprintln!("skipping the mmengine check: python3 cannot import mmengine");
        return None;
    }
    let script = "import sys\nfrom mmengine import Config\nc = Config.fromfile(sys.argv[1])\n\
                  print(c.model.bbox_head.loss_cls.type, c.model.train_cfg.sampler.type, \
                  c.model.train_cfg.assigner.type, c.model.bbox_head.loss_bbox.type)";
    let o = Command::new("python3")
        .args(["-c", script, path.to_str().unwrap()])
        .output()
        .unwrap();
    Some(if o.status.success() {
        Ok(String::from_utf8_lossy(&o.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&o.stderr).into_owned())
    })
}

#[test]
fn mmdet_configs_load_and_name_known_classes() {
    let dir = tmp("export-config");
    let settings = [
        ("default.toml", String::new()),
        (
            "ce_random_giou.toml",
            "cls_loss = { name = \"ce\" }\nreg_loss = { name = \"giou\" }\n\
             sampler = { kind = \"random\", num = 256, pos_fraction = 0.25 }\n"
                .to_string(),
        ),
        (
            "ghm_libra.toml",
            "cls_loss = { name = \"ghm_c\" }\nreg_loss = { name = \"balanced_l1\" }\n\
             sampler = { kind = \"iou_balanced\", instance_balanced_pos = true }\n\
             [lab.assigner]\nkind = \"atss\"\n[model]\nbalanced_fpn = true\n"
                .to_string(),
        ),
        (
            "pisa_adamw.toml",
            "optimizer = \"adamw\"\nsampler = { kind = \"pisa\", dense = true }\n\
             reg_loss = { name = \"ciou\" }\n[schedule]\nkind = \"step\"\nmilestones = [10, 20]\n"
                .to_string(),
        ),
        (
            "ohem_vfl.toml",
            "cls_loss = { name = \"varifocal\" }\nreg_loss = { name = \"diou\" }\n\
             sampler = { kind = \"ohem\" }\n"
                .to_string(),
        ),
    ];
    for (name, text) in &settings {
        let cfg = dir.join(name);
        write(&cfg, text);
        let out = dir.join(format!("{name}.py"));
        let o = run(&[
            "export-config",
            "--config",
            cfg.to_str().unwrap(),
            "--format",
            "mmdet",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(
            o.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let py = std::fs::read_to_string(&out).unwrap();
        let named = types(&py);
        assert!(named.len() >= 8, "{name}: {named:?}");
        for t in &named {
            assert!(
                KNOWN_TYPES.contains(&t.as_str()),
                "{name}: unknown type {t}\n{py}"
            );
        }
        if let Some(r) = mmengine_loads(&out) {
            let printed =
                r.unwrap_or_else(|e| panic!("{name}: mmengine cannot load it: {e}\n{py}"));
            // the loaded config holds the loss, sampler and assigner that were written
            let flat: String = py.chars().filter(|c| !c.is_whitespace()).collect();
            let first = |k: &str| {
                flat.split(&format!("{k}=dict(type='"))
                    .nth(1)
                    .map(|r| r.split('\'').next().unwrap().to_string())
            };
            for k in ["loss_cls", "sampler", "assigner", "loss_bbox"] {
                let want = first(k).unwrap();
                assert!(
                    printed.split_whitespace().any(|w| w == want),
                    "{name}: {k} {want} not in {printed}"
                );
            }
        }
        // never over an existing file
        let o = run(&[
            "export-config",
            "--config",
            cfg.to_str().unwrap(),
            "--format",
            "mmdet",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2));
        assert_eq!(std::fs::read_to_string(&out).unwrap(), py);
    }
    let py = std::fs::read_to_string(dir.join("ghm_libra.toml.py")).unwrap();
    for want in [
        "type='GHMC'",
        "type='ATSSAssigner'",
        "type='BalancedL1Loss'",
        "type='BFP'",
    ] {
        assert!(py.contains(want), "{want}\n{py}");
    }
    let py = std::fs::read_to_string(dir.join("ohem_vfl.toml.py")).unwrap();
    assert!(
        py.contains("type='OHEMSampler'") && py.contains("#   - sampler: OHEMSampler"),
        "{py}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn detectron2_and_bad_input() {
    let dir = tmp("export-config-d2");
    let cfg = dir.join("c.toml");
    write(
        &cfg,
        "cls_loss = { name = \"focal\", gamma = 1.5, alpha = 0.5 }\n",
    );
    let o = run(&[
        "export-config",
        "--config",
        cfg.to_str().unwrap(),
        "--format",
        "detectron2",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let y = String::from_utf8_lossy(&o.stdout);
    assert!(
        y.contains("    FOCAL_LOSS_GAMMA: 1.5\n    FOCAL_LOSS_ALPHA: 0.5\n"),
        "{y}"
    );
    let o = run(&[
        "export-config",
        "--config",
        cfg.to_str().unwrap(),
        "--format",
        "keras",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--format keras"));
    write(&cfg, "cls_loss = { name = \"focal\", gama = 1.5 }\n");
    let o = run(&[
        "export-config",
        "--config",
        cfg.to_str().unwrap(),
        "--format",
        "mmdet",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("c.toml") && e.contains("gama") && e.lines().count() == 1,
        "{e}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
