//! Dataset SPEC strings of the command line: `synthetic[:PRESET][@SEED]`,
//! `coco:ANNOTATIONS.json[:IMAGES_DIR]`, `voc:DIR`, `yolo:DATA.yaml`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use super::files::{FileDataset, OpenOptions};
use super::synthetic::{PRESET_NAMES, SyntheticDataset};
use super::{DataError, Dataset};

/// A parsed dataset SPEC. The default is `synthetic:shapes@0`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatasetSpec {
    /// The built-in synthetic scenes: a preset name (one of [`PRESET_NAMES`]) and a seed.
    Synthetic {
        /// Preset name.
        preset: String,
        /// Dataset seed.
        seed: u64,
    },
    /// A COCO annotation file; images are looked up in `images` (default: next to the file).
    Coco {
        /// The annotations JSON file.
        annotations: PathBuf,
        /// The images directory, if given.
        images: Option<PathBuf>,
    },
    /// A Pascal VOC directory (holding `Annotations/`, `JPEGImages/`, `ImageSets/`).
    Voc {
        /// The dataset directory.
        dir: PathBuf,
    },
    /// A YOLO `data.yaml`.
    Yolo {
        /// The data description file.
        data: PathBuf,
    },
}

impl Default for DatasetSpec {
    fn default() -> Self {
        Self::Synthetic {
            preset: "shapes".into(),
            seed: 0,
        }
    }
}

impl DatasetSpec {
    /// Parses a SPEC; the error is one line naming the spec and what is wrong.
    pub fn parse(s: &str) -> Result<Self, DataError> {
        let err = |reason: String| DataError::Spec {
            spec: s.to_string(),
            reason,
        };
        let s_trim = s.trim();
        let (kind, rest) = match s_trim.split_once(':') {
            Some((k, r)) => (k, Some(r)),
            None => (s_trim, None),
        };
        // `synthetic@SEED` has no colon: split the seed off the kind as well.
        let (kind, kind_seed) = match kind.split_once('@') {
            Some((k, seed)) if rest.is_none() => (k, Some(seed)),
            _ => (kind, None),
        };
        let path = |r: Option<&str>, what: &str| match r {
            Some(p) if !p.is_empty() => Ok(PathBuf::from(p)),
            _ => Err(err(format!("missing {what} (expected `{kind}:{what}`)"))),
        };
        match kind {
            "synthetic" => {
                let (preset, seed) = match (rest, kind_seed) {
                    (None, seed) => ("shapes", seed),
                    (Some(r), _) => match r.split_once('@') {
                        Some((p, seed)) => (p, Some(seed)),
                        None => (r, None),
                    },
                };
                let preset = if preset.is_empty() { "shapes" } else { preset };
                if !PRESET_NAMES.contains(&preset) {
                    let known = PRESET_NAMES.join(", ");
                    return Err(err(format!(
                        "unknown synthetic preset `{preset}` (known: {known})"
                    )));
                }
                let seed = match seed {
                    None => 0,
                    Some(t) => t
                        .parse::<u64>()
                        .map_err(|_| err(format!("seed `{t}` is not a non-negative integer")))?,
                };
                Ok(Self::Synthetic {
                    preset: preset.to_string(),
                    seed,
                })
            }
            "coco" => {
                let r = rest.unwrap_or("");
                // Split at the first `:` after a `.json` so Windows drive letters survive.
                let lower = r.to_ascii_lowercase();
                let split = lower
                    .match_indices(".json:")
                    .next()
                    .map(|(i, _)| i + ".json".len());
                let (ann, img) = match split {
                    Some(i) => (&r[..i], Some(&r[i + 1..])),
                    None => (r, None),
                };
                let annotations = path(Some(ann), "ANNOTATIONS.json")?;
                let images = match img {
                    Some("") => return Err(err("empty IMAGES_DIR after `:`".into())),
                    Some(d) => Some(PathBuf::from(d)),
                    None => None,
                };
                Ok(Self::Coco {
                    annotations,
                    images,
                })
            }
            "voc" => Ok(Self::Voc {
                dir: path(rest, "DIR")?,
            }),
            "yolo" => Ok(Self::Yolo {
                data: path(rest, "DATA.yaml")?,
            }),
            "" => Err(err("empty dataset spec".into())),
            other => Err(err(format!(
                "unknown dataset kind `{other}` (expected synthetic, coco, voc or yolo)"
            ))),
        }
    }

    /// Opens the dataset (files with the default [`OpenOptions`]).
    pub fn open(&self) -> Result<Box<dyn Dataset>, DataError> {
        match self {
            Self::Synthetic { preset, seed } => match SyntheticDataset::preset(preset, *seed) {
                Some(d) => Ok(Box::new(d)),
                None => Err(DataError::Spec {
                    spec: self.to_string(),
                    reason: format!("unknown synthetic preset `{preset}`"),
                }),
            },
            _ => Ok(Box::new(FileDataset::open(self, &OpenOptions::default())?)),
        }
    }
}

