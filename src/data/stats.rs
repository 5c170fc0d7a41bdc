//! Dataset statistics for the imbalance plots: pure functions over annotation views
//! (`(boxes, classes, (width, height))`, see [`AnnotationView`]) or over anchor outputs.
//!
//! - class imbalance: [`class_counts`];
//! - scale imbalance: [`box_histogram`] of widths, heights, areas or sqrt-areas;
//! - location imbalance: [`centre_heatmap`];
//! - foreground / background imbalance: [`anchor_label_counts`], [`max_iou_histogram`].

use crate::geometry::{Box4, area};

use super::AnnotationView;

/// A histogram: `counts[i]` values fell in `[edges[i], edges[i+1])`, the last bin also takes
/// its right edge (numpy's convention). Values outside the edges and NaN are not counted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Histogram {
    /// Bin edges, increasing, `counts.len() + 1` of them.
    pub edges: Vec<f32>,
    /// Number of values per bin.
    pub counts: Vec<u64>,
}

/// `bins` equal-width bins over `[lo, hi]` (`bins + 1` edges).
pub fn linear_edges(lo: f32, hi: f32, bins: usize) -> Vec<f32> {
    let bins = bins.max(1);
    (0..=bins)
        .map(|i| lo + (hi - lo) * i as f32 / bins as f32)
        .collect()
}

/// `bins` log-spaced bins over `[lo, hi]`, `0 < lo < hi` (for box sizes and areas).
pub fn log_edges(lo: f32, hi: f32, bins: usize) -> Vec<f32> {
    let bins = bins.max(1);
    let (a, b) = (
        lo.max(f32::MIN_POSITIVE).ln(),
        hi.max(f32::MIN_POSITIVE).ln(),
    );
    let mut e: Vec<f32> = (0..=bins)
        .map(|i| (a + (b - a) * i as f32 / bins as f32).exp())
        .collect();
    // Pin the ends exactly so values equal to `lo` / `hi` are counted.
    e[0] = lo;
    e[bins] = hi;
    e
}

impl Histogram {
    /// Counts `values` into the bins given by `edges` (increasing; fewer than 2 edges gives an
    /// empty histogram).
    pub fn new(values: impl IntoIterator<Item = f32>, edges: Vec<f32>) -> Self {
        let bins = edges.len().saturating_sub(1);
        let mut counts = vec![0u64; bins];
        if bins > 0 {
            let (lo, hi) = (edges[0], edges[bins]);
            for v in values {
                if !(v >= lo && v <= hi) {
                    continue;
                }
                // Index of the last edge <= v, capped to the last bin.
                let i = edges
                    .partition_point(|&e| e <= v)
                    .saturating_sub(1)
                    .min(bins - 1);
                counts[i] += 1;
            }
        }
        Self { edges, counts }
    }

    /// `bins` equal-width bins over `[lo, hi]`.
    pub fn linear(values: impl IntoIterator<Item = f32>, lo: f32, hi: f32, bins: usize) -> Self {
        Self::new(values, linear_edges(lo, hi, bins))
    }

    /// `bins` log-spaced bins over `[lo, hi]`.
    pub fn log(values: impl IntoIterator<Item = f32>, lo: f32, hi: f32, bins: usize) -> Self {
        Self::new(values, log_edges(lo, hi, bins))
    }

    /// Number of counted values.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Bin centres (geometric centres when `log` is set, for log-spaced edges).
    pub fn centres(&self, log: bool) -> Vec<f32> {
        self.edges
            .windows(2)
            .map(|w| {
                if log {
                    (w[0] * w[1]).sqrt()
                } else {
                    0.5 * (w[0] + w[1])
                }
            })
            .collect()
    }

    /// Counts as fractions of the total (all 0 when empty).
    pub fn fractions(&self) -> Vec<f32> {
        let t = self.total().max(1) as f32;
        self.counts.iter().map(|&c| c as f32 / t).collect()
    }
}

/// Objects per class. The result has `num_classes` entries, more if a larger class occurs.
pub fn class_counts<'a>(
    items: impl IntoIterator<Item = AnnotationView<'a>>,
    num_classes: usize,
) -> Vec<u64> {
    let mut counts = vec![0u64; num_classes];
    for (_, classes, _) in items {
        for &c in classes {
            if c >= counts.len() {
                counts.resize(c + 1, 0);
            }
            counts[c] += 1;
        }
    }
    counts
}

