use super::*;
use crate::train::checkpoint::Checkpoint;

fn small_model() -> ModelConfig {
    ModelConfig {
        backbone_channels: vec![4, 8, 8, 8, 8],
        fpn_channels: 8,
        head_convs: 1,
        ..ModelConfig::default()
    }
}

fn checkpoint_of(model: &Model, model_toml: String) -> Checkpoint {
    Checkpoint {
        params: crate::train::checkpoint::named_params(model),
        step: 42,
        config_toml: TrainConfig::default().to_toml().unwrap(),
        model_toml,
        ..Checkpoint::default()
    }
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("anchorscope-snap-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join("c.safetensors")
}

#[test]
fn a_checkpoint_scores_like_the_model_it_came_from() {
    let mc = small_model();
    let mut model = Model::new(&mc, 7).unwrap();
    let path = tmp("same");
    checkpoint_of(&model, toml::to_string(&mc).unwrap())
        .save(&path)
        .unwrap();
    let snap = ModelSnapshot::from_checkpoint(&path).unwrap();
    assert_eq!((snap.step, snap.source.key()), (42, "checkpoint"));
    let img =
        image::RgbImage::from_fn(64, 64, |x, y| image::Rgb([(x * 4) as u8, (y * 4) as u8, 9]));
    let out = snap.outputs(&img).unwrap();
    let (logits, deltas) = flatten_outputs(&model.forward(&images_to_tensor(&[&img])));
    assert_eq!(out.logits, logits);
    assert_eq!(out.deltas, deltas);
    // 64 x 64: (8x8 + 4x4 + 2x2) locations x 9 anchors x 3 classes
    assert_eq!(out.logits.len(), 84 * 9 * 3);
    // the caption names the checkpoint with its folder (every sweep run's file has one name)
    let dir = path
        .parent()
        .and_then(|d| d.file_name())
        .unwrap()
        .to_string_lossy();
    let want = format!("checkpoint {dir}/c.safetensors, step 42");
    assert!(
        out.caption().contains(&want),
        "{} lacks {want}",
        out.caption()
    );
}

#[test]
fn a_checkpoint_that_does_not_fit_is_refused_naming_the_mismatch() {
    let mc = small_model();
    let model = Model::new(&mc, 1).unwrap();
    let path = tmp("fit");
    checkpoint_of(&model, toml::to_string(&mc).unwrap())
        .save(&path)
        .unwrap();
    let snap = ModelSnapshot::from_checkpoint(&path).unwrap();
    let anchors = AnchorConfig::default();
    assert!(snap.fits(&anchors, 3).is_ok());
    let e = snap.fits(&anchors, 4).unwrap_err();
    assert!(e.contains("3 classes, the dataset 4"), "{e}");
    let mut fewer = anchors.clone();
    fewer.ratios = vec![1.0];
    let e = snap.fits(&fewer, 3).unwrap_err();
    assert!(
        e.contains("9 anchors per location, the anchor settings 3"),
        "{e}"
    );
    let mut strides = anchors.clone();
    strides.strides = vec![8, 16, 32, 64];
    let e = snap.fits(&strides, 3).unwrap_err();
    assert!(e.contains("pyramid strides [8, 16, 32]"), "{e}");

    // a balanced-pyramid config over plain parameters
    let bal = ModelConfig {
        balanced_fpn: true,
        ..mc.clone()
    };
    let path = tmp("bfp");
    checkpoint_of(&model, toml::to_string(&bal).unwrap())
        .save(&path)
        .unwrap();
    let e = ModelSnapshot::from_checkpoint(&path).unwrap_err();
    assert!(e.contains("no balanced feature pyramid"), "{e}");
    assert!(!e.contains('\n'));
}

#[test]
fn the_prior_is_the_bias_and_zero_deltas() {
    let p = ModelOutputs::prior(2, 3, 0.01);
    // -ln((1 - 0.01) / 0.01) = -4.59512 (RetinaNet's prior bias)
    assert!(p.logits.iter().all(|&x| (x + 4.59512).abs() < 1e-5));
    assert_eq!(p.deltas, vec![0.0; 8]);
    assert_eq!(p.caption(), "scores: untrained prior");
}
