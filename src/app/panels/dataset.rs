//! The dataset panel (left).

use super::PanelContext;
use crate::app::state::AppState;

/// Shows the dataset panel.
pub fn dataset_ui(ui: &mut egui::Ui, _state: &mut AppState, _ctx: &PanelContext) {
    ui.label("dataset");
}
