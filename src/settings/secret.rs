//! Secret references in the configuration.
//!
//! A secret field takes `env:NAME` (read the environment variable), `file:PATH` (read the file,
//! trailing newline trimmed — what Kubernetes `Secret` volumes hold) or a literal value. The
//! reference is kept so `check-config` can say *where* a secret comes from without ever showing
//! it; the value lives in a [`SecretString`] and is only exposed at the point of use.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ConfigError;

/// Where a secret's value comes from.
#[derive(Clone, PartialEq, Eq)]
enum Source {
    Env(String),
    File(String),
    Literal,
}

/// A configured secret: its source, and its value once resolved at start-up.
#[derive(Clone)]
pub struct Secret {
    source: Source,
    /// For `Literal` this is the value from the start; for the others, the value after
    /// [`Secret::resolve`].
    value: Option<SecretString>,
}

impl Secret {
    /// A literal secret, for configurations built in code (tests, the demo).
    pub fn literal(value: impl Into<String>) -> Self {
        Self { source: Source::Literal, value: Some(SecretString::from(value.into())) }
    }

    /// Parses a reference as written in the configuration.
    pub fn parse(spec: &str) -> Self {
        if let Some(name) = spec.strip_prefix("env:") {
            Self { source: Source::Env(name.to_owned()), value: None }
        } else if let Some(path) = spec.strip_prefix("file:") {
            Self { source: Source::File(path.to_owned()), value: None }
        } else {
            Self::literal(spec)
        }
    }

    /// Reads the value from its source; `key` names the field in errors.
    pub fn resolve(&mut self, key: &str) -> Result<(), ConfigError> {
        let value = match &self.source {
            Source::Literal => return Ok(()),
            Source::Env(name) => std::env::var(name)
                .map_err(|_| ConfigError::invalid(key, format!("environment variable {name} is not set")))?,
            Source::File(path) => std::fs::read_to_string(path)
                .map_err(|e| ConfigError::invalid(key, format!("cannot read secret file {path}: {e}")))?
                .trim_end_matches(['\n', '\r'])
                .to_owned(),
        };
        if value.is_empty() {
            return Err(ConfigError::invalid(key, "the secret is empty"));
        }
        self.value = Some(SecretString::from(value));
        Ok(())
    }

    /// The secret's value. Empty before [`Secret::resolve`] (settings are always resolved
    /// before they reach the application).
    pub fn expose(&self) -> &str {
        self.value.as_ref().map(|v| v.expose_secret()).unwrap_or("")
    }

    /// How the secret is shown anywhere it could be seen: its source, never its value.
    fn redacted(&self) -> String {
        match &self.source {
            Source::Env(name) => format!("<redacted: env:{name}>"),
            Source::File(path) => format!("<redacted: file:{path}>"),
            Source::Literal => "<redacted>".to_owned(),
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spec = String::deserialize(d)?;
        Ok(Self::parse(&spec))
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_is_redacted_in_debug_and_serialisation() {
        let s = Secret::parse("hunter2");
        assert_eq!(s.expose(), "hunter2");
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert_eq!(serde_json::to_string(&s).unwrap_or_default(), "\"<redacted>\"");
    }

    #[test]
    fn missing_env_var_names_key_and_variable() {
        let mut s = Secret::parse("env:CARTGATE_TEST_SURELY_MISSING_VAR");
        let err = s.resolve("merchants[0].wms.test_api_key").unwrap_err().to_string();
        assert!(err.contains("merchants[0].wms.test_api_key"), "{err}");
        assert!(err.contains("CARTGATE_TEST_SURELY_MISSING_VAR"), "{err}");
    }

    #[test]
    fn file_secret_is_read_and_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "s3cret\n").unwrap();
        let mut s = Secret::parse(&format!("file:{}", path.display()));
        s.resolve("server.admin_token").unwrap();
        assert_eq!(s.expose(), "s3cret");
        assert!(!format!("{s:?}").contains("s3cret"));
    }
}
