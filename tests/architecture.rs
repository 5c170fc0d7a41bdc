//! Architecture conformance: every named formula has one home module, and this test fails
//! the build when a second definition of one appears anywhere else under `src/`.
//!
//! The library's promise (README, "Architecture") is that a reader checking a number finds
//! one place answering "how is IoU computed?", "how is NMS done?", "where is focal loss?".
//! The review that opened the architecture issue found the logit three times, NMS twice and
//! smooth L1 twice; they were folded into their homes and this test keeps them there.
//!
//! Like hotcoco's `tests/architecture.rs` (the model for this file) the checks are
//! deliberately crude: text scans of the source, no parsing. Each rule looks for two things
//! outside its homes: a *definition* of the formula under one of its usual names
//! (`fn iou(`, `fn nms(`, ...), and the formula's *shape* in the arithmetic (an IoU
//! denominator `a + b - inter`, a greedy-NMS `suppressed` table, `(p / (1 - p)).ln()`, ...),
//! which catches a copy written inline under another name. A determined author can evade
//! them; the point is to catch the accidental copy that review misses.
//!
//! Scanned: every `.rs` file under `src/`, without whole-line comments, trailing `// `
//! comments, test-only files (`tests.rs`, `tests_*.rs`, `test_support.rs`) and `#[cfg(test)]
//! mod tests { .. }` blocks (a test may restate a formula to check it). The WGSL kernels in
//! `shaders/` are the GPU twins of the CPU formulas by design (each checked against its CPU
//! twin by a test) and are not scanned.
//!
//! A new formula home is added to a rule's `homes` with a comment saying why it is a
//! *different* formula, never to silence a copy that should call the existing home.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

/// One source file: its path relative to the crate root (forward slashes) and its code lines
/// (1-based line number, text), with comments and test modules removed.
struct SourceFile {
    path: String,
    lines: Vec<(usize, String)>,
}

/// Every `.rs` file under `src/`, read once.
fn sources() -> &'static [SourceFile] {
    static SOURCES: LazyLock<Vec<SourceFile>> = LazyLock::new(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut paths = Vec::new();
        collect_rs(&root.join("src"), &mut paths);
        assert!(
            paths.len() > 50,
            "found only {} source files under src/",
            paths.len()
        );
        paths.sort();
        paths
            .iter()
            .filter(|p| !is_test_file(p))
            .map(|p| {
                // A conformance test that cannot read a file must fail, not scan nothing.
                let text = fs::read_to_string(p)
                    .unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
                let rel = p
                    .strip_prefix(root)
                    .unwrap_or(p)
                    .to_string_lossy()
                    .replace('\\', "/");
                SourceFile {
                    path: rel,
                    lines: code_lines(&text),
                }
            })
            .collect()
    });
    &SOURCES
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Test-only files by the crate's naming convention (`tests.rs`, `tests_<topic>.rs`,
/// `test_support.rs`).
fn is_test_file(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name == "tests.rs" || name.starts_with("tests_") || name == "test_support.rs"
}

/// The code lines of a file: whole-line comments dropped, trailing `// ` comments cut,
/// `#[cfg(test)] mod tests { .. }` blocks skipped (by brace depth).
fn code_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut cfg_test = false;
    let mut skip_depth: Option<i64> = None;
    for (i, raw) in text.lines().enumerate() {
        let t = raw.trim();
        if let Some(depth) = skip_depth.as_mut() {
            *depth += t.matches('{').count() as i64 - t.matches('}').count() as i64;
            if *depth <= 0 {
                skip_depth = None;
            }
            continue;
        }
        if t == "#[cfg(test)]" {
            cfg_test = true;
            continue;
        }
        if cfg_test && t.starts_with("mod ") && t.ends_with('{') {
            cfg_test = false;
            skip_depth = Some(1);
            continue;
        }
        if !t.is_empty() {
            cfg_test = false;
        }
        if t.starts_with("//") {
            continue;
        }
        let code = match raw.find(" // ") {
            Some(k) => &raw[..k],
            None => raw,
        };
        out.push((i + 1, code.to_string()));
    }
    out
}