/// Which box measure a scale histogram counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoxMeasure {
    /// Box width in pixels.
    Width,
    /// Box height in pixels.
    Height,
    /// Box area in square pixels (COCO small / medium / large split at 32^2 and 96^2).
    Area,
    /// Square root of the area in pixels (the "scale" of a box).
    SqrtArea,
}

impl BoxMeasure {
    /// The measure of one box.
    pub fn of(self, b: &Box4) -> f32 {
        match self {
            BoxMeasure::Width => (b[2] - b[0]).max(0.0),
            BoxMeasure::Height => (b[3] - b[1]).max(0.0),
            BoxMeasure::Area => area(b),
            BoxMeasure::SqrtArea => area(b).sqrt(),
        }
    }
}

/// Histogram of a box measure over all boxes (scale imbalance); use [`log_edges`] for sizes.
pub fn box_histogram<'a>(
    items: impl IntoIterator<Item = AnnotationView<'a>>,
    measure: BoxMeasure,
    edges: Vec<f32>,
) -> Histogram {
    let values = items
        .into_iter()
        .flat_map(|(boxes, _, _)| boxes.iter().map(move |b| measure.of(b)));
    Histogram::new(values, edges)
}

/// Normalised heatmap of box centres (location imbalance): a `grid x grid` row-major array over
/// normalised image coordinates (`cell = (row, col)` from `(cy / h, cx / w)`, clamped to the
/// image), summing to 1 (all zeros when there is no box).
pub fn centre_heatmap<'a>(
    items: impl IntoIterator<Item = AnnotationView<'a>>,
    grid: usize,
) -> Vec<f32> {
    let g = grid.max(1);
    let mut counts = vec![0u64; g * g];
    for (boxes, _, (w, h)) in items {
        let (w, h) = (w.max(1) as f32, h.max(1) as f32);
        for b in boxes {
            let (cx, cy) = (0.5 * (b[0] + b[2]) / w, 0.5 * (b[1] + b[3]) / h);
            if !(cx.is_finite() && cy.is_finite()) {
                continue;
            }
            let cell = |v: f32| ((v * g as f32).floor().max(0.0) as usize).min(g - 1);
            counts[cell(cy) * g + cell(cx)] += 1;
        }
    }
    let total: u64 = counts.iter().sum();
    let t = total.max(1) as f64;
    counts.iter().map(|&c| (c as f64 / t) as f32).collect()
}

/// Anchor counts by assignment label: foreground (> 0), background (0) and ignored (-1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AnchorCounts {
    /// Positive anchors (label > 0).
    pub fg: u64,
    /// Negative anchors (label 0).
    pub bg: u64,
    /// Ignored anchors (label < 0).
    pub ignored: u64,
}

impl AnchorCounts {
    /// All anchors.
    pub fn total(&self) -> u64 {
        self.fg + self.bg + self.ignored
    }

    /// Negatives per positive (`inf` when there is no positive).
    pub fn bg_per_fg(&self) -> f64 {
        if self.fg == 0 {
            f64::INFINITY
        } else {
            self.bg as f64 / self.fg as f64
        }
    }
}

/// Counts assignment labels (`-1` ignored, `0` negative, `k > 0` positive).
pub fn anchor_label_counts(labels: &[i32]) -> AnchorCounts {
    let mut c = AnchorCounts::default();
    for &l in labels {
        match l {
            l if l > 0 => c.fg += 1,
            0 => c.bg += 1,
            _ => c.ignored += 1,
        }
    }
    c
}

