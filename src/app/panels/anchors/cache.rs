//! Per-inspection caches for the panels: results derived from an inspection are computed once
//! and kept in egui's temporary memory under a cheap fingerprint of the inspection.

use crate::inspect::Inspection;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Stride of the label / IoU samples hashed into [`inspection_key`].
const SAMPLE_STRIDE: usize = 61;

/// A cheap fingerprint of an inspection: its address, the addresses and lengths of its
/// per-anchor arrays, its GT boxes and every 61st label and IoU (O(anchors / 61)). Two
/// inspections alive at different times may share addresses; the sampled contents keep their
/// keys apart in practice.
pub fn inspection_key(ins: &Inspection) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (ins as *const Inspection as usize).hash(&mut h);
    (ins.assign.labels.as_ptr() as usize, ins.assign.labels.len()).hash(&mut h);
    (ins.anchors.boxes.as_ptr() as usize, ins.anchors.boxes.len()).hash(&mut h);
    for b in &ins.sample.boxes {
        b.map(f32::to_bits).hash(&mut h);
    }
    for i in (0..ins.assign.labels.len()).step_by(SAMPLE_STRIDE) {
        ins.assign.labels[i].hash(&mut h);
        ins.assign.max_iou.get(i).map(|v| v.to_bits()).hash(&mut h);
    }
    h.finish()
}

/// Returns the value cached under `id` when its key is `key`, else computes, stores and
/// returns it.
pub fn cached<T: Send + Sync + 'static>(
    ui: &egui::Ui,
    id: egui::Id,
    key: u64,
    compute: impl FnOnce() -> T,
) -> Arc<T> {
    let hit = ui.data(|d| d.get_temp::<(u64, Arc<T>)>(id));
    match hit {
        Some((k, v)) if k == key => v,
        _ => {
            let v = Arc::new(compute());
            ui.data_mut(|d| d.insert_temp(id, (key, v.clone())));
            v
        }
    }
}
