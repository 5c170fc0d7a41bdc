//! `anchorscope export`: a small COCO dataset written by the test, tiled and merged, then
//! loaded back by `anchorscope check` with every count hand-counted.

mod support;

use serde_json::Value;
use support::{png, run, tmp, tree_hash, write};

/// Two images (100 x 60 and 40 x 30) with classes car, truck and person, crowd regions in both.
fn dataset(root: &std::path::Path) -> std::path::PathBuf {
    png(&root.join("big.png"), 100, 60);
    png(&root.join("small.png"), 40, 30);
    let ann = root.join("ann.json");
    write(
        &ann,
        r#"{
 "images": [
  {"id": 1, "file_name": "big.png", "width": 100, "height": 60},
  {"id": 2, "file_name": "small.png", "width": 40, "height": 30}
 ],
 "categories": [{"id": 1, "name": "car"}, {"id": 2, "name": "truck"}, {"id": 3, "name": "person"}],
 "annotations": [
  {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20]},
  {"id": 2, "image_id": 1, "category_id": 2, "bbox": [50, 20, 20, 20]},
  {"id": 3, "image_id": 1, "category_id": 3, "bbox": [56, 0, 20, 10]},
  {"id": 4, "image_id": 1, "category_id": 3, "bbox": [90, 50, 9, 9]},
  {"id": 5, "image_id": 1, "category_id": 1, "bbox": [60, 0, 10, 5], "iscrowd": 1},
  {"id": 6, "image_id": 2, "category_id": 2, "bbox": [5, 5, 10, 10]},
  {"id": 7, "image_id": 2, "category_id": 3, "bbox": [20, 10, 10, 10], "iscrowd": 1}
 ]
}"#,
    );
    ann
}

fn check(ann: &std::path::Path) -> Value {
    let spec = format!("coco:{}", ann.display());
    let o = run(&["check", "--dataset", &spec, "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn tiled_and_merged_export_loads_back_with_hand_counted_totals() {
    let root = tmp("export");
    let ann = dataset(&root.join("src"));
    let spec = format!("coco:{}", ann.display());
    let cfg = root.join("remedies.toml");
    write(
        &cfg,
        "[data]\nmerge = { truck = \"car\" }\n[data.tile]\nsize = 64\noverlap = 16\nmin_visible = 0.5\n",
    );
    let before = tree_hash(&root.join("src"));
    let out = root.join("out");
    let o = run(&[
        "export",
        "--dataset",
        &spec,
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        tree_hash(&root.join("src")),
        before,
        "the source is untouched"
    );

    // big.png: tiles at x 0 and 36 (64 x 60); small.png: one 40 x 30 tile.
    // tile 0: car, truck (14 of 20 px: kept, clipped) and the crowd car (4 of 10 px: an ignore
    // region is kept); person 1 (8 of 20 px) dropped. tile 1: truck, both persons, the crowd
    // car. small: truck and the crowd person. Truck -> car.
    let v = check(&out.join("annotations.json"));
    assert!(
        v["problems"].as_array().unwrap().is_empty(),
        "{}",
        v["problems"]
    );
    assert_eq!(v["images"], 3);
    assert_eq!(v["annotations"], 9);
    assert_eq!(
        v["classes"],
        serde_json::json!([{"name": "car", "count": 6}, {"name": "person", "count": 3}])
    );
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("annotations.json")).unwrap())
            .unwrap();
    let sizes: Vec<(u64, u64)> = doc["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["width"].as_u64().unwrap(), i["height"].as_u64().unwrap()))
        .collect();
    assert_eq!(sizes, vec![(64, 60), (64, 60), (40, 30)]);
    let crowd = doc["annotations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["iscrowd"] == 1)
        .count();
    assert_eq!(crowd, 3, "iscrowd kept");
    let truck_in_tile1 = doc["annotations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["image_id"] == 2 && a["category_id"] == 1 && a["iscrowd"] == 0)
        .unwrap();
    assert_eq!(
        truck_in_tile1["bbox"],
        serde_json::json!([14.0, 20.0, 20.0, 20.0])
    );

    // inspect applies the same [data] remedies: its image 1 is the second tile of big.png
    let o = run(&[
        "inspect",
        "--dataset",
        &spec,
        "--config",
        cfg.to_str().unwrap(),
        "--image",
        "1",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (v["image"]["width"].as_u64(), v["image"]["height"].as_u64()),
        (Some(64), Some(60))
    );
    assert_eq!(v["gt"].as_array().unwrap().len(), 4, "{}", v["gt"]);

    // an existing non-empty folder is refused: one line, exit 2, nothing written
    let o = run(&["export", "--dataset", &spec, "--out", out.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("not empty") && err.trim().lines().count() == 1,
        "{err}"
    );
}

#[test]
fn untiled_export_copies_the_original_images() {
    let root = tmp("export-copy");
    let ann = dataset(&root.join("src"));
    let cfg = root.join("merge.toml");
    write(&cfg, "[data.merge]\ntruck = \"car\"\nperson = \"car\"\n");
    let out = root.join("out");
    let spec = format!("coco:{}", ann.display());
    let args = [
        "export",
        "--dataset",
        &spec,
        "--config",
        cfg.to_str().unwrap(),
    ];
    let o = run(&[&args[..], &["--out", out.to_str().unwrap()]].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = check(&out.join("annotations.json"));
    assert_eq!(
        (v["images"].as_u64(), v["annotations"].as_u64()),
        (Some(2), Some(7))
    );
    assert_eq!(
        v["classes"],
        serde_json::json!([{"name": "car", "count": 7}])
    );
    let copy = std::fs::read(out.join("images/000000_big.png")).unwrap();
    assert_eq!(copy, std::fs::read(root.join("src/big.png")).unwrap());

    let bad = root.join("bad.toml");
    write(&bad, "[data.merge]\nplane = \"car\"\n");
    let o = run(&[
        "export",
        "--dataset",
        &spec,
        "--config",
        bad.to_str().unwrap(),
        "--out",
        root.join("out2").to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("\"plane\": not a class"), "{err}");
}
