//! The loss explorer tab.

use super::PanelContext;
use crate::app::state::AppState;
use serde::{Deserialize, Serialize};

/// Settings of the loss explorer (persisted).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LossExplorerSettings {}

/// Shows the loss explorer tab.
pub fn loss_explorer_ui(ui: &mut egui::Ui, _state: &mut AppState, _ctx: &PanelContext) {
    ui.label("loss explorer");
}
