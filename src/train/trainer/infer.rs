//! Inference with the run's current model: per-anchor scores and detections for one image,
//! the COCO evaluation of a held-out split ([`crate::eval`]).

use super::Trainer;
use crate::backend::tensor::Tensor;
use crate::data::{Dataset, Sample};
use crate::eval::{EvalImage, HeldOutEval};
use crate::model::{HeadOutputs, flatten_outputs};
use crate::train::detect::{DetectConfig, Detection, detect};
use crate::train::input::images_to_tensor;
use rayon::prelude::*;

impl Trainer {
    /// Forward on the run's backend (no gradients kept for a step).
    fn forward_any(&mut self, x: &Tensor) -> HeadOutputs {
        self.sync_engine();
        self.engine.forward(x)
    }

    /// Per-anchor class probabilities `[anchors][C]` and detections for one image.
    pub fn predict(
        &mut self,
        image: &image::RgbImage,
        det: &DetectConfig,
    ) -> (Vec<f32>, Vec<Detection>) {
        let x = images_to_tensor(&[image]);
        let out = self.forward_any(&x);
        let (logits, deltas) = flatten_outputs(&out);
        let dets = detect(
            &self.anchors,
            &logits,
            &deltas,
            self.cfg.num_classes,
            &self.cfg.coder,
            self.size,
            det,
        );
        let probs = logits.iter().map(|&x| 1.0 / (1.0 + (-x).exp())).collect();
        (probs, dets)
    }

    /// The COCO evaluation (12 stats, per-class AP) of the first `n` images of `ds` (batches
    /// of `cfg.batch`), with the GT and detection records it was computed from.
    pub fn evaluate(&mut self, ds: &dyn Dataset, n: usize) -> Result<HeldOutEval, String> {
        let n = n.min(ds.len());
        let det_cfg = DetectConfig::default();
        let mut samples = Vec::with_capacity(n);
        let mut dets = Vec::with_capacity(n);
        let bs = self.cfg.batch.max(1);
        for start in (0..n).step_by(bs) {
            let chunk: Vec<Sample> = (start..(start + bs).min(n))
                .into_par_iter()
                .map(|i| ds.load(i).map_err(|e| e.to_string()))
                .collect::<Result<_, _>>()?;
            let imgs: Vec<&image::RgbImage> = chunk.iter().map(|s| &s.image).collect();
            let out = self.forward_any(&images_to_tensor(&imgs));
            let (logits, deltas) = flatten_outputs(&out);
            let (a, c) = (self.anchors.len(), self.cfg.num_classes);
            for k in 0..chunk.len() {
                dets.push(detect(
                    &self.anchors,
                    &logits[k * a * c..(k + 1) * a * c],
                    &deltas[k * a * 4..(k + 1) * a * 4],
                    c,
                    &self.cfg.coder,
                    self.size,
                    &det_cfg,
                ));
            }
            samples.extend(chunk);
        }
        let images: Vec<EvalImage> = samples
            .iter()
            .zip(&dets)
            .map(|(s, d)| EvalImage {
                size: s.size(),
                gt_boxes: &s.boxes,
                gt_classes: &s.classes,
                gt_crowd: &s.crowd,
                dets: d,
            })
            .collect();
        let mut names = ds.class_names();
        for k in names.len()..self.cfg.num_classes {
            names.push(format!("class {k}"));
        }
        HeldOutEval::evaluate(&images, &names).map_err(|e| format!("{}: {e}", ds.name()))
    }
}
