//! Training: targets, the per-anchor loss on head outputs, the optimizer loop, the trainer thread.
//!
//! Model-independent parts, working on flat head outputs (logits `[N][A][C]`, deltas
//! `[N][A][4]` in anchor generation order): [`TrainConfig`], the [`objective`] with its
//! gradients, post-processing ([`detect`]), [`checkpoint`]s and per-step [`metrics`]. Evaluation
//! lives in [`crate::eval`].

pub mod backend_choice;
pub mod checkpoint;
pub mod config;
pub mod detect;
pub mod engine;
pub mod hard_positives;
pub mod input;
pub mod metrics;
pub mod model_snapshot;
pub mod objective;
pub mod run;
pub mod thread;
pub mod trainer;

pub use backend_choice::BackendChoice;
pub use checkpoint::{Checkpoint, CheckpointError, NamedTensor};
pub use config::{LrSchedule, OptimizerKind, TrainConfig};
pub use detect::{DetectConfig, Detection, detect};
pub use metrics::{MetricsWriter, StepMetrics, divergence};
pub use model_snapshot::{ModelOutputs, ModelSnapshot, ModelSource};
pub use objective::{ImageGt, ObjectiveOutput, ObjectiveState, batch_objective, image_objective};
pub use thread::{RunState, TrainData, TrainerCommand, TrainerEvent, TrainerHandle};
pub use trainer::{StepReport, Trainer};
