//! A run's settings file: training settings at the top level, the model under `[model]`, the
//! input under `[data]` (what `train --config` reads and every run folder's `config.toml` holds).

use crate::data::DataConfig;
use crate::model::ModelConfig;
use crate::train::TrainConfig;
use crate::train::config::toml_text;
use anyhow::{Result, anyhow};

/// The three sections of a run's settings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunSettings {
    /// Training settings (top level).
    pub train: TrainConfig,
    /// The detector (`[model]`).
    pub model: ModelConfig,
    /// How a file dataset is read (`[data]`).
    pub data: DataConfig,
}

impl RunSettings {
    /// The settings as one TOML table (`[model]` and `[data]` as sub-tables).
    pub fn to_table(&self) -> Result<toml::Table> {
        let mut full = toml::Table::try_from(&self.train)?;
        full.insert("model".into(), toml::Value::try_from(&self.model)?);
        full.insert("data".into(), toml::Value::try_from(&self.data)?);
        Ok(full)
    }

    /// The text of `config.toml` (f32 settings in their shortest form).
    pub fn to_toml(&self) -> Result<String> {
        toml_text(&self.to_table()?).map_err(|e| anyhow!(e))
    }

    /// Settings from a TOML table already parsed (a sweep's merged grid point); errors
    /// start with `origin` and name the section, without line numbers.
    pub fn from_table(mut table: toml::Table, origin: &str) -> Result<Self> {
        let (model, data) = split_sections(&mut table, origin)?;
        let train: TrainConfig = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| anyhow!("{origin}: {}", one_line(&e.to_string())))?;
        train.validate().map_err(|e| anyhow!("{origin}: {e}"))?;
        Ok(Self { train, model, data })
    }
}

/// An error's text on one line (toml's key context, `in \`lr\``, included).
fn one_line(s: &str) -> String {
    s.trim().replace('\n', " ")
}

/// Removes and parses `[model]` and `[data]` (defaults when absent).
fn split_sections(table: &mut toml::Table, origin: &str) -> Result<(ModelConfig, DataConfig)> {
    let model = match table.remove("model") {
        Some(v) => v
            .try_into::<ModelConfig>()
            .map_err(|e| anyhow!("{origin}: [model]: {}", one_line(&e.to_string())))?,
        None => ModelConfig::default(),
    };
    let data = match table.remove("data") {
        Some(v) => v
            .try_into::<DataConfig>()
            .map_err(|e| anyhow!("{origin}: [data]: {}", one_line(&e.to_string())))?,
        None => DataConfig::default(),
    };
    data.validate().map_err(|e| anyhow!("{origin}: {e}"))?;
    Ok((model, data))
}

/// Splits a run config into the training settings, the `[model]` and the `[data]` tables;
/// errors name `origin` and, for the training settings, the line.
pub fn parse_run_config_data(
    text: &str,
    origin: &str,
) -> Result<(TrainConfig, ModelConfig, DataConfig)> {
    let mut table: toml::Table =
        toml::from_str(text).map_err(|e| anyhow!("{origin}: {}", e.message()))?;
    let (model, data) = split_sections(&mut table, origin)?;
    let rest = toml::to_string(&table)?;
    let train = TrainConfig::from_toml(&rest, origin).map_err(|e| anyhow!(e))?;
    Ok((train, model, data))
}
