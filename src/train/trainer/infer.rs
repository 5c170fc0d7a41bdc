//! Inference with the run's current model: per-anchor scores and detections for one image,
//! AP on a held-out split.

use super::Trainer;
use crate::backend::tensor::Tensor;
use crate::data::{Dataset, Sample};
use crate::model::{HeadOutputs, flatten_outputs};
use crate::train::batch::images_to_tensor;
use crate::train::detect::{DetectConfig, Detection, detect};
use crate::train::eval::{ApSummary, EvalImage, evaluate};
use rayon::prelude::*;

impl Trainer {
    /// Forward on the run's backend (no gradients kept for a step).
    fn forward_any(&mut self, x: &Tensor) -> HeadOutputs {
        self.sync_gpu();
        match &mut self.gpu {
            Some(g) => g.forward(x),
            None => self.model.forward(x),
        }
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

    /// AP on the first `n` images of `ds` (batches of `cfg.batch`).
    pub fn evaluate(&mut self, ds: &dyn Dataset, n: usize) -> Result<ApSummary, String> {
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
            .map(|(s, d)| {
                // crowd / difficult regions are not GT to find (detections on them count as FP)
                let (gt_boxes, gt_classes, _) = s.split_crowd();
                EvalImage {
                    gt_boxes,
                    gt_classes,
                    dets: d,
                }
            })
            .collect();
        Ok(evaluate(&images, self.cfg.num_classes))
    }
}