/// A named formula, its home files or folders (prefixes of the path), and what marks a copy.
struct Rule {
    formula: &'static str,
    /// Paths (file, or folder ending in `/`) where the formula may be defined.
    homes: &'static [&'static str],
    /// Function names that define the formula (`fn NAME(` or `fn NAME<`).
    names: &'static [&'static str],
    /// When set, a named definition only counts if its signature (up to the `{`) contains
    /// one of these words (e.g. delta `encode` takes an anchor; a PNG `encode` does not).
    signature_mentions: &'static [&'static str],
    /// The formula's arithmetic shape on one code line (applied with whitespace removed).
    shape: fn(&str) -> bool,
    /// What to call instead.
    advice: &'static str,
}

/// The rules: IoU, NMS, logit, smooth L1, focal, delta encode/decode, AP.
fn rules() -> Vec<Rule> {
    vec![
        Rule {
            formula: "IoU",
            homes: &[
                // scalar, crowd and fused batch IoU on f32 boxes
                "src/geometry/",
                // the differentiable IoU (f64, with its gradient w.r.t. the prediction) that
                // the IoU-family regression losses are built on: value and gradient together
                "src/losses/regression/iou_family.rs",
            ],
            // (a thin wrapper that calls geometry::iou under another name, like the regression
            // playground's `box_iou`, is not a copy and is not named here)
            names: &["iou", "crowd_iou", "pairwise_iou", "iou_matrix"],
            signature_mentions: &[],
            shape: iou_shape,
            advice: "call geometry::{iou, crowd_iou, iou_matrix, max_iou_stats}",
        },
        Rule {
            formula: "NMS",
            homes: &["src/geometry/nms.rs"],
            names: &[
                "nms",
                "batched_nms",
                "nms_match",
                "soft_nms",
                "greedy_groups",
            ],
            signature_mentions: &[],
            // the table of a greedy suppression loop
            shape: |l| l.contains("suppressed=vec![false"),
            advice: "call geometry::{nms, batched_nms, nms_match}",
        },
        Rule {
            formula: "logit",
            homes: &["src/losses/classification/stable.rs"],
            names: &["logit", "inverse_sigmoid", "inv_sigmoid"],
            signature_mentions: &[],
            // ln(p / (1 - p)) or -ln((1 - p) / p)
            shape: |l| {
                (l.contains("/(1.0-") && l.contains(")).ln()"))
                    || (l.contains("((1.0-") && l.contains(")/") && l.contains(").ln()"))
            },
            advice: "call losses::classification::stable::logit (or prior_bias for the prior)",
        },
        Rule {
            formula: "smooth L1",
            homes: &["src/losses/regression/elementwise.rs"],
            names: &["smooth_l1", "smooth_l1_loss", "huber", "smooth"],
            signature_mentions: &[],
            // the quadratic branch 0.5 d^2 / beta
            shape: |l| l.contains("0.5*") && l.contains("/beta"),
            advice: "call losses::regression::elementwise::smooth_l1",
        },
        Rule {
            formula: "focal",
            homes: &[
                "src/losses/classification/focal.rs",
                // focal_weight, the UI's alpha_t (1 - p_t)^gamma, beside the loss helpers
                "src/losses/classification/helpers.rs",
            ],
            names: &[
                "focal",
                "focal_star",
                "focal_loss",
                "sigmoid_focal_loss",
                "focal_weight",
            ],
            signature_mentions: &[],
            // the modulating factor (1 - p_t)^gamma
            shape: |l| {
                ["(1.0-p).powf(", "(1.0-p_t).powf(", "(1.0-pt).powf("]
                    .iter()
                    .any(|m| l.contains(m))
            },
            advice: "call losses::classification::{focal, focal_star, focal_weight} or ClsLoss",
        },
        Rule {
            formula: "delta encode/decode",
            homes: &["src/geometry/delta.rs", "src/geometry/delta_backward.rs"],
            names: &[
                "encode",
                "decode",
                "decode_backward",
                "encode_deltas",
                "decode_deltas",
            ],
            signature_mentions: &["anchor", "Box4", "deltas"],
            // dw = ln(gw / aw)
            shape: |l| l.contains("/aw).ln()") || l.contains("/ah).ln()"),
            advice: "call geometry::DeltaCoder::{encode, decode} or geometry::decode_backward",
        },
        Rule {
            formula: "AP",
            homes: &[
                // COCO-style AP's home: the evaluation module.
                "src/eval/",
            ],
            names: &[
                "average_precision",
                "ap_per_class",
                "accumulate_ap",
                "interpolated_ap",
            ],
            signature_mentions: &[],
            // 101-point interpolation, precision made monotone from the right, or AP read off
            // the evaluator's accumulated precision array (what src/eval/ does on hotcoco)
            shape: |l| {
                l.contains("/101.0")
                    || (l.contains("precision[") && l.contains(".max(precision["))
                    || (l.contains("precision[") && l.contains("precision_idx("))
            },
            advice: "call the evaluation module (src/eval/)",
        },
    ]
}

