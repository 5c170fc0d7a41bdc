use super::*;

fn tmp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("anchorscope-ckpt-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn t(name: &str, shape: &[usize], data: Vec<f32>) -> NamedTensor {
    NamedTensor {
        name: name.into(),
        shape: shape.to_vec(),
        data,
    }
}

fn sample() -> Checkpoint {
    Checkpoint {
        params: vec![
            t(
                "backbone.0.weight",
                &[2, 1, 3, 3],
                (0..18).map(|i| i as f32 * 0.1 - 0.5).collect(),
            ),
            t("head.cls.bias", &[3], vec![-4.59512, -4.59512, -4.59512]),
        ],
        optimizer: vec![t(
            "backbone.0.weight.momentum",
            &[2, 1, 3, 3],
            vec![1e-3; 18],
        )],
        step: 1234,
        config_toml: "lr = 0.01\n[cls_loss]\nname = \"focal\"\n".into(),
        model_toml: String::new(),
    }
}

#[test]
fn round_trip() {
    let dir = tmp_dir("rt");
    let path = dir.join("checkpoint.safetensors");
    let c = sample();
    c.save(&path).unwrap();
    assert!(!dir.join("checkpoint.safetensors.tmp").exists());
    let back = Checkpoint::load(&path).unwrap();
    assert_eq!(back.step, 1234);
    assert_eq!(back.config_toml, c.config_toml);
    assert_eq!(
        back.param(&path, "head.cls.bias", &[3]).unwrap(),
        &c.params[1].data[..]
    );
    assert_eq!(
        back.optim(&path, "backbone.0.weight.momentum", &[2, 1, 3, 3])
            .unwrap(),
        &[1e-3; 18][..]
    );
    let mut sorted = c.clone();
    sorted.params.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(back, sorted);
    // shape checks name the file and the tensor
    let e = back
        .param(&path, "head.cls.bias", &[4])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("checkpoint.safetensors")
            && e.contains("param/head.cls.bias")
            && e.contains("[3]"),
        "{e}"
    );
    let e = back.param(&path, "nope", &[1]).unwrap_err().to_string();
    assert!(e.contains("param/nope") && e.contains("missing"), "{e}");
    // overwriting an existing checkpoint works
    sorted.step = 2000;
    sorted.save(&path).unwrap();
    assert_eq!(Checkpoint::load(&path).unwrap().step, 2000);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn refuses_non_finite_and_keeps_the_old_file() {
    let dir = tmp_dir("nan");
    let path = dir.join("c.safetensors");
    sample().save(&path).unwrap();
    let before = std::fs::read(&path).unwrap();
    let mut bad = sample();
    bad.optimizer[0].data[7] = f32::NAN;
    let e = bad.save(&path).unwrap_err().to_string();
    assert!(
        e.contains("optim/backbone.0.weight.momentum") && e.contains("value 7"),
        "{e}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let mut bad = sample();
    bad.params[1].data[0] = f32::INFINITY;
    assert!(
        bad.save(&path)
            .unwrap_err()
            .to_string()
            .contains("param/head.cls.bias")
    );
    let mut bad = sample();
    bad.params[0].shape = vec![5];
    assert!(bad.save(&path).unwrap_err().to_string().contains("shape"));
    assert!(!e.contains('\n'));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn corrupted_files_are_errors() {
    let dir = tmp_dir("bad");
    let path = dir.join("c.safetensors");
    sample().save(&path).unwrap();
    let good = std::fs::read(&path).unwrap();
    let cases: Vec<Vec<u8>> = vec![
        good[..good.len() - 5].to_vec(),
        good[..20].to_vec(),
        vec![],
        b"not a checkpoint at all, just text".to_vec(),
        {
            let mut g = good.clone();
            g[0] = 0xff;
            g[3] = 0x7f;
            g
        },
        {
            let mut g = good.clone();
            for b in &mut g[8..40] {
                *b = b'#';
            }
            g
        },
    ];
    for (i, bytes) in cases.into_iter().enumerate() {
        std::fs::write(&path, bytes).unwrap();
        let e = Checkpoint::load(&path).unwrap_err().to_string();
        assert!(
            e.starts_with(&path.display().to_string()) && !e.contains('\n'),
            "case {i}: {e}"
        );
    }
    let e = Checkpoint::load(&dir.join("missing.safetensors"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("missing.safetensors") && e.contains("cannot read"),
        "{e}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
