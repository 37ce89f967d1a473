//! Schedule intervals: `"auto"` (as soon as the data arrives) or a duration (`"5m"`, `"1h"`, `"1d"`).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a text is not an [`Interval`] (the messages are what a configuration error shows).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IntervalError {
    #[error("`{text}` is neither \"auto\" nor a duration like \"5m\", \"1h\", \"1d\": {source}")]
    NotAnInterval { text: String, source: humantime::DurationError },
    #[error("`{0}` is shorter than one second")]
    TooShort(String),
}

/// How often a polled step runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interval {
    /// Event-driven: run as soon as the data arrives.
    Auto,
    /// Run every this long.
    Every(Duration),
}

impl Interval {
    /// Parses `auto` or a humantime duration of at least one second.
    pub fn parse(s: &str) -> Result<Self, IntervalError> {
        if s.eq_ignore_ascii_case("auto") {
            return Ok(Self::Auto);
        }
        let d = humantime::parse_duration(s)
            .map_err(|source| IntervalError::NotAnInterval { text: s.to_owned(), source })?;
        if d < Duration::from_secs(1) {
            return Err(IntervalError::TooShort(s.to_owned()));
        }
        Ok(Self::Every(d))
    }

    /// The period for a recurring job: `auto` steps still run a backstop at `auto_backstop`.
    pub fn period_or(self, auto_backstop: Duration) -> Duration {
        match self {
            Self::Auto => auto_backstop,
            Self::Every(d) => d,
        }
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auto => f.write_str("auto"),
            Self::Every(d) => write!(f, "{}", humantime::format_duration(*d)),
        }
    }
}

impl<'de> Deserialize<'de> for Interval {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Interval {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_auto_and_durations() {
        assert_eq!(Interval::parse("auto"), Ok(Interval::Auto));
        assert_eq!(Interval::parse("5m"), Ok(Interval::Every(Duration::from_secs(300))));
        assert_eq!(Interval::parse("1h"), Ok(Interval::Every(Duration::from_secs(3600))));
        assert_eq!(Interval::parse("1d"), Ok(Interval::Every(Duration::from_secs(86400))));
        assert!(Interval::parse("soon").is_err());
        assert!(Interval::parse("10ms").is_err());
    }

    #[test]
    fn errors_say_what_was_expected() {
        assert_eq!(
            Interval::parse("soon").unwrap_err().to_string(),
            "`soon` is neither \"auto\" nor a duration like \"5m\", \"1h\", \"1d\": expected number at 0"
        );
        assert_eq!(Interval::parse("10ms").unwrap_err().to_string(), "`10ms` is shorter than one second");
    }
}