impl fmt::Display for DatasetSpec {
    /// The canonical SPEC; `parse(spec.to_string())` gives `spec` back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Synthetic { preset, seed } => write!(f, "synthetic:{preset}@{seed}"),
            Self::Coco {
                annotations,
                images: None,
            } => write!(f, "coco:{}", annotations.display()),
            Self::Coco {
                annotations,
                images: Some(d),
            } => {
                write!(f, "coco:{}:{}", annotations.display(), d.display())
            }
            Self::Voc { dir } => write!(f, "voc:{}", dir.display()),
            Self::Yolo { data } => write!(f, "yolo:{}", data.display()),
        }
    }
}

impl FromStr for DatasetSpec {
    type Err = DataError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synth(preset: &str, seed: u64) -> DatasetSpec {
        DatasetSpec::Synthetic {
            preset: preset.into(),
            seed,
        }
    }

    #[test]
    fn parses_synthetic_forms() {
        assert_eq!(DatasetSpec::parse("synthetic").unwrap(), synth("shapes", 0));
        assert_eq!(
            DatasetSpec::parse("synthetic:tiny").unwrap(),
            synth("tiny", 0)
        );
        assert_eq!(
            DatasetSpec::parse("synthetic@7").unwrap(),
            synth("shapes", 7)
        );
        assert_eq!(
            DatasetSpec::parse("synthetic:crowded@42").unwrap(),
            synth("crowded", 42)
        );
        assert_eq!(
            DatasetSpec::parse(" synthetic:balanced@1 ").unwrap(),
            synth("balanced", 1)
        );
        assert_eq!(DatasetSpec::default(), synth("shapes", 0));
        assert_eq!(DatasetSpec::default().to_string(), "synthetic:shapes@0");
        for name in PRESET_NAMES {
            assert_eq!(
                DatasetSpec::parse(&format!("synthetic:{name}")).unwrap(),
                synth(name, 0)
            );
        }
    }

    #[test]
    fn parses_file_kinds() {
        let coco = DatasetSpec::parse("coco:ann/val.json").unwrap();
        assert_eq!(
            coco,
            DatasetSpec::Coco {
                annotations: "ann/val.json".into(),
                images: None
            }
        );
        let coco = DatasetSpec::parse("coco:a.json:imgs/val").unwrap();
        let want = DatasetSpec::Coco {
            annotations: "a.json".into(),
            images: Some("imgs/val".into()),
        };
        assert_eq!(coco, want);
        let win = DatasetSpec::parse(r"coco:C:\d\a.JSON:D:\imgs").unwrap();
        let want = DatasetSpec::Coco {
            annotations: r"C:\d\a.JSON".into(),
            images: Some(r"D:\imgs".into()),
        };
        assert_eq!(win, want);
        assert_eq!(
            DatasetSpec::parse("voc:VOC2007").unwrap(),
            DatasetSpec::Voc {
                dir: "VOC2007".into()
            }
        );
        assert_eq!(
            DatasetSpec::parse("yolo:d.yaml").unwrap(),
            DatasetSpec::Yolo {
                data: "d.yaml".into()
            }
        );
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "synthetic:tiny@3",
            "coco:a.json",
            "coco:a.json:imgs",
            "voc:x/y",
            "yolo:d.yaml",
        ] {
            let spec = DatasetSpec::parse(s).unwrap();
            assert_eq!(spec.to_string(), s);
            assert_eq!(s.parse::<DatasetSpec>().unwrap(), spec);
        }
    }

    #[test]
    fn rejects_bad_specs_with_one_line_errors() {
        let cases = [
            ("synthetic:huge", "unknown synthetic preset `huge`"),
            ("synthetic:Shapes", "unknown synthetic preset"),
            ("synthetic@x", "seed `x`"),
            ("synthetic:tiny@-1", "seed `-1`"),
            ("synthetic:tiny@", "seed ``"),
            ("imagenet:foo", "unknown dataset kind `imagenet`"),
            ("", "empty dataset spec"),
            ("coco", "missing ANNOTATIONS.json"),
            ("coco:a.json:", "empty IMAGES_DIR"),
            ("voc:", "missing DIR"),
            ("yolo", "missing DATA.yaml"),
        ];
        for (s, want) in cases {
            let e = DatasetSpec::parse(s).unwrap_err().to_string();
            assert!(e.contains(want), "{s:?} -> {e}");
            assert!(e.contains(&format!("`{s}`")), "error names the spec: {e}");
            assert!(!e.contains('\n'), "one line: {e}");
        }
        assert!(
            DatasetSpec::parse("synthetic:huge")
                .unwrap_err()
                .to_string()
                .contains("tiny")
        );
    }

    #[test]
    fn opens_synthetic_and_names_missing_files() {
        let d = DatasetSpec::parse("synthetic:tiny@5")
            .unwrap()
            .open()
            .unwrap();
        assert!(!d.is_empty());
        assert_eq!(d.class_names().len(), 3);
        let s = d.load(0).unwrap();
        assert_eq!(s.image.dimensions(), (256, 256));
        assert!(d.load(d.len()).is_err());
        for s in ["coco:a.json", "voc:d", "yolo:d.yaml"] {
            let e = DatasetSpec::parse(s)
                .unwrap()
                .open()
                .err()
                .unwrap()
                .to_string();
            assert!(
                e.contains(&s[s.find(':').unwrap() + 1..]),
                "names the path: {e}"
            );
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
