//! Text fields holding a list of numbers: parsed on every edit, applied only when valid.

use std::fmt::Display;
use std::str::FromStr;

/// The text of a list field and the formatted value it was last synchronised with.
#[derive(Clone, Default)]
struct ListText {
    text: String,
    synced: String,
}

/// Formats a list as `a, b, c`.
pub fn format_list<T: Display>(values: &[T]) -> String {
    values
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses a comma- or space-separated list; every item must parse and pass `valid`, and the
/// list must not be empty.
pub fn parse_list<T: FromStr + Copy>(
    text: &str,
    valid: impl Fn(T) -> bool,
) -> Result<Vec<T>, String> {
    let items: Vec<&str> = text
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .collect();
    if items.is_empty() {
        return Err("the list is empty".into());
    }
    items
        .iter()
        .map(|s| match s.parse::<T>() {
            Ok(v) if valid(v) => Ok(v),
            _ => Err(format!("'{s}' is not allowed")),
        })
        .collect()
}

/// A labelled text field editing `values`. Invalid text is shown in red with the reason and
/// `hint`, and is not applied. A change of `values` from elsewhere (a preset) replaces the
/// text. Returns true when `values` changed.
pub fn list_field<T: FromStr + Copy + PartialEq + Display>(
    ui: &mut egui::Ui,
    label: &str,
    values: &mut Vec<T>,
    valid: impl Fn(T) -> bool,
    hint: &str,
) -> bool {
    let id = ui.make_persistent_id(("list_field", label));
    let formatted = format_list(values);
    let mut buf = ui.data(|d| d.get_temp::<ListText>(id)).unwrap_or_default();
    if buf.synced != formatted {
        buf.text = formatted.clone();
        buf.synced = formatted;
    }
    let parsed = parse_list(&buf.text, &valid);
    let mut changed = false;
    ui.horizontal(|ui| {
        let l = ui.label(format!("{label}:"));
        let mut edit = egui::TextEdit::singleline(&mut buf.text).desired_width(160.0);
        if parsed.is_err() {
            edit = edit.text_color(ui.visuals().error_fg_color);
        }
        let r = ui.add(edit).labelled_by(l.id);
        if r.changed()
            && let Ok(v) = parse_list(&buf.text, &valid)
            && v != *values
        {
            *values = v;
            buf.synced = format_list(values);
            changed = true;
        }
    });
    if let Err(e) = parse_list::<T>(&buf.text, &valid) {
        ui.colored_label(
            ui.visuals().error_fg_color,
            format!("{label}: {e} (not applied; {hint})"),
        );
    }
    ui.data_mut(|d| d.insert_temp(id, buf));
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists() {
        assert_eq!(
            parse_list::<u32>("8, 16 32", |s| s >= 4),
            Ok(vec![8, 16, 32])
        );
        assert!(parse_list::<u32>("8, 2", |s| s >= 4).is_err());
        assert!(parse_list::<f32>("0.5, x", |r| r > 0.0).is_err());
        assert!(parse_list::<f32>(" , ", |r| r > 0.0).is_err());
        assert_eq!(format_list(&[0.5f32, 1.0, 2.0]), "0.5, 1, 2");
    }
}
