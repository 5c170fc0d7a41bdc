//! The outcome of an assigner: one label per anchor.

use serde::{Deserialize, Serialize};

/// Per-anchor assignment. Labels follow MMDetection: `-1` ignored, `0` negative,
/// `k > 0` positive for GT `k - 1`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AssignResult {
    /// Per anchor: `-1` ignored, `0` negative, `k > 0` matched GT `k - 1`.
    pub labels: Vec<i32>,
    /// Per anchor: its largest IoU over all GTs (0 when there is no GT).
    pub max_iou: Vec<f32>,
    /// Per anchor: the matched GT index (`label - 1`) for positives, `-1` otherwise.
    pub matched_gt: Vec<i32>,
}

impl AssignResult {
    /// Builds a result from labels and IoUs; `matched_gt` is derived from the labels.
    pub fn from_labels(labels: Vec<i32>, max_iou: Vec<f32>) -> Self {
        assert_eq!(
            labels.len(),
            max_iou.len(),
            "AssignResult: one IoU per label"
        );
        let matched_gt = labels
            .iter()
            .map(|&l| if l > 0 { l - 1 } else { -1 })
            .collect();
        Self {
            labels,
            max_iou,
            matched_gt,
        }
    }

    /// Number of anchors.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no anchors.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Number of positive anchors.
    pub fn num_pos(&self) -> usize {
        self.labels.iter().filter(|&&l| l > 0).count()
    }

    /// Number of negative anchors.
    pub fn num_neg(&self) -> usize {
        self.labels.iter().filter(|&&l| l == 0).count()
    }

    /// Number of ignored anchors.
    pub fn num_ignored(&self) -> usize {
        self.labels.iter().filter(|&&l| l < 0).count()
    }

    /// Positives per GT (`num_gts` entries; labels beyond `num_gts` are not counted).
    pub fn pos_per_gt(&self, num_gts: usize) -> Vec<usize> {
        let mut out = vec![0; num_gts];
        for &l in &self.labels {
            if l > 0 && (l as usize) <= num_gts {
                out[l as usize - 1] += 1;
            }
        }
        out
    }

    /// Indices of the positive anchors, ascending.
    pub fn positives(&self) -> Vec<usize> {
        (0..self.labels.len())
            .filter(|&i| self.labels[i] > 0)
            .collect()
    }

    /// Indices of the negative anchors, ascending.
    pub fn negatives(&self) -> Vec<usize> {
        (0..self.labels.len())
            .filter(|&i| self.labels[i] == 0)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_indices() {
        let r =
            AssignResult::from_labels(vec![0, 2, -1, 1, 2, 0], vec![0.1, 0.6, 0.45, 0.7, 0.5, 0.0]);
        assert_eq!(r.matched_gt, vec![-1, 1, -1, 0, 1, -1]);
        assert_eq!((r.num_pos(), r.num_neg(), r.num_ignored()), (3, 2, 1));
        assert_eq!(r.pos_per_gt(3), vec![1, 2, 0]);
        assert_eq!(r.positives(), vec![1, 3, 4]);
        assert_eq!(r.negatives(), vec![0, 5]);
        assert_eq!(r.len(), 6);
    }
}
