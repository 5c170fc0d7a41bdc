//! The shipped sweeps (`sweep --preset NAME`), TOML files under `assets/sweeps/`.

/// `(name, one-line description, TOML text)` of each preset.
pub const PRESETS: [(&str, &str, &str); 4] = [
    (
        "focal-ablation",
        "focal loss gamma 0-5 x alpha 0.25-0.75, CE with and without the prior (17 runs)",
        include_str!("../../assets/sweeps/focal-ablation.toml"),
    ),
    (
        "sampler-ablation",
        "focal over all anchors vs CE with random 1:3, hard-negative, OHEM, IoU-balanced, PISA (6 runs)",
        include_str!("../../assets/sweeps/sampler-ablation.toml"),
    ),
    (
        "regression-ablation",
        "smooth L1, L1, balanced L1, GIoU, DIoU, CIoU (6 runs)",
        include_str!("../../assets/sweeps/regression-ablation.toml"),
    ),
    (
        "hard-positives",
        "focal loss with hard-positive occlusion off / on x rotation 0 / 10 degrees (4 runs)",
        include_str!("../../assets/sweeps/hard-positives.toml"),
    ),
];

/// The TOML text of preset `name`.
pub fn preset(name: &str) -> Option<&'static str> {
    PRESETS.iter().find(|p| p.0 == name).map(|p| p.2)
}