/// `inter / (a + b - inter)` or a line naming a union built as `a + b - inter`: an IoU
/// denominator.
fn iou_shape(l: &str) -> bool {
    let union_sum =
        l.contains("union=") && l.contains('+') && l.contains('-') && l.contains("inter");
    let inline = l.contains("inter/(") && l.contains("-inter)");
    union_sum || inline
}

/// Whether `line` (whitespace as written) defines `fn NAME(` or a generic `fn NAME<T..>(`
/// (a lifetime-only `fn iou<'a>(..) -> egui::Slider<'a>` is the anchors panel's slider helper,
/// not a formula).
fn defines(line: &str, name: &str) -> bool {
    let pat = format!("fn {name}");
    line.match_indices(&pat).any(|(k, _)| {
        // whole word: `fn focal(` must not match `fn overlay_focal(`
        let starts_word = k == 0
            || !(line.as_bytes()[k - 1].is_ascii_alphanumeric() || line.as_bytes()[k - 1] == b'_');
        let rest = &line[k + pat.len()..];
        starts_word && (rest.starts_with('(') || rest.starts_with("<T") || rest.starts_with("<F"))
    })
}

/// The signature that starts at line `i`: that line and the next ones up to a `{` or `;`.
fn signature(lines: &[(usize, String)], i: usize) -> String {
    let mut s = String::new();
    for (_, l) in lines.iter().skip(i).take(10) {
        s.push_str(l);
        if l.contains('{') || l.contains(';') {
            break;
        }
    }
    s
}

fn in_home(path: &str, homes: &[&str]) -> bool {
    homes.iter().any(|h| {
        if h.ends_with('/') {
            path.starts_with(h)
        } else {
            path == *h
        }
    })
}

/// The places in `files` that define or compute `rule`'s formula, as `path:line  text`.
fn hits<'a>(rule: &Rule, files: impl IntoIterator<Item = &'a SourceFile>) -> Vec<String> {
    let mut out = Vec::new();
    for f in files {
        for (i, (n, l)) in f.lines.iter().enumerate() {
            let named = rule.names.iter().any(|name| defines(l, name))
                && (rule.signature_mentions.is_empty()
                    || rule
                        .signature_mentions
                        .iter()
                        .any(|w| signature(&f.lines, i).contains(w)));
            let flat: String = l.chars().filter(|c| !c.is_whitespace()).collect();
            if named || (rule.shape)(&flat) {
                out.push(format!("{}:{n}  {}", f.path, l.trim()));
            }
        }
    }
    out
}

/// The copies of `rule`'s formula outside its homes.
fn violations(rule: &Rule, files: &[SourceFile]) -> Vec<String> {
    hits(rule, files.iter().filter(|f| !in_home(&f.path, rule.homes)))
}

