//! Undo / redo of settings changes and the keyboard shortcuts.

use super::AnchorscopeApp;

impl AnchorscopeApp {
    /// Records an undo step when the settings changed and no pointer button is held (so a
    /// slider drag is one step).
    pub(super) fn track_undo(&mut self, ctx: &egui::Context) {
        if self.state != self.last_state && !ctx.input(|i| i.pointer.any_down()) {
            self.undo
                .push(std::mem::replace(&mut self.last_state, self.state.clone()));
            if self.undo.len() > 100 {
                self.undo.remove(0);
            }
            self.redo.clear();
        }
    }

    pub(super) fn undo_step(&mut self) {
        if let Some(prev) = self.undo.pop() {
            self.redo.push(std::mem::replace(&mut self.state, prev));
            self.last_state = self.state.clone();
        }
    }

    pub(super) fn redo_step(&mut self) {
        if let Some(next) = self.redo.pop() {
            self.undo.push(std::mem::replace(&mut self.state, next));
            self.last_state = self.state.clone();
        }
    }

    pub(super) fn shortcuts(&mut self, ctx: &egui::Context) {
        use egui::{Key, Modifiers};
        if ctx.memory(|m| m.focused().is_some()) {
            return; // typing in a text field
        }
        let n_images = self.dataset.as_ref().map(|d| d.len).unwrap_or(1);
        if ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Space))
            && let Some(nc) = self.num_classes()
        {
            self.training.toggle(&self.state, nc);
        }
        // Ctrl+S saves a checkpoint while the Training tab is open (no other use of S)
        if self.state.tab == crate::app::state::Tab::Training
            && self.training.has_run()
            && ctx.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::S))
        {
            self.training
                .open_dialog(crate::app::panels::training::CheckpointAction::Save);
        }
        if ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::C)) {
            self.state.compare.on = !self.state.compare.on;
            self.view.fit_pending = true;
            self.compare.right.fit_pending = true;
        }
        let (redo, undo, next, prev, fit, help, theme, modes) = ctx.input_mut(|i| {
            (
                i.consume_key(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z)
                    || i.consume_key(Modifiers::COMMAND, Key::Y),
                i.consume_key(Modifiers::COMMAND, Key::Z),
                i.consume_key(Modifiers::NONE, Key::ArrowRight),
                i.consume_key(Modifiers::NONE, Key::ArrowLeft),
                i.consume_key(Modifiers::NONE, Key::F),
                i.consume_key(Modifiers::NONE, Key::F1),
                i.consume_key(Modifiers::NONE, Key::T),
                [Key::Num1, Key::Num2, Key::Num3, Key::Num4]
                    .map(|k| i.consume_key(Modifiers::NONE, k)),
            )
        });
        if undo {
            self.undo_step();
        }
        if redo {
            self.redo_step();
        }
        if next && self.state.image_index + 1 < n_images {
            self.state.image_index += 1;
        }
        if prev && self.state.image_index > 0 {
            self.state.image_index -= 1;
        }
        if fit {
            self.view.fit_pending = true;
        }
        if help {
            self.show_help = !self.show_help;
        }
        if theme {
            self.state.dark = !self.state.dark;
        }
        for (k, on) in modes.into_iter().enumerate() {
            if on {
                self.state.overlay.mode = crate::app::state::OverlayMode::ALL[k];
            }
        }
    }
}
