//! The results table: one row a run, the columns of `results.csv`, sorted by any column
//! (click its header; again for the other direction), the selected row highlighted.

use super::load::{SweepData, SweepRun};
use super::{Sort, SweepTab};
use crate::sweep::FIGURE_COLUMNS;
use std::cmp::Ordering;

/// One cell's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// Text (a run name or a setting's label that is not a number).
    Text(String),
    /// A number shown with `decimals` decimals (a count with none).
    Number {
        /// The value.
        value: f64,
        /// Decimals shown.
        decimals: usize,
    },
    /// Nothing: a run not finished yet, a COCO stat of -1 (no GT of that size), no loss.
    Missing,
}

impl Cell {
    /// What the table shows.
    pub fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Number { value, decimals } => format!("{value:.decimals$}"),
            Cell::Missing => "-".into(),
        }
    }

    /// Sort order: numbers by value, then text, missing last (either direction).
    fn cmp_to(&self, other: &Cell) -> Ordering {
        use Cell::{Missing, Number, Text};
        match (self, other) {
            (Number { value: a, .. }, Number { value: b, .. }) => a.total_cmp(b),
            (Number { .. }, Text(_)) => Ordering::Less,
            (Text(_), Number { .. }) => Ordering::Greater,
            (Text(a), Text(b)) => a.cmp(b),
            (Missing, Missing) => Ordering::Equal,
            (Missing, _) => Ordering::Greater,
            (_, Missing) => Ordering::Less,
        }
    }
}

/// The header: `run`, the varied settings, then [`FIGURE_COLUMNS`].
pub fn header(data: &SweepData) -> Vec<String> {
    std::iter::once("run".to_string())
        .chain(data.columns.iter().cloned())
        .chain(FIGURE_COLUMNS.iter().map(|s| s.to_string()))
        .collect()
}

/// Run `run`'s cell in column `col` of [`header`].
pub fn cell(data: &SweepData, run: &SweepRun, col: usize) -> Cell {
    let settings = data.columns.len();
    if col == 0 {
        return Cell::Text(run.name.clone());
    }
    if col <= settings {
        let label = run.labels.get(col - 1).cloned().unwrap_or_default();
        return match label.parse::<f64>() {
            Ok(v) if v.is_finite() => Cell::Number {
                value: v,
                decimals: decimals_of(&label),
            },
            _ if label == "-" || label.is_empty() => Cell::Missing,
            _ => Cell::Text(label),
        };
    }
    let Some(row) = &run.row else {
        return Cell::Missing;
    };
    let k = col - settings - 1;
    let (value, decimals) = match k {
        0..=6 if row.stats[k] < 0.0 => return Cell::Missing,
        0..=6 => (row.stats[k], 3),
        7 => (row.loss_cls, 4),
        8 => (row.loss_reg, 4),
        9 => (row.share_pos, 3),
        10 => (row.steps as f64, 0),
        11 => (row.seconds, 1),
        _ => return Cell::Missing,
    };
    if value.is_finite() {
        Cell::Number { value, decimals }
    } else {
        Cell::Missing
    }
}

/// Decimals a setting's label is written with (`0.25`: 2), so it is shown as written.
fn decimals_of(label: &str) -> usize {
    label.split_once('.').map_or(0, |(_, f)| {
        f.chars().take_while(char::is_ascii_digit).count()
    })
}

/// The runs in display order: plan order, or sorted by `sort` (stable; missing cells last).
pub fn sorted_order(data: &SweepData, sort: Option<Sort>) -> Vec<usize> {
    let mut order: Vec<usize> = (0..data.runs.len()).collect();
    let Some(s) = sort else {
        return order;
    };
    let cells: Vec<Cell> = data.runs.iter().map(|r| cell(data, r, s.column)).collect();
    order.sort_by(|&a, &b| match (&cells[a], &cells[b]) {
        (x, y) if s.descending && *x != Cell::Missing && *y != Cell::Missing => y.cmp_to(x),
        (x, y) => x.cmp_to(y),
    });
    order
}

/// The table; a click selects a row, a double click or its Reopen button reopens the run.
pub fn table_ui(ui: &mut egui::Ui, tab: &mut SweepTab, data: &SweepData) {
    let names = header(data);
    let selected_row = tab
        .selected
        .and_then(|s| tab.order.iter().position(|&i| i == s));
    let hovered_row = tab
        .hovered
        .and_then(|s| tab.order.iter().position(|&i| i == s));
    let (sel_fill, hover_fill) = {
        let v = ui.visuals();
        (v.selection.bg_fill, v.widgets.hovered.weak_bg_fill)
    };
    let mut hovered = None;
    let mut clicked_header = None;
    egui::Grid::new("sweep-results")
        .striped(true)
        .min_col_width(0.0)
        .with_row_color(move |row, _style| match row.checked_sub(1) {
            Some(r) if Some(r) == selected_row => Some(sel_fill),
            Some(r) if Some(r) == hovered_row => Some(hover_fill),
            _ => None,
        })
        .show(ui, |ui| {
            ui.label(""); // the Reopen column
            for (c, name) in names.iter().enumerate() {
                let arrow = match tab.sort {
                    Some(s) if s.column == c && s.descending => " v",
                    Some(s) if s.column == c => " ^",
                    _ => "",
                };
                let b = egui::Button::new(egui::RichText::new(format!("{name}{arrow}")).strong())
                    .frame(false);
                if ui
                    .add(b)
                    .on_hover_text("sort by this column (again: the other way)")
                    .clicked()
                {
                    clicked_header = Some(c);
                }
            }
            ui.end_row();
            for &i in &tab.order.clone() {
                let run = &data.runs[i];
                let mut row_hovered = false;
                if tab.selected == Some(i) && run.finished() {
                    if ui
                        .small_button("Reopen")
                        .on_hover_text(
                            "its checkpoint behind the views, its evaluation in the Evaluation tab",
                        )
                        .clicked()
                    {
                        tab.reopen(i);
                    }
                } else {
                    ui.label("");
                }
                for c in 0..names.len() {
                    let text = cell(data, run, c).text();
                    let text = if c == 0 {
                        egui::RichText::new(text)
                    } else {
                        egui::RichText::new(text).monospace()
                    };
                    let r = ui.add(egui::Label::new(text).sense(egui::Sense::click()));
                    row_hovered |= r.hovered();
                    if r.clicked() {
                        tab.selected = Some(i);
                    }
                    if r.double_clicked() {
                        tab.selected = Some(i);
                        tab.reopen(i);
                    }
                }
                if row_hovered {
                    hovered = Some(i);
                }
                ui.end_row();
            }
        });
    tab.hovered = hovered;
    if let Some(c) = clicked_header {
        tab.sort_by(c);
    }
}
