//! `anchorscope sweep`: a grid of training settings (a TOML file or a shipped preset), one
//! run after another into DIR/RUN/, then DIR/results.csv and DIR/results.md; a progress bar
//! over all the runs' steps with the time left (plain lines when stdout is not a terminal).

use crate::eval::EvalSummary;
use crate::sweep::{
    Overrides, PRESETS, PlannedRun, ResultRow, SweepObserver, SweepOptions, SweepPlan, preset,
    run_sweep,
};
use crate::train::run::{RunObserver, RunStarted};
use crate::train::{BackendChoice, StepMetrics};
use anyhow::{Context, Result, anyhow, bail};
use std::io::IsTerminal;
use std::path::PathBuf;

/// The presets for `--help`.
fn presets_help() -> String {
    let mut s = String::from("Presets (--preset NAME):\n");
    for (name, about, _) in PRESETS {
        s.push_str(&format!("  {name:<20} {about}\n"));
    }
    s.push_str(
        "\nA grid file holds the base settings (any `train --config` key, [model], [data], and \
         `dataset`, `eval_images`) and a [grid] table (or several [[grid]] tables) whose arrays \
         are crossed: keys in alphabetical order, the first varying slowest.",
    );
    s
}

/// Arguments of `anchorscope sweep`.
#[derive(clap::Args, Debug)]
#[command(after_help = presets_help())]
pub struct SweepArgs {
    /// The grid file (TOML).
    #[arg(long, required_unless_present = "preset", conflicts_with = "preset")]
    pub grid: Option<PathBuf>,
    /// A shipped grid (listed below).
    #[arg(long, value_parser = PRESETS.map(|p| p.0))]
    pub preset: Option<String>,
    /// Output folder: one folder a run, results.csv, results.md, sweep.toml.
    #[arg(long)]
    pub out: PathBuf,
    /// Compute backend of every run: auto, cpu or gpu.
    #[arg(long, default_value = "auto")]
    pub backend: String,
    /// Continue a sweep in DIR: runs with a complete eval.json and the same config are kept.
    #[arg(long)]
    pub resume: bool,
    /// Steps of every run (overrides the grid file's base).
    #[arg(long)]
    pub steps: Option<u64>,
    /// Images per batch (overrides the base).
    #[arg(long)]
    pub batch: Option<usize>,
    /// Seed of every run (overrides the base).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Dataset SPEC of every run (overrides the file's `dataset`).
    #[arg(long)]
    pub dataset: Option<String>,
    /// Held-out images per run (overrides the file's `eval_images`).
    #[arg(long)]
    pub eval_images: Option<usize>,
    /// Print the runs and their settings, train nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Runs `anchorscope sweep`.
pub fn run(args: &SweepArgs) -> Result<()> {
    let (text, origin) = match (&args.grid, &args.preset) {
        (Some(p), _) => (
            std::fs::read_to_string(p).with_context(|| format!("{}: cannot read", p.display()))?,
            p.display().to_string(),
        ),
        (None, Some(name)) => (
            preset(name)
                .ok_or_else(|| anyhow!("--preset {name}: unknown"))?
                .to_string(),
            format!("preset {name}"),
        ),
        (None, None) => bail!("give --grid FILE or --preset NAME"),
    };
    let ov = Overrides {
        steps: args.steps,
        batch: args.batch,
        seed: args.seed,
        dataset: args.dataset.clone(),
        eval_images: args.eval_images,
    };
    let plan = SweepPlan::parse(&text, &origin, &ov)?;
    let backend: BackendChoice = args.backend.parse().map_err(|e: String| anyhow!(e))?;
    if args.dry_run {
        println!(
            "{} runs on {}, {} held-out images each:",
            plan.runs.len(),
            plan.dataset,
            plan.eval_images
        );
        for r in &plan.runs {
            let set: Vec<String> = plan
                .columns
                .iter()
                .zip(&r.labels)
                .map(|(c, l)| format!("{c} = {l}"))
                .collect();
            println!(
                "  {}  ({}; {} steps)",
                r.name,
                set.join(", "),
                r.settings.train.steps
            );
        }
        return Ok(());
    }
    let opts = SweepOptions {
        out: args.out.clone(),
        backend,
        resume: args.resume,
    };
    let mut bar = SweepBar::new(std::io::stdout().is_terminal(), plan.runs.len());
    let outcome = run_sweep(&plan, &opts, &mut bar)?;
    bar.finish();
    println!(
        "{} of {} runs finished; wrote {}",
        outcome.rows.len(),
        plan.runs.len(),
        args.out.join("results.csv").display()
    );
    if let Some((name, e)) = outcome.failed.first() {
        bail!(
            "{} of {} runs failed (first: {name}: {e}); see {}",
            outcome.failed.len(),
            plan.runs.len(),
            args.out.join("results.md").display()
        );
    }
    Ok(())
}

/// One bar over the steps of every run to train, with the time left; plain lines without a
/// terminal.
struct SweepBar {
    bar: Option<indicatif::ProgressBar>,
    total: usize,
    current: String,
}

impl SweepBar {
    fn new(tty: bool, total: usize) -> Self {
        let bar = tty.then(|| {
            let b = indicatif::ProgressBar::new(0);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:30}] {pos}/{len} steps, {eta} left  {prefix} {msg}",
                )
                .expect("progress template")
                .progress_chars("=> "),
            );
            b
        });
        Self {
            bar,
            total,
            current: String::new(),
        }
    }

    fn say(&self, msg: String) {
        match &self.bar {
            Some(b) => b.println(msg),
            None => println!("{msg}"),
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl RunObserver for SweepBar {
    fn started(&mut self, info: &RunStarted) {
        if self.bar.is_none() {
            println!("  {} parameters, backend {}", info.params, info.backend);
        }
    }

    fn step(&mut self, m: &StepMetrics) {
        match &self.bar {
            Some(b) => {
                b.set_message(format!("loss {:.4}", m.loss_total));
                b.inc(1);
            }
            None if m.step.is_multiple_of(50) => println!(
                "  {} step {} loss {:.4} (cls {:.4}, reg {:.4})",
                self.current, m.step, m.loss_total, m.loss_cls, m.loss_reg
            ),
            None => {}
        }
    }

    fn evaluated(&mut self, _step: u64, _summary: &EvalSummary, _seconds: f64) {}
}

impl SweepObserver for SweepBar {
    fn planned(&mut self, plan: &SweepPlan, todo: &[usize], steps: u64) {
        self.say(format!(
            "sweep {}: {} runs on {}, {} to train ({} steps), {} already complete",
            plan.origin,
            plan.runs.len(),
            plan.dataset,
            todo.len(),
            steps,
            plan.runs.len() - todo.len()
        ));
        if let Some(b) = &self.bar {
            b.set_length(steps);
            b.reset_eta();
        }
    }

    fn skipped(&mut self, index: usize, run: &PlannedRun) {
        self.say(format!(
            "[{}/{}] {}: complete, kept",
            index + 1,
            self.total,
            run.name
        ));
    }

    fn run_started(&mut self, index: usize, run: &PlannedRun) {
        self.current = run.name.clone();
        let head = format!("[{}/{}] {}", index + 1, self.total, run.name);
        match &self.bar {
            Some(b) => b.set_prefix(head),
            None => println!("{head}: training"),
        }
    }

    fn run_finished(&mut self, index: usize, row: &ResultRow) {
        self.say(format!(
            "[{}/{}] {}: AP {:.3}, AP50 {:.3}, AP75 {:.3} ({} steps, {:.0} s)",
            index + 1,
            self.total,
            row.run,
            row.stats[0],
            row.stats[1],
            row.stats[2],
            row.steps,
            row.seconds
        ));
    }

    fn run_failed(&mut self, index: usize, run: &PlannedRun, error: &str) {
        self.say(format!(
            "[{}/{}] {}: failed: {error}",
            index + 1,
            self.total,
            run.name
        ));
    }
}