#[test]
fn each_named_formula_is_defined_only_in_its_home() {
    let mut report = Vec::new();
    for rule in rules() {
        let v = violations(&rule, sources());
        if !v.is_empty() {
            report.push(format!(
                "{} may only be defined in {}; found another definition at:\n  {}\n  ({} instead)",
                rule.formula,
                rule.homes.join(", "),
                v.join("\n  "),
                rule.advice
            ));
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n\n"));
}

/// Each rule still recognises its own home's definition: a rule whose patterns no longer
/// match anything (a rename, a reformatting) would pass vacuously, so it fails here instead.
#[test]
fn each_rule_finds_its_home_definition() {
    for rule in rules() {
        let at_home: Vec<&SourceFile> = sources()
            .iter()
            .filter(|f| in_home(&f.path, rule.homes))
            .collect();
        assert!(
            !at_home.is_empty(),
            "{}: none of its homes {:?} exists",
            rule.formula,
            rule.homes
        );
        assert!(
            !hits(&rule, at_home).is_empty(),
            "{}: the rule matches nothing in its homes {:?}; update its names or shape",
            rule.formula,
            rule.homes
        );
    }
}

/// Planted copies (the kind of second definition each rule is for) are caught outside the
/// home, and the same text inside a test module or a comment is not.
#[test]
fn planted_copies_are_caught() {
    let planted: &[(&str, &str)] = &[
        ("IoU", "fn iou(a: &Box4, b: &Box4) -> f32 {"),
        ("IoU", "    let union = area_a + area_b - inter;"),
        ("IoU", "    let v = inter / (area_a + area_b - inter);"),
        (
            "NMS",
            "pub fn nms(boxes: &[Box4], scores: &[f32], thr: f32) -> Vec<usize> {",
        ),
        ("NMS", "    let mut suppressed = vec![false; n];"),
        ("logit", "pub fn logit(p: f64) -> f64 {"),
        ("logit", "    let x = (p / (1.0 - p)).ln();"),
        ("logit", "    let b = -((1.0 - pi) / pi).ln();"),
        ("smooth L1", "fn smooth_l1(d: f64, beta: f64) -> f64 {"),
        ("smooth L1", "        (0.5 * l * l / beta, l / beta)"),
        (
            "focal",
            "fn focal(x: f64, y: f64, alpha: f64, gamma: f64) -> f64 {",
        ),
        ("focal", "    let w = alpha_t * (1.0 - p_t).powf(gamma);"),
        (
            "delta encode/decode",
            "    pub fn decode(&self, anchor: &Box4, d: &[f32; 4]) -> Box4 {",
        ),
        ("delta encode/decode", "        ww * (gw / aw).ln(),"),
        (
            "AP",
            "fn average_precision(scored: &[(f32, bool)], num_gt: usize) -> f64 {",
        ),
        ("AP", "    sum / 101.0"),
        (
            "AP",
            "        .map(|r| acc.precision[acc.precision_idx(t, r, k, a, 2)])",
        ),
    ];
    let rules = rules();
    for (formula, line) in planted {
        let rule = rules.iter().find(|r| r.formula == *formula).unwrap();
        let text = format!("use x;\n\n{line}\n");
        let file = SourceFile {
            path: "src/app/planted.rs".into(),
            lines: code_lines(&text),
        };
        assert_eq!(
            violations(rule, std::slice::from_ref(&file)).len(),
            1,
            "{formula}: the planted copy `{line}` was not caught"
        );
        // the same line in a home, a comment, or a test module is fine
        let home = SourceFile {
            path: rule.homes[0].trim_end_matches('/').to_string()
                + if rule.homes[0].ends_with('/') {
                    "/x.rs"
                } else {
                    ""
                },
            lines: file.lines.clone(),
        };
        assert!(
            violations(rule, std::slice::from_ref(&home)).is_empty(),
            "{formula}: home"
        );
        let commented = format!("// {line}\n");
        let in_tests = format!("fn f() {{}}\n#[cfg(test)]\nmod tests {{\n    {line}\n    }}\n}}\n");
        for text in [commented, in_tests] {
            let f = SourceFile {
                path: "src/app/planted.rs".into(),
                lines: code_lines(&text),
            };
            assert!(
                violations(rule, std::slice::from_ref(&f)).is_empty(),
                "{formula}: {text}"
            );
        }
    }
    // lookalikes that are not the formula
    let benign = [
        "fn overlay_focal(loss: &ClsLoss) -> Option<(f64, f64)> {",
        "fn iou<'a>(v: &'a mut f32, text: &str) -> egui::Slider<'a> {",
        "    fn encode(\n        png: &[u8],\n    ) -> Vec<u8> {",
        "fn nms_match_groups() {",
    ];
    for text in benign {
        let f = SourceFile {
            path: "src/app/benign.rs".into(),
            lines: code_lines(text),
        };
        for rule in &rules {
            assert!(
                violations(rule, std::slice::from_ref(&f)).is_empty(),
                "{}: {text}",
                rule.formula
            );
        }
    }
}

/// Files (by path prefix) whose code mentions one of `forbidden` (`use` lines and paths
/// written inline alike), as `path:line: text`.
fn imports(
    files: &[SourceFile],
    prefix_in: &[&str],
    prefix_out: &[&str],
    forbidden: &[&str],
) -> Vec<String> {
    files
        .iter()
        .filter(|f| prefix_in.iter().any(|p| f.path.starts_with(p)))
        .filter(|f| !prefix_out.iter().any(|p| f.path.starts_with(p)))
        .flat_map(|f| {
            f.lines
                .iter()
                .filter(|(_, l)| forbidden.iter().any(|w| l.contains(w)))
                .map(move |(n, l)| format!("{}:{n}: {}", f.path, l.trim()))
        })
        .collect()
}

/// The UI crates and the app module are used only by `app/` and `cli/` (the `app` feature).
#[test]
fn only_app_and_cli_use_the_ui() {
    let found = imports(
        sources(),
        &["src/"],
        &["src/app/", "src/cli/"],
        &["crate::app", "egui", "eframe", "rfd::"],
    );
    assert!(
        found.is_empty(),
        "UI outside app/ and cli/:\n{}",
        found.join("\n")
    );
}

/// The backend is the bottom of the training stack: it knows nothing of the model, training
/// or the app (its tests aside, which are not scanned).
#[test]
fn backend_imports_no_layer_above() {
    let found = imports(
        sources(),
        &["src/backend/"],
        &[],
        &[
            "crate::model",
            "crate::train",
            "crate::app",
            "crate::inspect",
            "crate::eval",
        ],
    );
    assert!(
        found.is_empty(),
        "backend/ imports a layer above:\n{}",
        found.join("\n")
    );
}

/// The scan itself: a planted upward import and a planted egui call are found (so the two
/// tests above can fail); a comment naming them is not code.
#[test]
fn planted_upward_imports_are_caught() {
    let planted = vec![
        SourceFile {
            path: "src/backend/cpu/planted.rs".into(),
            lines: code_lines("use crate::train::TrainConfig;\n// crate::model in a comment\n"),
        },
        SourceFile {
            path: "src/data/planted.rs".into(),
            lines: code_lines("fn f(ui: &mut egui::Ui) {}\n"),
        },
    ];
    let up = imports(
        &planted,
        &["src/backend/"],
        &[],
        &["crate::model", "crate::train"],
    );
    assert_eq!(
        up,
        ["src/backend/cpu/planted.rs:1: use crate::train::TrainConfig;"]
    );
    let ui = imports(&planted, &["src/"], &["src/app/", "src/cli/"], &["egui"]);
    assert_eq!(ui, ["src/data/planted.rs:1: fn f(ui: &mut egui::Ui) {}"]);
}
