//! GHM-C, the gradient harmonizing classification loss (Li et al. 2019), as MMDetection's
//! `GHMC`: each element is weighted by the inverse density of its gradient norm
//! `g = |p - y|`.
//!
//! `[0, 1]` is split into `bins` equal bins (the last edge is `1 + 1e-6`, so `g = 1` falls in
//! the last bin). With `N` elements and `n_valid` non-empty bins, an element in a bin holding
//! `n_bin` elements gets `w = N / (n_bin * n_valid)`. With `momentum > 0`, `n_bin` is replaced
//! by an exponential moving average kept in [`GhmCState`] across calls,
//! `acc = momentum * acc + (1 - momentum) * n_bin`, updated only for non-empty bins and
//! starting from 0 (so a fresh state gives `N / ((1 - momentum) n_bin n_valid)`, exactly as
//! MMDetection's first iteration). The weights are constants in backward: the loss is
//! `w * BCE` and its gradient `w (p - y)`. MMDetection's mean divides the sum by `N`.

use serde::{Deserialize, Serialize};

use super::stable::sigmoid;

/// Default number of bins (MMDetection; RetinaNet-GHM configs use 30).
pub const GHM_BINS: usize = 10;
/// Default momentum (MMDetection; RetinaNet-GHM configs use 0.75).
pub const GHM_MOMENTUM: f64 = 0.0;

/// The bin counts' moving average that GHM-C keeps between training steps.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GhmCState {
    /// One accumulated count per bin; re-initialised to zeros when the number of bins changes.
    pub acc_sum: Vec<f64>,
}

/// The bin of gradient norm `g` in `[0, 1]`, comparing with the edges `i / bins` as
/// MMDetection does (`edges[i] <= g < edges[i + 1]`, last edge `1 + 1e-6`).
pub fn ghm_bin(g: f64, bins: usize) -> usize {
    let b = bins as f64;
    let mut i = ((g * b) as usize).min(bins - 1);
    if i > 0 && g < i as f64 / b {
        i -= 1;
    } else if i + 1 < bins && g >= (i + 1) as f64 / b {
        i += 1;
    }
    i
}

/// Per-bin weights from per-bin counts, `tot` elements in all; updates `state` when
/// `momentum > 0`. Empty bins get weight 0.
pub fn ghm_bin_weights(counts: &[f64], tot: f64, momentum: f64, state: &mut GhmCState) -> Vec<f64> {
    let bins = counts.len();
    if momentum > 0.0 && state.acc_sum.len() != bins {
        state.acc_sum = vec![0.0; bins];
    }
    let mut w = vec![0.0; bins];
    let mut n_valid = 0usize;
    for (i, &n) in counts.iter().enumerate() {
        if n > 0.0 {
            w[i] = if momentum > 0.0 {
                let acc = &mut state.acc_sum[i];
                *acc = momentum * *acc + (1.0 - momentum) * n;
                tot / *acc
            } else {
                tot / n
            };
            n_valid += 1;
        }
    }
    if n_valid > 0 {
        w.iter_mut().for_each(|v| *v /= n_valid as f64);
    }
    w
}

/// The GHM-C weight of every element (hard targets `y` in {0, 1}, `bins >= 1`).
pub fn ghm_c_weights(
    logits: &[f64],
    targets: &[f64],
    bins: usize,
    momentum: f64,
    state: &mut GhmCState,
) -> Vec<f64> {
    let idx: Vec<usize> = logits
        .iter()
        .zip(targets)
        .map(|(&x, &y)| ghm_bin((sigmoid(x) - y).abs(), bins))
        .collect();
    let mut counts = vec![0.0; bins];
    idx.iter().for_each(|&i| counts[i] += 1.0);
    let tot = (logits.len() as f64).max(1.0);
    let w = ghm_bin_weights(&counts, tot, momentum, state);
    idx.iter().map(|&i| w[i]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GHM-C weights N / (n_bin * n_valid_bins) (Li et al. 2019; MMDetection `GHMC`), worked
    /// by hand: N = 100, 90 samples with g < 0.1 and 10 with g >= 0.9, 10 bins:
    /// weights 0.5556 and 5.0.
    fn reference_batch() -> (Vec<f64>, Vec<f64>) {
        // Logit -5: p = 0.0067. Negatives have g = p < 0.1, positives g = 1 - p >= 0.9.
        let logits = vec![-5.0; 100];
        let targets = (0..100).map(|i| if i < 90 { 0.0 } else { 1.0 }).collect();
        (logits, targets)
    }

    #[test]
    fn weights_match_reference_example() {
        let (x, y) = reference_batch();
        let w = ghm_c_weights(&x, &y, GHM_BINS, 0.0, &mut GhmCState::default());
        assert_eq!(format!("{:.4}", w[0]), "0.5556");
        assert!((w[0] - 100.0 / 180.0).abs() < 1e-12);
        assert!((w[99] - 5.0).abs() < 1e-12);
    }

    #[test]
    fn momentum_keeps_a_moving_average_between_calls() {
        let (x, y) = reference_batch();
        let mut state = GhmCState::default();
        let w1 = ghm_c_weights(&x, &y, GHM_BINS, 0.75, &mut state);
        // First call: acc = 0.25 n_bin.
        assert!((state.acc_sum[0] - 22.5).abs() < 1e-12 && (state.acc_sum[9] - 2.5).abs() < 1e-12);
        assert!((w1[0] - 100.0 / (22.5 * 2.0)).abs() < 1e-12);
        let w2 = ghm_c_weights(&x, &y, GHM_BINS, 0.75, &mut state);
        // Second call: acc = 0.75 * 22.5 + 0.25 * 90 = 39.375.
        assert!((state.acc_sum[0] - 39.375).abs() < 1e-12);
        assert!((w2[0] - 100.0 / (39.375 * 2.0)).abs() < 1e-12);
        // Bins untouched by this batch keep their count.
        assert_eq!(state.acc_sum[5], 0.0);
    }

    #[test]
    fn bins_follow_the_edges() {
        assert_eq!(ghm_bin(0.0, 10), 0);
        assert_eq!(ghm_bin(0.1, 10), 1);
        assert_eq!(ghm_bin(0.3, 10), 3);
        assert_eq!(ghm_bin(0.7, 10), 7);
        assert_eq!(ghm_bin(0.0999999, 10), 0);
        assert_eq!(ghm_bin(1.0, 10), 9);
        assert_eq!(ghm_bin(0.5, 1), 0);
        assert_eq!(ghm_bin(1.0, 30), 29);
    }
}
