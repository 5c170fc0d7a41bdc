//! One Pascal VOC annotation file (`Annotations/NAME.xml`) parsed from memory with quick-xml.
//!
//! A document with a `<!DOCTYPE>` (which is where DTDs and entity declarations live) is refused
//! with [`Code::XmlDtd`] before anything in it is read; only the five predefined entities
//! (`&amp;` ...) and character references are understood, never a declared one.
//!
//! `bndbox` values are 1-based inclusive pixel indices (sometimes written as floats); the box in
//! continuous coordinates is `[xmin - 1, ymin - 1, xmax, ymax]` (Detectron2's conversion).

use crate::data::report::{Code, Report};
use crate::geometry::Box4;
use quick_xml::events::Event;
use std::path::Path;

/// One `<object>` that passed the checks.
#[derive(Clone, Debug, PartialEq)]
pub struct VocObject {
    /// Its `<name>`, trimmed.
    pub name: String,
    /// The box, `xyxy` continuous pixels.
    pub bbox: Box4,
    /// `<difficult>1</difficult>`: an ignore region.
    pub difficult: bool,
    /// Its index among the file's `<object>`s (0-based), the record the report names.
    pub index: usize,
}

/// What one annotation file says.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VocFile {
    /// `<filename>`, if present.
    pub filename: Option<String>,
    /// `<size>` width and height, if present and positive.
    pub size: Option<(u32, u32)>,
    /// The objects kept.
    pub objects: Vec<VocObject>,
}

#[derive(Default)]
struct RawObject {
    name: Option<String>,
    difficult: Option<String>,
    coords: [Option<String>; 4],
}

const COORDS: [&str; 4] = ["xmin", "ymin", "xmax", "ymax"];

fn predefined(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => return None,
    })
}

