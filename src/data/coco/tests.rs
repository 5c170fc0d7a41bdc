use super::*;
use crate::data::report::Code;
use proptest::prelude::*;

const VALID: &str = r#"{"images":[{"id":1,"file_name":"a.jpg","width":64,"height":48},
{"id":2,"file_name":"sub/b.jpg","width":32,"height":32}],
"categories":[{"id":3,"name":"dog"},{"id":1,"name":"cat"}],
"annotations":[{"id":1,"image_id":1,"category_id":3,"bbox":[1.5,2,10,20]},
{"id":2,"image_id":2,"category_id":1,"bbox":[0,0,5,5],"iscrowd":1}]}"#;

fn parse_str(text: &str) -> (Result<CocoFile, ()>, Report) {
    let mut r = Report::default();
    let f = parse(text, Path::new("ann.json"), Path::new("imgs"), &mut r);
    (f, r)
}

#[test]
fn reads_boxes_classes_and_crowd() {
    let (f, r) = parse_str(VALID);
    let f = f.unwrap();
    assert!(r.is_empty(), "{r:?}");
    // categories in increasing id order: cat (1), dog (3)
    assert_eq!(f.classes, ["cat", "dog"]);
    assert_eq!(f.category_ids, [1, 3]);
    assert_eq!(f.annotations, 2);
    // [x, y, w, h] -> [x, y, x + w, y + h]
    assert_eq!(f.images[0].boxes[0].bbox, [1.5, 2.0, 11.5, 22.0]);
    assert_eq!(f.images[0].boxes[0].class, 1);
    assert!(!f.images[0].boxes[0].ignore);
    assert!(f.images[1].boxes[0].ignore, "iscrowd 1 is an ignore region");
    assert_eq!(
        f.images[1].file,
        Path::new("imgs").join("sub").join("b.jpg")
    );
    assert_eq!(f.images[0].declared, Some((64, 48)));
}

#[test]
fn python_nan_and_infinity_drop_only_their_record() {
    let text = VALID
        .replace("[0,0,5,5]", "[0,NaN,5,-Infinity]")
        .replace("\"name\":\"cat\"", "\"name\":\"NaN cat\"");
    let (f, r) = parse_str(&text);
    let f = f.unwrap();
    assert_eq!(r.count(Code::NonFinite), 1);
    assert_eq!(r.problems[0].record, "annotation id 2");
    assert_eq!(f.classes[0], "NaN cat", "strings keep their text");
    assert!(f.images[1].boxes.is_empty());
    assert_eq!(f.images[0].boxes.len(), 1);
}

#[test]
fn not_an_object_is_file_malformed() {
    for t in ["[]", "", "{", "nul", "\"x\""] {
        let (f, r) = parse_str(t);
        assert!(f.is_err(), "{t}");
        assert_eq!(r.problems.len(), 1);
        assert_eq!(r.problems[0].code, Code::FileMalformed, "{t}");
    }
}

/// Mutations of a valid file: byte flips, cuts, insertions of JSON punctuation and tokens.
fn mutated() -> impl Strategy<Value = String> {
    crate::data::test_support::mutated(
        VALID,
        vec![
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "\"",
            "null",
            "NaN",
            "-Infinity",
            "1e400",
            "-1",
            "0",
            "\"id\"",
            "\"bbox\"",
            "[1,2]",
            "3.5",
            "true",
            "\\u0000",
            "\u{fffd}",
            "\"iscrowd\":2",
        ],
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, failure_persistence: None, ..ProptestConfig::default() })]

    /// No panic on mutated COCO files; a refused file says why in exactly one problem, and every
    /// problem names the file and is one line.
    #[test]
    fn fuzz_mutated_coco(text in mutated()) {
        let (f, r) = parse_str(&text);
        if f.is_err() {
            prop_assert_eq!(r.problems.last().map(|p| p.code), Some(Code::FileMalformed));
        }
        for p in &r.problems {
            let line = p.to_string();
            prop_assert!(line.starts_with("ann.json: ") && !line.contains('\n'), "{}", line);
        }
        if let Ok(f) = f {
            for im in &f.images {
                for b in &im.boxes {
                    prop_assert!(b.bbox.iter().all(|v| v.is_finite()) && b.bbox[2] > b.bbox[0] && b.bbox[3] > b.bbox[1]);
                    prop_assert!(b.class < f.classes.len());
                }
            }
        }
    }

    /// Random text never panics the parser.
    #[test]
    fn fuzz_random_text(text in "\\PC{0,200}") {
        let (f, r) = parse_str(&text);
        prop_assert!(f.is_ok() || !r.is_empty());
    }
}
