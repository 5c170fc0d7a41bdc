//! The anchors tab.

use super::PanelContext;
use crate::app::state::AppState;

/// Shows the anchors tab.
pub fn anchors_ui(ui: &mut egui::Ui, _state: &mut AppState, _ctx: &PanelContext) {
    ui.label("anchors");
}
