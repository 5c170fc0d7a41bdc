//! `anchorscope check`: every validation code has a fixture (written by [`support`]) and the
//! report names its file, its record and the count; the fixture tree is left untouched
//! (content and modification times); `--strict` exits 2; nothing loadable exits 2.

mod support;

use serde_json::Value;
use std::path::Path;
use support::{problem_fixtures, run, tmp, tree_hash};

fn check_json(spec: &str, extra: &[&str]) -> (Value, std::process::Output) {
    let mut args = vec!["check", "--dataset", spec, "--json"];
    args.extend_from_slice(extra);
    let o = run(&args);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text} {}", String::from_utf8_lossy(&o.stderr)));
    (v, o)
}

/// `(code, file name ending, record, count of the code)` must all be in the report.
fn expect(v: &Value, cases: &[(&str, &str, &str, u64)]) {
    let problems = v["problems"].as_array().unwrap();
    for &(code, file, record, count) in cases {
        let hit = problems.iter().any(|p| {
            p["code"] == code
                && p["file"].as_str().unwrap().ends_with(file)
                && p["record"] == record
        });
        assert!(
            hit,
            "no {code} in {file} at `{record}`: {}",
            serde_json::to_string_pretty(&v["problems"]).unwrap()
        );
        assert_eq!(
            v["counts"][code].as_u64(),
            Some(count),
            "count of {code}: {}",
            v["counts"]
        );
        let n = problems.iter().filter(|p| p["code"] == code).count() as u64;
        assert_eq!(n, count, "{code}: the counts agree with the list");
    }
}

#[test]
fn every_code_is_reported_with_file_record_and_count_and_nothing_is_modified() {
    let root = tmp("check-fixtures");
    problem_fixtures(&root);
    let before = tree_hash(&root);
    let coco = format!("coco:{}", root.join("coco/ann.json").display());
    let (v, o) = check_json(&coco, &["--max-pixels", "5000"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    expect(
        &v,
        &[
            ("box_degenerate", "ann.json", "annotation id 2", 1),
            ("box_outside", "ann.json", "annotation id 3", 1),
            ("class_unknown", "ann.json", "annotation id 5", 1),
            ("image_id_unknown", "ann.json", "annotation id 4", 1),
            ("id_duplicate", "ann.json", "annotation id 1", 2),
            ("id_duplicate", "ann.json", "image id 1", 2),
            ("annotation_id_zero", "ann.json", "annotation id 0", 1),
            ("field_type", "ann.json", "image index 8", 2),
            ("field_type", "ann.json", "annotation id 7", 2),
            ("non_finite", "ann.json", "annotation id 6", 1),
            ("size_missing", "ann.json", "image id 3", 1),
            ("size_mismatch", "ann.json", "image id 2", 1),
            ("image_missing", "ann.json", "image id 4", 1),
            ("image_unreadable", "ann.json", "image id 5", 2),
            ("image_unreadable", "ann.json", "image id 9", 2),
            ("image_too_small", "ann.json", "image id 6", 1),
            ("image_too_large", "ann.json", "image id 7", 1),
        ],
    );
    // kept: images 1, 2, 3; boxes of image 1: ids 1, 0, 3 (clipped) and the crowd region 8
    assert_eq!(v["images"], 3);
    assert_eq!(v["annotations"], 4);
    assert_eq!(
        v["classes"][0],
        serde_json::json!({"name": "cat", "count": 2})
    );
    assert_eq!(
        v["classes"][1],
        serde_json::json!({"name": "dog", "count": 2})
    );

    let voc = format!("voc:{}", root.join("voc").display());
    let d_len = std::fs::metadata(root.join("voc/Annotations/d.xml"))
        .unwrap()
        .len();
    let d_end = format!("byte {d_len}");
    let (v, o) = check_json(&voc, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    expect(
        &v,
        &[
            ("box_degenerate", "a.xml", "object 1", 1),
            ("size_missing", "b.xml", "size", 1),
            ("xml_dtd", "c.xml", "byte 21", 1),
            // the document ends inside `<size>`: the error is at the end of the file
            ("file_malformed", "d.xml", d_end.as_str(), 1),
        ],
    );
    assert_eq!(v["images"], 2);
    // `cat` and `dog` are VOC names, so the classes are the 20 VOC classes in their order
    assert_eq!(
        v["classes"].as_array().unwrap().len(),
        20,
        "{}",
        v["classes"]
    );
    assert_eq!(
        v["classes"][7],
        serde_json::json!({"name": "cat", "count": 2})
    );
    assert_eq!(
        v["classes"][11],
        serde_json::json!({"name": "dog", "count": 1})
    );

    let yolo = format!("yolo:{}", root.join("yolo/data.yaml").display());
    let (v, o) = check_json(&yolo, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    expect(
        &v,
        &[
            ("row_duplicate", "x.txt", "line 2", 1),
            ("class_unknown", "x.txt", "line 3", 1),
            ("yolo_unnormalized", "x.txt", "line 4", 1),
            ("row_malformed", "x.txt", "line 5", 1),
            ("non_finite", "x.txt", "line 7", 1),
            ("box_degenerate", "x.txt", "line 8", 1),
            ("label_empty", "y.txt", "", 1),
            ("label_missing", "z.txt", "", 1),
            ("file_malformed", "w.txt", "", 1),
            ("names_mismatch", "data.yaml", "nc", 1),
        ],
    );
    assert_eq!(v["images"], 5);
    assert_eq!(
        v["annotations"], 3,
        "x: the good row and the polygon; v: one"
    );

    // --strict: the report, then exit 2
    let o = run(&["check", "--dataset", &yolo, "--strict"]);
    assert_eq!(o.status.code(), Some(2));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("x.txt: line 2: row_duplicate"), "{out}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--strict") && err.lines().count() == 1,
        "{err}"
    );
    // a malformed file: nothing loadable, exit 2, the problem named
    let broken = format!("coco:{}", root.join("coco/broken.json").display());
    let (v, o) = check_json(&broken, &[]);
    assert_eq!(o.status.code(), Some(2));
    expect(&v, &[("file_malformed", "broken.json", "line 1", 1)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("broken.json") && err.lines().count() == 1,
        "{err}"
    );

    assert_eq!(
        tree_hash(&root),
        before,
        "no file under the fixtures changed (content or mtime)"
    );
    std::fs::remove_dir_all(&root).ok();
}

#[test]
fn readable_report_names_each_problem_on_one_line() {
    let root = tmp("check-text");
    problem_fixtures(&root);
    let voc = format!("voc:{}", root.join("voc").display());
    let o = run(&["check", "--dataset", &voc]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    let dtd = out
        .lines()
        .find(|l| l.contains("xml_dtd"))
        .expect("xml_dtd line");
    assert!(
        dtd.contains(&Path::new("Annotations").join("c.xml").display().to_string()),
        "{dtd}"
    );
    assert!(out.lines().next().unwrap().contains("2 images"), "{out}");
    std::fs::remove_dir_all(&root).ok();
}
