//! Learning bilinear schemes from random matrix products. (Filled in by the training issue.)

/// Errors that stop training or a study from running.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// Invalid settings.
    #[error("invalid training settings: {0}")]
    Settings(String),
}
