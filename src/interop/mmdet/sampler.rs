//! The sampler under MMDetection 3's sampler classes (and PISA's `train_cfg` keys).

use crate::interop::py::{Py, dict, f32v, i, s};
use crate::sample::SamplerConfig;

/// The sampler, extra `train_cfg` keys, and whether the head is PISA's.
pub(super) fn sampler(c: &SamplerConfig, notes: &mut Vec<String>) -> (Py, Vec<(String, Py)>, bool) {
    let pseudo = || dict([("type", s("PseudoSampler"))]);
    let base = |name: &str, num: usize, pos: f32, ub: f32| {
        dict([
            ("type", s(name)),
            ("num", i(num as i64)),
            ("pos_fraction", f32v(pos)),
            ("neg_pos_ub", f32v(ub)),
            ("add_gt_as_proposals", Py::Bool(false)),
        ])
    };
    match c {
        SamplerConfig::None => (pseudo(), vec![], false),
        SamplerConfig::Random(r) => (
            base("RandomSampler", r.num, r.pos_fraction, r.neg_pos_ub),
            vec![],
            false,
        ),
        SamplerConfig::HardNegative(h) => {
            notes.push(format!(
                "sampler: SSD hard negative mining ({} negatives a positive) is SSDHead's train_cfg neg_pos_ratio, which RetinaHead ignores",
                h.neg_pos_ratio
            ));
            (
                pseudo(),
                vec![("neg_pos_ratio".into(), f32v(h.neg_pos_ratio))],
                false,
            )
        }
        SamplerConfig::Ohem(o) => {
            notes.push("sampler: OHEMSampler ranks by an RoI head's loss (its context); MMDetection runs it in two-stage detectors".into());
            (
                base("OHEMSampler", o.num, o.pos_fraction, o.neg_pos_ub),
                vec![],
                false,
            )
        }
        SamplerConfig::IouBalanced(b) => {
            let neg = |d: &mut Py| {
                d.set("floor_thr", f32v(b.floor_thr));
                d.set("floor_fraction", f32v(b.floor_fraction));
                d.set("num_bins", i(b.num_bins as i64));
            };
            if b.instance_balanced_pos {
                let mut n = dict([("type", s("IoUBalancedNegSampler"))]);
                neg(&mut n);
                let mut d = base("CombinedSampler", b.num, b.pos_fraction, b.neg_pos_ub);
                d.set(
                    "pos_sampler",
                    dict([("type", s("InstanceBalancedPosSampler"))]),
                );
                d.set("neg_sampler", n);
                (d, vec![], false)
            } else {
                let mut d = base("IoUBalancedNegSampler", b.num, b.pos_fraction, b.neg_pos_ub);
                neg(&mut d);
                (d, vec![], false)
            }
        }
        SamplerConfig::InstanceBalanced(b) => (
            base(
                "InstanceBalancedPosSampler",
                b.num,
                b.pos_fraction,
                b.neg_pos_ub,
            ),
            vec![],
            false,
        ),
        SamplerConfig::Pisa(p) => {
            let extra = vec![
                (
                    "isr".into(),
                    dict([("k", f32v(p.isr_k)), ("bias", f32v(p.isr_bias))]),
                ),
                (
                    "carl".into(),
                    dict([("k", f32v(p.carl_k)), ("bias", f32v(p.carl_bias))]),
                ),
            ];
            if p.dense {
                (pseudo(), extra, true)
            } else {
                notes.push("sampler: ScoreHLRSampler ranks by an RoI head's scores (its context); MMDetection's PISA uses it in two-stage detectors".into());
                let mut d = base("ScoreHLRSampler", p.num, p.pos_fraction, p.neg_pos_ub);
                d.set("k", f32v(p.hlr.k));
                d.set("bias", f32v(p.hlr.bias));
                d.set("score_thr", f32v(p.hlr.score_thr));
                d.set("iou_thr", f32v(p.hlr.iou_thr));
                (d, extra, true)
            }
        }
    }
}