/// Histogram of anchors' max IoU with any GT, `bins` equal bins over `[0, 1]`.
pub fn max_iou_histogram(max_iou: &[f32], bins: usize) -> Histogram {
    Histogram::linear(max_iou.iter().copied(), 0.0, 1.0, bins)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_counts_hand_made_values() {
        let h = Histogram::new(
            [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, -0.1, 3.1, f32::NAN],
            vec![0.0, 1.0, 2.0, 3.0],
        );
        assert_eq!(h.counts, [2, 2, 2]);
        assert_eq!(h.total(), 6);
        assert_eq!(h.centres(false), [0.5, 1.5, 2.5]);
        assert_eq!(h.fractions(), [1.0 / 3.0; 3]);
        let lin = Histogram::linear([0.05, 0.15, 0.15, 0.95, 1.0], 0.0, 1.0, 10);
        assert_eq!(lin.counts, [1, 2, 0, 0, 0, 0, 0, 0, 0, 2]);
        assert!(Histogram::new([1.0], vec![0.0]).counts.is_empty());
    }

    #[test]
    fn log_edges_and_histogram() {
        let e = log_edges(1.0, 1000.0, 3);
        assert_eq!(e.len(), 4);
        assert!((e[1] - 10.0).abs() < 1e-3 && (e[2] - 100.0).abs() < 1e-2);
        let h = Histogram::log([1.0, 5.0, 10.5, 99.0, 500.0, 1000.0, 0.5], 1.0, 1000.0, 3);
        assert_eq!(h.counts, [2, 2, 2]);
        let c = h.centres(true);
        assert!((c[0] - 10f32.sqrt()).abs() < 1e-3);
    }

    fn views() -> Vec<(Vec<Box4>, Vec<usize>, (u32, u32))> {
        vec![
            (
                vec![[0.0, 0.0, 10.0, 20.0], [50.0, 50.0, 90.0, 60.0]],
                vec![0, 2],
                (100, 100),
            ),
            (vec![[0.0, 0.0, 4.0, 4.0]], vec![0], (200, 100)),
            (vec![], vec![], (100, 100)),
        ]
    }

    #[test]
    fn class_counts_and_box_histograms() {
        let v = views();
        let it = || v.iter().map(|(b, c, s)| (b.as_slice(), c.as_slice(), *s));
        assert_eq!(class_counts(it(), 3), [2, 0, 1]);
        assert_eq!(
            class_counts(it(), 1),
            [2, 0, 1],
            "grows to the largest class"
        );
        let w = box_histogram(it(), BoxMeasure::Width, vec![0.0, 8.0, 32.0, 64.0]);
        assert_eq!(w.counts, [1, 1, 1]);
        let h = box_histogram(it(), BoxMeasure::Height, vec![0.0, 8.0, 32.0]);
        assert_eq!(h.counts, [1, 2]);
        let a = box_histogram(it(), BoxMeasure::Area, vec![0.0, 32.0 * 32.0, 96.0 * 96.0]);
        assert_eq!(a.counts, [3, 0]);
        let s = box_histogram(it(), BoxMeasure::SqrtArea, vec![0.0, 5.0, 15.0, 25.0]);
        assert_eq!(s.counts, [1, 1, 1]);
    }

    #[test]
    fn heatmap_cells_and_sum() {
        let v = views();
        let hm = centre_heatmap(
            v.iter().map(|(b, c, s)| (b.as_slice(), c.as_slice(), *s)),
            2,
        );
        // Centres (normalised): (0.05, 0.1) -> cell 0; (0.7, 0.55) -> cell 3; (0.01, 0.02) -> 0.
        assert_eq!(hm, [2.0 / 3.0, 0.0, 0.0, 1.0 / 3.0]);
        assert!((hm.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        let none = centre_heatmap(std::iter::empty(), 4);
        assert_eq!(none, vec![0.0; 16]);
        // A centre exactly on the right/bottom border stays in the last cell.
        let b = [[90.0, 90.0, 110.0, 110.0]];
        let edge = centre_heatmap([(&b[..], &[0usize][..], (100, 100))], 4);
        assert_eq!(edge[15], 1.0);
    }

    #[test]
    fn anchor_labels_and_iou_histogram() {
        let c = anchor_label_counts(&[-1, 0, 0, 0, 1, 3, 0, -1]);
        assert_eq!(
            c,
            AnchorCounts {
                fg: 2,
                bg: 4,
                ignored: 2
            }
        );
        assert_eq!(c.total(), 8);
        assert_eq!(c.bg_per_fg(), 2.0);
        assert!(anchor_label_counts(&[0]).bg_per_fg().is_infinite());
        let h = max_iou_histogram(&[0.0, 0.1, 0.39, 0.4, 0.5, 0.99, 1.0], 5);
        assert_eq!(h.counts, [2, 1, 2, 0, 2]);
    }
}
