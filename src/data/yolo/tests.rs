use super::*;
use crate::data::files::Split;
use crate::data::report::Code;
use proptest::prelude::*;

fn rows(text: &str, nc: usize) -> (Vec<crate::data::files::RawBox>, Report) {
    let mut r = Report::default();
    let b = rows::parse(text, Path::new("l.txt"), nc, &mut r);
    (b, r)
}

#[test]
fn rows_and_polygons() {
    let (b, r) = rows("1 0.5 0.25 0.2 0.5\n0 0.1 0.2 0.4 0.2 0.3 0.6\n", 2);
    assert!(r.is_empty(), "{r:?}");
    // cx cy w h -> [cx - w/2, cy - h/2, cx + w/2, cy + h/2]
    let want = [0.4f32, 0.0, 0.6, 0.5];
    for k in 0..4 {
        assert!((b[0].bbox[k] - want[k]).abs() < 1e-6);
    }
    assert_eq!(b[0].class, 1);
    assert!(b[0].normalized);
    // polygon (0.1, 0.2) (0.4, 0.2) (0.3, 0.6): its bounding box
    let want = [0.1f32, 0.2, 0.4, 0.6];
    for k in 0..4 {
        assert!((b[1].bbox[k] - want[k]).abs() < 1e-6);
    }
}

#[test]
fn tolerance_of_one_hundredth() {
    let (b, r) = rows("0 1.005 0.5 0.01 0.01\n0 0.5 1.02 0.1 0.1\n", 1);
    assert_eq!(b.len(), 1, "1.005 is within 0.01 of [0, 1]");
    assert_eq!(r.count(Code::YoloUnnormalized), 1);
    assert_eq!(r.problems[0].record, "line 2");
}

#[test]
fn label_paths_swap_the_last_images_folder() {
    assert_eq!(
        label_path(Path::new("/d/images/x/images/train/a.jpg")),
        Path::new("/d/images/x/labels/train/a.txt")
    );
    assert_eq!(
        label_path(Path::new("data/images/b.PNG")),
        Path::new("data/labels/b.txt")
    );
}

fn yaml(text: &str) -> (Result<data_yaml::DataYaml, ()>, Report) {
    let mut r = Report::default();
    let d = data_yaml::parse(text, Path::new("ds/data.yaml"), &mut r);
    (d, r)
}

#[test]
fn data_yaml_names_as_list_or_map() {
    let (d, r) = yaml(
        "path: root\ntrain: images/train\nval: [images/v1, images/v2]\nnames: [a, b]\nnc: 2\n",
    );
    let d = d.unwrap();
    assert!(r.is_empty(), "{r:?}");
    assert_eq!(d.root, Path::new("ds/root"));
    assert_eq!(d.names, ["a", "b"]);
    assert_eq!(
        d.splits[0],
        (
            Split::Train,
            vec![Path::new("ds/root/images/train").to_path_buf()]
        )
    );
    assert_eq!(d.splits[1].1.len(), 2);
    let (d, r) = yaml("train: t\nnames:\n  0: person\n  1: car\nnc: 3\n");
    assert_eq!(d.unwrap().names, ["person", "car"]);
    assert_eq!(r.count(Code::NamesMismatch), 1);
    assert_eq!(r.problems[0].record, "nc");
}

const ROWS: &str = "0 0.5 0.5 0.2 0.2\n1 0.1 0.2 0.4 0.2 0.3 0.6\n2 0.9 0.9 0.1 0.1\n";
const YAML: &str = "path: .\ntrain: images/train\nval: images/val\nnc: 2\nnames:\n  0: a\n  1: b\n";

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Mutated label files: no panic; every bad row is a problem naming the file and its line;
    /// kept boxes are non-empty, finite and of a known class.
    #[test]
    fn fuzz_mutated_rows(text in crate::data::test_support::mutated(ROWS, vec![" ", "\n", "-", "nan", "inf", "1e9", "7", "0.", ".", "\t", "x", "\r\n", "3 0.5"])) {
        let (b, r) = rows(&text, 3);
        let nonblank = text.lines().filter(|l| !l.trim().is_empty()).count();
        if nonblank > 0 {
            prop_assert_eq!(b.len() + r.problems.len(), nonblank, "every row kept or reported");
        }
        for p in &r.problems {
            let line = p.to_string();
            prop_assert!(line.starts_with("l.txt: ") && !line.contains('\n'), "{}", line);
        }
        for x in &b {
            prop_assert!(x.bbox.iter().all(|v| v.is_finite()) && x.bbox[2] > x.bbox[0] && x.bbox[3] > x.bbox[1] && x.class < 3);
        }
    }

    /// Mutated `data.yaml`: no panic; a refused file says why; every problem names the file.
    #[test]
    fn fuzz_mutated_data_yaml(text in crate::data::test_support::mutated(YAML, vec![":", "- ", "[", "]", "{", "}", "&a ", "*a", "!!binary ", "\"", "'", "\n  ", "~", "nc: x\n", "? "])) {
        let (d, r) = yaml(&text);
        if d.is_err() {
            let c = r.problems.last().map(|p| p.code);
            prop_assert!(c == Some(Code::FileMalformed) || c == Some(Code::FieldType), "{:?}", r);
        }
        for p in &r.problems {
            let line = p.to_string();
            prop_assert!(line.contains("data.yaml: ") && !line.contains('\n'), "{}", line);
        }
    }
}
