//! Configuration: the public contract of every key cartgate reads.
//!
//! Layers, later wins: compiled-in defaults (`config/default.toml`) < the file given by
//! `--config` / `CARTGATE_CONFIG` < environment variables `CARTGATE__SECTION__KEY`.
//! Everything is validated once at start-up ([`Settings::load`]); a bad value exits with code 2
//! and a message naming the key. Past that point every value is usable as it is.

mod alerts;
mod apps;
mod cart;
mod interval;
mod model;
mod secret;
mod ship_methods;
mod store;
mod validate;

use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Toml};

pub use alerts::{AlertWebhook, AlertsSettings, Digest, MerchantAlerts, SmtpSettings};
pub use apps::*;
pub use cart::*;
pub use interval::{Interval, IntervalError};
pub use model::*;
pub use secret::Secret;
pub use ship_methods::{ShipMethods, Unmapped, method_code};
pub use store::StoreSettings;
pub use validate::{cart_problems, merchant_problems, oauth_problems};

/// The compiled-in defaults, also shipped as `config/default.toml`.
pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");

/// A configuration problem, naming the key it is about.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{key}: {message}")]
    Invalid { key: String, message: String },
    #[error("{0}")]
    Load(String),
}

impl ConfigError {
    pub fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid { key: key.into(), message: message.into() }
    }

    /// The same problem with its key under `prefix` (`wms.base_url` → `merchants[0].wms.base_url`).
    pub fn under(self, prefix: &str) -> Self {
        match self {
            Self::Invalid { key, message } => Self::Invalid { key: format!("{prefix}.{key}"), message },
            other => other,
        }
    }

    /// The message without the key.
    pub fn message(&self) -> &str {
        match self {
            Self::Invalid { message, .. } | Self::Load(message) => message,
        }
    }

    /// The key a problem is about (`None` for a file that could not be read at all).
    pub fn key(&self) -> Option<&str> {
        match self {
            Self::Invalid { key, .. } => Some(key),
            Self::Load(_) => None,
        }
    }
}

impl Settings {
    /// Loads defaults, then `file` if given, then the environment; resolves secrets; validates.
    pub fn load(file: Option<&Path>) -> Result<Self, Vec<ConfigError>> {
        let mut figment = Figment::from(Toml::string(DEFAULT_TOML));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(vec![ConfigError::Load(format!("configuration file {} does not exist", path.display()))]);
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(Env::prefixed("CARTGATE__").split("__"));
        Self::from_figment(figment)
    }

    /// Loads from a TOML string layered over the defaults (tests and the demo).
    pub fn from_toml(toml: &str) -> Result<Self, Vec<ConfigError>> {
        Self::from_figment(Figment::from(Toml::string(DEFAULT_TOML)).merge(Toml::string(toml)))
    }

    fn from_figment(figment: Figment) -> Result<Self, Vec<ConfigError>> {
        let mut settings: Settings = figment.extract().map_err(figment_errors)?;
        settings.validate()?;
        Ok(settings)
    }
}

/// Turns figment's errors into ours, with paths written as `merchants[0].wms.kind`.
pub(crate) fn figment_errors(err: figment::Error) -> Vec<ConfigError> {
    err.into_iter()
        .map(|e| {
            let mut key = String::new();
            for part in &e.path {
                if part.chars().all(|c| c.is_ascii_digit()) {
                    key.push_str(&format!("[{part}]"));
                } else {
                    if !key.is_empty() {
                        key.push('.');
                    }
                    key.push_str(part);
                }
            }
            let source = match e.metadata.as_ref() {
                Some(m) => match &m.source {
                    Some(src) => format!(" (from {} {src})", m.name),
                    None => format!(" (from {})", m.name),
                },
                None => String::new(),
            };
            if key.is_empty() {
                ConfigError::Load(format!("{}{source}", e.kind))
            } else {
                ConfigError::invalid(key, format!("{}{source}", e.kind))
            }
        })
        .collect()
}
