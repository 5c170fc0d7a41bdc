//! Python's `json` module writes `NaN`, `Infinity` and `-Infinity`, which JSON parsers refuse.
//! [`mark`] replaces each such bare token (outside strings) with a marker string so the file
//! parses and only the records holding one are dropped.

use std::borrow::Cow;

const MARKER: &str = "\u{1}anchorscope-non-finite";

/// `true` for the marker string [`mark`] writes.
pub fn is_marker(s: &str) -> bool {
    s == MARKER
}

/// The text with every bare `NaN` / `Infinity` / `-Infinity` token replaced by the marker.
pub fn mark(text: &str) -> Cow<'_, str> {
    if !text.contains("NaN") && !text.contains("Infinity") {
        return Cow::Borrowed(text);
    }
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 64);
    let (mut i, mut start, mut in_str) = (0, 0, false);
    while i < b.len() {
        let c = b[i];
        if in_str {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == b'"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        if c == b'"' {
            in_str = true;
            i += 1;
            continue;
        }
        let tok = ["-Infinity", "Infinity", "NaN"]
            .into_iter()
            .find(|t| b[i..].starts_with(t.as_bytes()));
        match tok {
            Some(t) => {
                out.push_str(&text[start..i]);
                // The marker as a JSON string literal (the control character escaped).
                out.push_str("\"\\u0001anchorscope-non-finite\"");
                i += t.len();
                start = i;
            }
            None => i += 1,
        }
    }
    out.push_str(&text[start.min(text.len())..]);
    Cow::Owned(out)
}
