//! The dataset validation report in a window: the summary, then every problem on one line
//! (virtualised: only the visible rows are laid out, so a report of 100,000 lines scrolls
//! smoothly); clicking a problem of a kept image shows that image. It opens by itself when a
//! dataset with problems is opened, and from the dataset panel's "Report" button.

use crate::app::state::AppState;
use crate::app::worker::DatasetInfo;
use crate::data::Report;
use std::sync::Arc;

fn open_id() -> egui::Id {
    egui::Id::unique("anchorscope-report-open")
}

fn seen_id() -> egui::Id {
    egui::Id::unique("anchorscope-report-seen")
}

/// Asks for the report window to show (or hide).
pub fn set_open(ctx: &egui::Context, open: bool) {
    ctx.data_mut(|d| d.insert_temp(open_id(), open));
}

/// Draws the report window of `info` when it is open; opens it once per newly opened dataset
/// that has problems.
pub fn report_window_ui(ctx: &egui::Context, info: &DatasetInfo, state: &mut AppState) {
    let Some(report) = &info.report else { return };
    let key = Arc::as_ptr(report) as usize;
    let seen: Option<usize> = ctx.data(|d| d.get_temp(seen_id()));
    if seen != Some(key) {
        ctx.data_mut(|d| d.insert_temp(seen_id(), key));
        set_open(ctx, !report.is_empty());
    }
    let mut open: bool = ctx.data(|d| d.get_temp(open_id())).unwrap_or(false);
    if !open {
        return;
    }
    egui::Window::new("Dataset report")
        .open(&mut open)
        .default_size([720.0, 420.0])
        .order(egui::Order::Foreground)
        .resizable(true)
        .show(ctx, |ui| report_ui(ui, info, report, state));
    set_open(ctx, open);
}

fn report_ui(ui: &mut egui::Ui, info: &DatasetInfo, report: &Report, state: &mut AppState) {
    ui.label(format!(
        "{}: {} images, {} classes",
        info.name,
        info.len,
        info.class_names.len()
    ));
    ui.label(
        report
            .summary()
            .replace("; `anchorscope check` lists them", ""),
    );
    ui.horizontal_wrapped(|ui| {
        for (code, n) in report.counts() {
            ui.small(format!("{code} {n}"));
        }
    });
    ui.separator();
    ui.small("Click a problem to show its image (problems of dropped images have none).");
    let row = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
    egui::ScrollArea::both()
        .auto_shrink([false, false])
        .show_rows(ui, row, report.problems.len(), |ui, range| {
            // one line per problem (uniform rows are what makes the list virtual)
            ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
            for p in &report.problems[range] {
                let text = p.to_string();
                match p.image {
                    Some(i) => {
                        let label = ui.selectable_label(state.image_index == i, text);
                        if label.on_hover_text(format!("show image {i}")).clicked() {
                            state.image_index = i;
                        }
                    }
                    None => {
                        ui.label(egui::RichText::new(text).weak());
                    }
                }
            }
        });
}
