//! Statistics of a whole dataset under an anchor configuration, for the Dataset stats tab:
//! the class, box-size and centre distributions of the annotations and the labels the
//! assigner gives every anchor (foreground-foreground, scale, location and
//! foreground-background imbalance).

use super::Dataset;
use super::stats::{
    AnchorCounts, anchor_label_counts, centre_heatmap, class_counts, max_iou_histogram,
};
use crate::config::LabConfig;
use crate::geometry::area;

/// Dataset-wide statistics computed on a worker thread for the Stats tab.
#[derive(Clone, Debug, Default)]
pub struct DatasetStats {
    /// Images the statistics cover.
    pub images: usize,
    /// Class names.
    pub class_names: Vec<String>,
    /// GT count per class (foreground-foreground imbalance).
    pub class_counts: Vec<u64>,
    /// Fraction of the images that contain each class (EQL's class frequencies).
    pub image_class_freq: Vec<f64>,
    /// Box widths, heights and areas (px, px, px^2): scale imbalance.
    pub widths: Vec<f32>,
    /// See `widths`.
    pub heights: Vec<f32>,
    /// See `widths`.
    pub areas: Vec<f32>,
    /// Normalised centre heatmap, `grid x grid`, row-major, sums to 1 (location imbalance).
    pub centre_heatmap: Vec<f32>,
    /// Side of the heatmap grid.
    pub grid: usize,
    /// Anchor labels summed over the images (foreground-background imbalance).
    pub anchor_counts: AnchorCounts,
    /// Max IoU of every anchor of every image with its best GT, binned 0..1 in 50 bins.
    pub anchor_max_iou_counts: Vec<u64>,
}

/// Statistics over the first `images` images of `ds` (progress reported every 5%).
pub fn dataset_stats(
    ds: &dyn Dataset,
    images: usize,
    lab: &LabConfig,
    progress: impl Fn(f32),
) -> Result<DatasetStats, String> {
    let n = images.min(ds.len());
    let class_names = ds.class_names();
    let mut st = DatasetStats {
        images: n,
        class_names: class_names.clone(),
        grid: 16,
        ..Default::default()
    };
    let mut views = Vec::with_capacity(n);
    let mut iou_counts = vec![0u64; 50];
    let step = (n / 20).max(1);
    for i in 0..n {
        let s = ds.load(i).map_err(|e| e.to_string())?;
        let (w, h) = s.size();
        // crowd / difficult regions are not objects: they only make anchors ignored
        let (gts, gt_classes, ignore) = s.split_crowd();
        for b in gts {
            st.widths.push(b[2] - b[0]);
            st.heights.push(b[3] - b[1]);
            st.areas.push(area(b));
        }
        let anchors = lab.anchors.generate(w, h);
        let a = lab.assign_sample(&anchors, gts, ignore);
        let c = anchor_label_counts(&a.labels);
        st.anchor_counts.fg += c.fg;
        st.anchor_counts.bg += c.bg;
        st.anchor_counts.ignored += c.ignored;
        for (k, v) in max_iou_histogram(&a.max_iou, 50).counts.iter().enumerate() {
            iou_counts[k] += v;
        }
        views.push((gts.to_vec(), gt_classes.to_vec(), (w, h)));
        if i % step == 0 {
            progress(i as f32 / n.max(1) as f32);
        }
    }
    let items = || {
        views
            .iter()
            .map(|(b, c, wh)| (b.as_slice(), c.as_slice(), *wh))
    };
    st.class_counts = class_counts(items(), class_names.len());
    st.image_class_freq = crate::losses::classification::eql_class_freq(
        views.iter().map(|(_, c, _)| c.as_slice()),
        class_names.len(),
    );
    st.centre_heatmap = centre_heatmap(items(), st.grid);
    st.anchor_max_iou_counts = iou_counts;
    progress(1.0);
    Ok(st)
}