/// Parses one annotation file. Structural failures report [`Code::FileMalformed`] or
/// [`Code::XmlDtd`] and give `Err`; bad objects are reported and skipped.
pub fn parse(text: &str, path: &Path, report: &mut Report) -> Result<VocFile, ()> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<String> = Vec::new();
    let mut buf = String::new();
    let mut out = VocFile::default();
    let (mut width, mut height, mut saw_size) = (None::<String>, None::<String>, false);
    let mut objects: Vec<RawObject> = Vec::new();
    let mut saw_root = false;
    let malformed = |report: &mut Report, pos: u64, msg: String| {
        report.push(
            Code::FileMalformed,
            path,
            format!("byte {pos}"),
            format!("{msg}; file dropped"),
        );
        Err(())
    };
    loop {
        let pos = reader.buffer_position();
        let ev = match reader.read_event() {
            Ok(ev) => ev,
            Err(e) => return malformed(report, pos, format!("not XML: {e}")),
        };
        match ev {
            Event::DocType(_) => {
                report.push(
                    Code::XmlDtd,
                    path,
                    format!("byte {pos}"),
                    "a DOCTYPE (DTD / entity declarations) is refused, never expanded; file dropped",
                );
                return Err(());
            }
            Event::Start(s) => {
                let name = String::from_utf8_lossy(s.local_name().as_ref()).into_owned();
                if stack.is_empty() {
                    if saw_root || name != "annotation" {
                        return malformed(
                            report,
                            pos,
                            format!("root element `<{name}>`, expected one `<annotation>`"),
                        );
                    }
                    saw_root = true;
                }
                if name == "object" && stack.len() == 1 {
                    objects.push(RawObject::default());
                }
                if name == "size" && stack.len() == 1 {
                    saw_size = true;
                }
                stack.push(name);
                buf.clear();
            }
            Event::Empty(s) => {
                if stack.is_empty() {
                    return malformed(report, pos, "empty document element".into());
                }
                let _ = s;
            }
            Event::Text(t) => match t.decode() {
                Ok(s) => buf.push_str(&s),
                Err(e) => return malformed(report, pos, format!("text encoding: {e}")),
            },
            Event::CData(t) => buf.push_str(&String::from_utf8_lossy(&t.into_inner())),
            Event::GeneralRef(r) => {
                let name = String::from_utf8_lossy(r.as_ref()).into_owned();
                match r.resolve_char_ref() {
                    Ok(Some(c)) => buf.push(c),
                    Ok(None) => match predefined(&name) {
                        Some(c) => buf.push(c),
                        None => {
                            return malformed(report, pos, format!("undeclared entity `&{name};`"));
                        }
                    },
                    Err(e) => {
                        return malformed(report, pos, format!("bad character reference: {e}"));
                    }
                }
            }
            Event::End(_) => {
                let path_now: Vec<&str> = stack.iter().map(String::as_str).collect();
                let text = buf.trim().to_string();
                match path_now.as_slice() {
                    ["annotation", "filename"] => out.filename = Some(text),
                    ["annotation", "size", "width"] => width = Some(text),
                    ["annotation", "size", "height"] => height = Some(text),
                    ["annotation", "object", "name"] => set(&mut objects, |o| o.name = Some(text)),
                    ["annotation", "object", "difficult"] => {
                        set(&mut objects, |o| o.difficult = Some(text))
                    }
                    ["annotation", "object", "bndbox", c] => {
                        if let Some(k) = COORDS.iter().position(|n| n == c) {
                            set(&mut objects, |o| o.coords[k] = Some(text));
                        }
                    }
                    _ => {}
                }
                stack.pop();
                buf.clear();
            }
            Event::Eof if !stack.is_empty() => {
                return malformed(
                    report,
                    pos,
                    format!("unclosed `<{}>` at the end", stack.join("><")),
                );
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if !saw_root {
        report.push(
            Code::FileMalformed,
            path,
            "",
            "no `<annotation>` element; file dropped",
        );
        return Err(());
    }
    let dim = |s: &Option<String>| {
        s.as_deref()
            .and_then(|t| t.parse::<f64>().ok())
            .filter(|v| *v >= 1.0 && v.fract() == 0.0 && *v <= u32::MAX as f64)
            .map(|v| v as u32)
    };
    out.size = dim(&width).zip(dim(&height));
    if out.size.is_none() {
        let why = if saw_size {
            "`<size>` without a positive width and height"
        } else {
            "no `<size>`"
        };
        report.push(
            Code::SizeMissing,
            path,
            "size",
            format!("{why}; size taken from the image"),
        );
    }
    for (index, o) in objects.into_iter().enumerate() {
        if let Some(obj) = object(o, index, path, report) {
            out.objects.push(obj);
        }
    }
    Ok(out)
}

fn set(objects: &mut [RawObject], f: impl FnOnce(&mut RawObject)) {
    if let Some(o) = objects.last_mut() {
        f(o);
    }
}

fn object(o: RawObject, index: usize, path: &Path, report: &mut Report) -> Option<VocObject> {
    let rec = format!("object {index}");
    let mut bad = |code: Code, msg: String| {
        report.push(code, path, rec.clone(), msg);
        None
    };
    let Some(name) = o.name.filter(|n| !n.is_empty()) else {
        return bad(Code::FieldType, "no `<name>`; dropped".into());
    };
    let mut v = [0.0f64; 4];
    for k in 0..4 {
        let Some(t) = o.coords[k].as_deref() else {
            return bad(
                Code::FieldType,
                format!("no `<bndbox><{}>`; dropped", COORDS[k]),
            );
        };
        match t.parse::<f64>() {
            Ok(x) if x.is_finite() => v[k] = x,
            Ok(_) => {
                return bad(
                    Code::NonFinite,
                    format!("`{}` is `{t}`; dropped", COORDS[k]),
                );
            }
            Err(_) => {
                return bad(
                    Code::FieldType,
                    format!("`{}` is `{t}`, not a number; dropped", COORDS[k]),
                );
            }
        }
    }
    if v[2] <= v[0] || v[3] <= v[1] {
        return bad(
            Code::BoxDegenerate,
            format!(
                "xmin {} xmax {} ymin {} ymax {}: empty box; dropped",
                v[0], v[2], v[1], v[3]
            ),
        );
    }
    let difficult = match o.difficult.as_deref() {
        None | Some("0") | Some("") => false,
        Some("1") => true,
        Some(t) => {
            return bad(
                Code::FieldType,
                format!("`difficult` is `{t}`, expected 0 or 1; dropped"),
            );
        }
    };
    Some(VocObject {
        name,
        bbox: [
            (v[0] - 1.0) as f32,
            (v[1] - 1.0) as f32,
            v[2] as f32,
            v[3] as f32,
        ],
        difficult,
        index,
    })
}
