//! The table's cells and sort, the curves' lines and the folder reader's errors, without a UI.

use super::load::{SweepData, SweepRun, load_sweep, read_metrics};
use super::table::{Cell, cell, header, sorted_order};
use super::{CurveMetric, Sort, curves::curve_lines};
use crate::sweep::ResultRow;
use crate::train::StepMetrics;

fn run(name: &str, gamma: &str, ap: Option<f64>, steps: &[f64]) -> SweepRun {
    SweepRun {
        name: name.into(),
        dir: name.into(),
        labels: vec![gamma.into()],
        row: ap.map(|ap| ResultRow {
            run: name.into(),
            settings: vec![gamma.into()],
            stats: [ap, 0.5, 0.1, -1.0, 0.2, 0.3, 0.4],
            loss_cls: 1.0,
            loss_reg: f64::NAN,
            share_pos: 0.9,
            steps: 3,
            seconds: 1.26,
        }),
        metrics: steps
            .iter()
            .enumerate()
            .map(|(i, &l)| StepMetrics {
                step: i as u64,
                loss_total: l,
                ..Default::default()
            })
            .collect(),
        problem: None,
    }
}

fn data() -> SweepData {
    SweepData {
        dir: "s".into(),
        dataset: "synthetic:shapes@0".into(),
        eval_images: 4,
        columns: vec!["cls_loss.gamma".into()],
        runs: vec![
            run("00-g10", "10", Some(0.2), &[3.0, 2.0]),
            run("01-g2", "2", Some(0.05), &[4.0, 1.0, 0.5]),
            run("02-g0.5", "0.5", None, &[]),
        ],
    }
}

#[test]
fn cells_show_the_results_columns() {
    let d = data();
    let h = header(&d);
    assert_eq!(h[0], "run");
    assert_eq!(h[1], "cls_loss.gamma");
    assert_eq!(h[2], "ap");
    assert_eq!(h.last().unwrap(), "seconds");
    assert_eq!(h.len(), 14);
    let r = &d.runs[0];
    assert_eq!(cell(&d, r, 0).text(), "00-g10");
    assert_eq!(cell(&d, &d.runs[2], 1).text(), "0.5");
    assert_eq!(cell(&d, r, 2).text(), "0.200");
    assert_eq!(cell(&d, r, 5), Cell::Missing, "a stat of -1 is '-'");
    assert_eq!(cell(&d, r, 10).text(), "-", "a NaN loss is '-'");
    assert_eq!(cell(&d, r, 12).text(), "3");
    assert_eq!(cell(&d, r, 13).text(), "1.3");
    assert_eq!(cell(&d, &d.runs[2], 2), Cell::Missing, "not finished");
}

#[test]
fn sorting_is_numeric_toggles_and_puts_missing_last() {
    let d = data();
    assert_eq!(sorted_order(&d, None), [0, 1, 2]);
    let by = |column, descending| sorted_order(&d, Some(Sort { column, descending }));
    // gamma 10, 2, 0.5: numbers, not text ("10" < "2" as text)
    assert_eq!(by(1, false), [2, 1, 0]);
    assert_eq!(by(1, true), [0, 1, 2]);
    // AP: the unfinished run last either way
    assert_eq!(by(2, false), [1, 0, 2]);
    assert_eq!(by(2, true), [0, 1, 2]);
    assert_eq!(by(0, true), [2, 1, 0]);
}

#[test]
fn curves_have_one_line_a_started_run_and_emphasise_one() {
    let d = data();
    let lines = curve_lines(&d, CurveMetric::LossTotal, false, Some(1));
    let names: Vec<&str> = lines.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["00-g10", "01-g2"]);
    assert_eq!(lines[1].points, [[0.0, 4.0], [1.0, 1.0], [2.0, 0.5]]);
    assert!(lines[1].width > lines[0].width);
    assert_ne!(lines[0].colour, lines[1].colour);
    let log = curve_lines(&d, CurveMetric::LossTotal, true, None);
    assert!((log[0].points[0][1] - 3f64.log10()).abs() < 1e-12);
}

#[test]
fn bad_folders_are_one_line_errors_naming_the_file() {
    let dir = std::env::temp_dir().join(format!("anchorscope-sweeptab-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let e = load_sweep(&dir).unwrap_err();
    assert!(e.contains("not a folder"), "{e}");
    std::fs::create_dir_all(&dir).unwrap();
    let e = load_sweep(&dir).unwrap_err();
    assert!(e.contains("sweep.toml") && !e.contains('\n'), "{e}");
    std::fs::write(dir.join("sweep.toml"), "steps = 3\n").unwrap();
    let e = load_sweep(&dir).unwrap_err();
    assert!(e.contains("sweep.toml") && e.contains("grid"), "{e}");
    let csv = dir.join("metrics.csv");
    let header = crate::train::metrics::CSV_HEADER;
    std::fs::write(&csv, format!("{header}\n0,1,1,0,1,1,0,0,0,0\n1,x")).unwrap();
    let e = read_metrics(&csv, true).unwrap_err();
    assert!(e.contains("metrics.csv: line 3"), "{e}");
    // a run still training: its last line may be half-written
    assert_eq!(read_metrics(&csv, false).unwrap().len(), 1);
    std::fs::write(&csv, "step,loss\n").unwrap();
    assert!(read_metrics(&csv, false).unwrap_err().contains("line 1"));
    let _ = std::fs::remove_dir_all(&dir);
}
