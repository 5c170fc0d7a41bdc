//! `inspect --checkpoint`: a trained model behind the samplers. After a short CPU run the
//! negatives that hard-negative mining and OHEM pick are the ones the model finds confusing
//! (high scores), not the first anchors of the image; a checkpoint that does not fit the
//! anchor settings is refused in one line.

use serde_json::Value;
use std::process::Command;

fn anchorscope(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_anchorscope"))
        .args(args)
        .output()
        .expect("spawn")
}

fn inspect_json(extra: &[&str]) -> Value {
    let mut args = vec![
        "inspect",
        "--dataset",
        "synthetic:shapes@0",
        "--image",
        "5",
        "--json",
    ];
    args.extend_from_slice(extra);
    let o = anchorscope(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

/// The negatives in anchor order, and the first `k` of them.
fn negatives(doc: &Value) -> Vec<usize> {
    let labels = doc["assign"]["labels"].as_array().unwrap();
    (0..labels.len())
        .filter(|&i| labels[i].as_i64() == Some(0))
        .collect()
}

#[test]
fn hard_samplers_pick_what_the_trained_model_finds_hard() {
    let dir =
        std::env::temp_dir().join(format!("anchorscope-inspect-model-{}", std::process::id()));
    let out = dir.join("run");
    // 300 CPU steps, seed 3 (batch 4 keeps the test near half a minute on 2 cores)
    let o = anchorscope(&[
        "train",
        "--dataset",
        "synthetic:shapes@0",
        "--steps",
        "300",
        "--batch",
        "4",
        "--seed",
        "3",
        "--backend",
        "cpu",
        "--eval-images",
        "4",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ckpt = out.join("checkpoint.safetensors");
    let doc = inspect_json(&["--checkpoint", ckpt.to_str().unwrap()]);
    assert_eq!(doc["model"]["source"], "checkpoint");
    assert_eq!(doc["model"]["step"], 300);
    let scores: Vec<f64> = (doc["scores"].as_array().unwrap().iter())
        .map(|v| v.as_f64().unwrap())
        .collect();
    let negs = negatives(&doc);
    assert_eq!(
        scores.len(),
        doc["assign"]["labels"].as_array().unwrap().len()
    );
    let mean = |ix: &[usize]| ix.iter().map(|&i| scores[i]).sum::<f64>() / ix.len() as f64;
    let all = mean(&negs);
    for name in ["hard_negative", "ohem"] {
        let picked = usizes(&doc["samplers"][name]["neg"]);
        assert!(!picked.is_empty(), "{name} picked no negative");
        let m = mean(&picked);
        assert!(
            m >= 2.0 * all,
            "{name}: mean score of the picked negatives {m:.4}, of all negatives {all:.4}"
        );
        assert_ne!(
            picked,
            negs[..picked.len()],
            "{name}: the lowest-index negatives"
        );
    }

    // the prior: every negative ties, and the tie is broken by the seed, not by index
    let prior = inspect_json(&[]);
    assert_eq!(prior["model"]["source"], "prior");
    assert!(prior.get("scores").is_none());
    let negs = negatives(&prior);
    for name in ["hard_negative", "ohem"] {
        let picked = usizes(&prior["samplers"][name]["neg"]);
        assert_ne!(
            picked,
            negs[..picked.len()],
            "prior, {name}: lowest-index negatives"
        );
    }

    // anchors that do not fit the checkpoint's model: one line naming the mismatch, status 2
    let cfg = dir.join("ratios.toml");
    std::fs::write(&cfg, "[anchors]\nratios = [1.0]\n").unwrap();
    let o = anchorscope(&[
        "inspect",
        "--dataset",
        "synthetic:shapes@0",
        "--config",
        cfg.to_str().unwrap(),
        "--checkpoint",
        ckpt.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("checkpoint.safetensors") && err.contains("9 anchors per location"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
