use super::*;

#[test]
fn codes_are_unique_snake_case_and_serialise_as_written() {
    let mut seen = std::collections::HashSet::new();
    for c in Code::ALL {
        assert!(seen.insert(c.as_str()));
        assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        assert!(
            c.as_str()
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch == '_')
        );
    }
}

#[test]
fn problems_are_one_line_and_counted() {
    let mut r = Report::default();
    r.push(
        Code::RowDuplicate,
        Path::new("l/a.txt"),
        "line 3",
        "the same row\nagain",
    );
    r.push(Code::RowDuplicate, Path::new("l/b.txt"), "line 1", "x");
    r.push(Code::LabelEmpty, Path::new("l/c.txt"), "", "empty");
    assert_eq!(
        r.problems[0].to_string(),
        "l/a.txt: line 3: row_duplicate: the same row again"
    );
    assert_eq!(r.problems[2].to_string(), "l/c.txt: label_empty: empty");
    assert_eq!(r.count(Code::RowDuplicate), 2);
    assert_eq!(r.counts()["row_duplicate"], 2);
    assert!(
        r.summary()
            .starts_with("3 problems (label_empty 1, row_duplicate 2)")
    );
    assert_eq!(Report::default().summary(), "no problems");
}
