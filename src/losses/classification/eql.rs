//! Equalization loss (EQL, Tan et al. 2020), sigmoid form of the official implementation.
//!
//! Elements are laid out row-major `N x C` (one row per anchor or proposal, one column per
//! class). The weight of element `(r, j)` is `w = 1 - E(r) T(f_j) (1 - y_rj)`, where
//! `E(r) = 1` for a foreground row (any target in the row is positive) and 0 otherwise, and
//! `T(f_j) = 1` when the class frequency `f_j < lambda`. So a foreground anchor sends no
//! negative gradient to rare classes. The weight is a constant: the loss is `w * BCE` and
//! its gradient `w (p - y)`.

/// Default `lambda` (frequency threshold): 0.00177 as in the official EQL code
/// (the paper quotes 1.76e-3 for LVIS).
pub const EQL_LAMBDA: f64 = 0.00177;

/// EQL's class frequencies: `f_j` = the fraction of `images` (each given by its GT classes)
/// that contain class `j`; `num_classes` entries (0 for every class when there is no image).
pub fn eql_class_freq<'a>(
    images: impl IntoIterator<Item = &'a [usize]>,
    num_classes: usize,
) -> Vec<f64> {
    let mut with = vec![0usize; num_classes];
    let mut n = 0usize;
    for classes in images {
        n += 1;
        let mut seen = vec![false; num_classes];
        for &c in classes.iter().filter(|&&c| c < num_classes) {
            if !std::mem::replace(&mut seen[c], true) {
                with[c] += 1;
            }
        }
    }
    with.iter()
        .map(|&k| if n > 0 { k as f64 / n as f64 } else { 0.0 })
        .collect()
}

/// The EQL weights for `targets` laid out `N x C` with `C = class_freq.len()`.
///
/// `class_freq[j]` is the frequency of class `j` (the fraction of training images that
/// contain it, in `[0, 1]`). Errors when `class_freq` is empty or the number of targets is
/// not a multiple of `C`.
pub fn eql_weights(targets: &[f64], class_freq: &[f64], lambda: f64) -> Result<Vec<f64>, String> {
    let c = class_freq.len();
    if c == 0 {
        return Err("eql: class_freq is empty (need one frequency per class)".into());
    }
    if !targets.len().is_multiple_of(c) {
        return Err(format!(
            "eql: {} elements is not a multiple of num_classes {c} (rows are laid out N x C)",
            targets.len()
        ));
    }
    let rare: Vec<bool> = class_freq.iter().map(|&f| f < lambda).collect();
    let mut w = Vec::with_capacity(targets.len());
    for row in targets.chunks_exact(c) {
        let foreground = row.iter().any(|&y| y > 0.0);
        for (j, &y) in row.iter().enumerate() {
            let e = if foreground { 1.0 } else { 0.0 };
            let t = if rare[j] { 1.0 } else { 0.0 };
            w.push(1.0 - e * t * (1.0 - y));
        }
    }
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_frequency_is_the_share_of_images_with_the_class() {
        // 4 images: class 0 in 3 of them (twice in one), class 1 in 1, class 2 in none
        let imgs: [&[usize]; 4] = [&[0, 0], &[0, 1], &[0], &[]];
        assert_eq!(eql_class_freq(imgs, 3), vec![0.75, 0.25, 0.0]);
        assert_eq!(eql_class_freq(std::iter::empty(), 2), vec![0.0, 0.0]);
    }

    #[test]
    fn foreground_rows_drop_negatives_of_rare_classes_only() {
        // 3 classes: class 1 is rare. Row 0 is foreground (class 0), row 1 is background.
        let freq = [0.5, 0.001, 0.2];
        let targets = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let w = eql_weights(&targets, &freq, EQL_LAMBDA).unwrap();
        assert_eq!(w, vec![1.0, 0.0, 1.0, 1.0, 1.0, 1.0]);
        // A rare class's own positive keeps its weight.
        let w = eql_weights(&[0.0, 1.0, 0.0], &freq, EQL_LAMBDA).unwrap();
        assert_eq!(w, vec![1.0, 1.0, 1.0]);
    }

    #[test]
    fn threshold_is_strict() {
        let w = eql_weights(&[0.0, 1.0], &[EQL_LAMBDA, 0.5], EQL_LAMBDA).unwrap();
        assert_eq!(w, vec![1.0, 1.0], "f_j == lambda is not rare");
    }

    #[test]
    fn rejects_bad_layout() {
        assert!(eql_weights(&[0.0; 5], &[0.1, 0.2], EQL_LAMBDA).is_err());
        assert!(eql_weights(&[0.0; 4], &[], EQL_LAMBDA).is_err());
    }
}
