//! The stats tab.

use super::PanelContext;
use crate::app::state::AppState;

/// Shows the stats tab.
pub fn stats_ui(ui: &mut egui::Ui, _state: &mut AppState, _ctx: &PanelContext) {
    ui.label("stats");
}
