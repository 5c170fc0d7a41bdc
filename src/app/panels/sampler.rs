//! The sampler tab.

use super::PanelContext;
use crate::app::state::AppState;

/// Shows the sampler tab.
pub fn sampler_ui(ui: &mut egui::Ui, _state: &mut AppState, _ctx: &PanelContext) {
    ui.label("sampler");
}
