//! The Libra R-CNN comparison: max-IoU histograms of all negatives, of the sampler's picked
//! negatives and of a random pick of the same size.

use crate::app::plot_export::{PlotExports, Series};
use crate::inspect::Inspection;
use egui_plot::{Bar, BarChart, Legend, Plot};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Number of IoU bins.
pub const BINS: usize = 20;

/// One set of negatives binned by max IoU: `zero` have IoU 0, `bins` the rest over `(0, hi]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IouSet {
    /// Anchors in the set.
    pub len: usize,
    /// Anchors with IoU exactly 0.
    pub zero: usize,
    /// Anchors with IoU > 0 per bin.
    pub bins: Vec<usize>,
    /// Mean max IoU.
    pub mean: f64,
}

/// The three histograms compared on the sampler tab.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IouHistograms {
    /// Upper end of the IoU range (a multiple of 0.05).
    pub hi: f32,
    /// All negatives of the image.
    pub all: IouSet,
    /// The negatives the sampler picked.
    pub picked: IouSet,
    /// A uniform random pick of as many negatives.
    pub random: IouSet,
}

/// Bins the max IoU of the anchors `idx` over `(0, hi]` in [`BINS`] bins.
fn iou_set(max_iou: &[f32], idx: impl Iterator<Item = usize>, hi: f32) -> IouSet {
    let mut s = IouSet {
        bins: vec![0; BINS],
        ..Default::default()
    };
    let mut sum = 0.0;
    for i in idx {
        let v = max_iou[i];
        s.len += 1;
        sum += v as f64;
        if v <= 0.0 {
            s.zero += 1;
        } else {
            s.bins[((v / hi * BINS as f32) as usize).min(BINS - 1)] += 1;
        }
    }
    s.mean = sum / s.len.max(1) as f64;
    s
}

/// Histograms of all negatives, of `picked` and of a random pick of `picked.len()` negatives
/// drawn with a `ChaCha8Rng` seeded from `seed`.
pub fn iou_histograms(ins: &Inspection, picked: &[usize], seed: u64) -> IouHistograms {
    let max_iou = &ins.assign.max_iou;
    let negs = ins.assign.negatives();
    let top = negs.iter().map(|&i| max_iou[i]).fold(0.0f32, f32::max);
    let hi = ((top / 0.05).ceil() * 0.05).max(0.05);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x11B4_A5EE_D000_0001);
    let k = picked.len().min(negs.len());
    let random = rand::seq::index::sample(&mut rng, negs.len(), k);
    IouHistograms {
        hi,
        all: iou_set(max_iou, negs.iter().copied(), hi),
        picked: iou_set(max_iou, picked.iter().copied(), hi),
        random: iou_set(max_iou, random.iter().map(|j| negs[j]), hi),
    }
}

impl IouSet {
    /// Per-bin fractions; with `skip_zero` of the anchors with IoU > 0, otherwise of all of
    /// them with the IoU-0 anchors counted in the first bin.
    pub fn fractions(&self, skip_zero: bool) -> Vec<f64> {
        let total = if skip_zero {
            self.len - self.zero
        } else {
            self.len
        };
        let t = total.max(1) as f64;
        let mut f: Vec<f64> = self.bins.iter().map(|&c| c as f64 / t).collect();
        if !skip_zero && let Some(first) = f.first_mut() {
            *first += self.zero as f64 / t;
        }
        f
    }
}

/// The grouped bar chart with its CSV / PNG export buttons and the mean IoUs.
pub fn hist_ui(ui: &mut egui::Ui, h: &IouHistograms, skip_zero: bool, exports: &PlotExports) {
    let w = h.hi as f64 / BINS as f64;
    let sets = [
        (
            "All negatives",
            &h.all,
            egui::Color32::from_rgb(120, 120, 120),
        ),
        (
            "Picked negatives",
            &h.picked,
            egui::Color32::from_rgb(230, 120, 30),
        ),
        (
            "Random pick, same size",
            &h.random,
            egui::Color32::from_rgb(60, 140, 230),
        ),
    ];
    let series: Vec<Series> = sets
        .iter()
        .map(|(name, s, _)| {
            let f = s.fractions(skip_zero);
            let pts = f
                .iter()
                .enumerate()
                .map(|(b, &f)| [(b as f64 + 0.5) * w, f]);
            (name.to_string(), pts.collect())
        })
        .collect();
    let charts: Vec<BarChart> = sets
        .iter()
        .zip(&series)
        .enumerate()
        .map(|(k, ((name, _, color), (_, pts)))| {
            let bars = pts
                .iter()
                .map(|p| {
                    let bar = Bar::new(p[0] + (k as f64 - 1.0) * w / 3.0, p[1]).width(w / 3.0);
                    bar.fill(color.gamma_multiply(0.7))
                })
                .collect();
            BarChart::new(*name, bars).color(*color)
        })
        .collect();
    let resp = Plot::new("sampler_iou_histograms")
        .height(220.0)
        .legend(Legend::default())
        .x_axis_label("max IoU with any GT")
        .y_axis_label("fraction of the set")
        .allow_drag(false)
        .allow_scroll(false)
        .allow_zoom(false)
        .include_y(0.0)
        .show(ui, |p| {
            for c in charts {
                p.bar_chart(c);
            }
        });
    exports.buttons(ui, "sampler_iou_histograms", || series, resp.response.rect);
    ui.label(format!(
        "Mean IoU: all {:.3}, picked {:.3}, random {:.3}",
        h.all.mean, h.picked.mean, h.random.mean
    ));
    let pct = |s: &IouSet| 100.0 * s.zero as f64 / s.len.max(1) as f64;
    ui.label(format!(
        "IoU = 0: all {:.0}%, picked {:.0}%, random {:.0}%",
        pct(&h.all),
        pct(&h.picked),
        pct(&h.random)
    ));
}
