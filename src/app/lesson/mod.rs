//! Lesson files: the app's whole state (dataset, image, tab, overlay, losses, samplers,
//! compare view, UI scale) as TOML, saved from the app and reopened with
//! `anchorscope gui --config lesson.toml`, the reproducible state TF Playground keeps in its URL.

use crate::app::state::AppState;
use std::path::Path;

/// The state as lesson TOML (f32 settings in their shortest form).
pub fn to_toml(state: &AppState) -> Result<String, String> {
    crate::train::config::toml_text(state)
}

/// Parses lesson TOML; missing keys take their defaults. Errors are one line naming `origin`
/// and the line.
pub fn from_toml(text: &str, origin: &str) -> Result<AppState, String> {
    crate::config::parse_toml(text, origin)
}

/// Reads a lesson file.
pub fn load(path: &Path) -> Result<AppState, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    from_toml(&text, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::state::{OverlayMode, SamplerChoice, Tab};
    use crate::losses::classification::ClsLoss;

    #[test]
    fn a_lesson_round_trips_and_bad_files_are_one_line() {
        let mut s = AppState::default();
        s.image_index = 5;
        s.tab = Tab::Sampler;
        s.overlay.mode = OverlayMode::SamplerPick;
        s.overlay.sampler = SamplerChoice::Ohem;
        s.compare.on = true;
        s.compare.right.loss = ClsLoss::Qfl { beta: 2.0 };
        s.lab.assigner = crate::assign::AssignerConfig::Atss(Default::default());
        s.ui_scale = 1.5;
        let text = to_toml(&s).unwrap();
        assert!(text.contains("image_index = 5"), "{text}");
        let back = from_toml(&text, "lesson.toml").unwrap();
        assert_eq!(back, s);
        // a partial lesson keeps the defaults elsewhere
        let part = from_toml("image_index = 7\ntab = \"Loss\"\n", "l.toml").unwrap();
        assert_eq!((part.image_index, part.tab), (7, Tab::Loss));
        assert_eq!(part.overlay, AppState::default().overlay);
        let e = from_toml("image_index = \"seven\"\n", "bad.toml").unwrap_err();
        assert!(
            e.starts_with("bad.toml: line 1:") && !e.contains('\n'),
            "{e}"
        );
    }

    #[test]
    fn the_shipped_compare_lesson_sets_atss_on_the_right() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/assets/lessons/compare_maxiou_atss.toml"
        );
        let s = load(Path::new(path)).unwrap();
        assert!(s.compare.on);
        assert_eq!(s.compare.right.mode, OverlayMode::Assignment);
        assert_eq!(s.image_index, 3);
        let left = &s.lab.assigner;
        assert!(matches!(left, crate::assign::AssignerConfig::MaxIou(_)));
        assert!(matches!(
            s.compare.right_assigner(left),
            Some(crate::assign::AssignerConfig::Atss(_))
        ));
    }
}
