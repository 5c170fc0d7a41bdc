//! The app opens COCO, VOC and YOLO datasets (written by the test): the worker indexes them,
//! the image list names their files, and the validation report shows in a window where a
//! click on a problem shows its image. Driven headless by egui_kittest.

mod app_support;
mod support;

use anchorscope::app::{AnchorscopeApp, AppOptions};
use app_support::{app_harness, settle};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use support::{clean_datasets, problem_fixtures, tmp};

#[test]
fn each_small_dataset_opens_in_the_app() {
    let root = tmp("app-datasets");
    for spec in clean_datasets(&root, 6) {
        let Some(mut h) = harness(&spec) else { return };
        settle(&mut h);
        let info = h
            .state()
            .dataset
            .clone()
            .unwrap_or_else(|| panic!("{spec}: not open: {:?}", h.state().error));
        assert_eq!(info.len, 6, "{spec}");
        assert_eq!(info.class_names.len(), 3, "{spec}");
        assert!(info.report.as_ref().unwrap().is_empty(), "{spec}");
        // the list names the files; clicking one shows that image (192 x 160 for odd ones)
        h.get_by_label("1: img001.png").click();
        settle(&mut h);
        assert_eq!(h.state().state.image_index, 1);
        assert_eq!(
            h.state().inspection.as_ref().unwrap().sample.size(),
            (192, 160),
            "{spec}"
        );
        assert!(
            h.query_by_label("Dataset report").is_none(),
            "no window without problems"
        );
    }
    std::fs::remove_dir_all(&root).ok();
}

#[test]
fn the_report_window_lists_problems_and_jumps_to_their_image() {
    let root = tmp("app-report");
    problem_fixtures(&root);
    let spec = format!("yolo:{}", root.join("yolo/data.yaml").display());
    let Some(mut h) = harness(&spec) else { return };
    settle(&mut h);
    h.get_by_label("Dataset report");
    let report = h.state().dataset.as_ref().unwrap().report.clone().unwrap();
    let dup = report
        .problems
        .iter()
        .find(|p| p.record == "line 2")
        .unwrap();
    let target = dup.image.expect("a row problem points at its image");
    let line = dup.to_string();
    assert_ne!(h.state().state.image_index, target);
    h.get_by_label(&line).click();
    settle(&mut h);
    assert_eq!(h.state().state.image_index, target);
    std::fs::remove_dir_all(&root).ok();
}

#[test]
fn a_remedy_applied_in_the_panel_reopens_the_dataset_and_shows_before_and_after() {
    use anchorscope::data::remedies::{Remedies, UndersampleConfig};
    use anchorscope::data::{DatasetSpec, FileDataset, OpenOptions};
    let root = tmp("app-remedies");
    let spec = clean_datasets(&root, 6)[0].clone();
    // what the library makes of the same setting
    let ds = FileDataset::open(&DatasetSpec::parse(&spec).unwrap(), &OpenOptions::default());
    let remedies = Remedies {
        undersample: Some(UndersampleConfig::default()),
        ..Remedies::default()
    };
    let want = remedies.apply(std::sync::Arc::new(ds.unwrap())).unwrap();
    let want_len = want.dataset().len();
    assert!(want_len < 6, "the default undersampling drops images here");

    let Some(mut h) = harness(&spec) else { return };
    settle(&mut h);
    assert_eq!(h.state().dataset.as_ref().unwrap().len, 6);
    h.get_by_label("Data remedies").click();
    h.run_steps(2);
    h.get_by_label("Undersample frequent classes").click();
    h.run_steps(2);
    h.get_by_label("Apply remedies").click();
    settle(&mut h);
    let info = (h.state().dataset.clone())
        .unwrap_or_else(|| panic!("no dataset after Apply: {:?}", h.state().error));
    assert_eq!(h.state().state.dataset.remedies, remedies);
    assert_eq!(info.len, want_len);
    assert_eq!(info.remedies.len(), 1);
    assert_eq!(
        (
            info.remedies[0].before.images,
            info.remedies[0].after.images
        ),
        (6, want_len)
    );
    h.get_by_label("Dataset stats").click();
    settle(&mut h);
    h.get_by_label_contains(&format!("images 6 -> {want_len}, objects"));
    std::fs::remove_dir_all(&root).ok();
}

/// The app opened on dataset `spec`.
fn harness(spec: &str) -> Option<Harness<'static, AnchorscopeApp>> {
    app_harness(AppOptions {
        dataset: Some(spec.to_string()),
        ..AppOptions::default()
    })
}
