//! `anchorscope export-config`: a run's settings file as an MMDetection 3 or Detectron2
//! config, on stdout or into `--out FILE` (never over an existing file).

use crate::interop::{Format, export};
use crate::train::run::{RunSettings, parse_run_config_data};
use anyhow::{Context, Result, anyhow, bail};
use std::path::PathBuf;

/// Arguments of `anchorscope export-config`.
#[derive(clap::Args, Debug)]
pub struct ExportConfigArgs {
    /// The settings file (a `train --config` file or a run's config.toml).
    #[arg(long)]
    pub config: PathBuf,
    /// `mmdet` (MMDetection 3, Python) or `detectron2` (YAML).
    #[arg(long)]
    pub format: String,
    /// Write here instead of stdout (refused if the file exists).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Runs `anchorscope export-config`.
pub fn run(args: &ExportConfigArgs) -> Result<()> {
    let format: Format = args.format.parse().map_err(|e: String| anyhow!(e))?;
    let p = &args.config;
    let text =
        std::fs::read_to_string(p).with_context(|| format!("{}: cannot read", p.display()))?;
    let (train, model, data) = parse_run_config_data(&text, &p.display().to_string())?;
    let settings = RunSettings { train, model, data };
    let out = export(&settings, format, &p.display().to_string());
    match &args.out {
        Some(o) if o.exists() => bail!("{}: exists; not overwritten", o.display()),
        Some(o) => std::fs::write(o, out).with_context(|| format!("{}: cannot write", o.display())),
        None => {
            print!("{out}");
            Ok(())
        }
    }
}
