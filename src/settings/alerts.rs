//! `[merchants.alerts]` (who hears about a merchant's alerts, and how often) and `[alerts.smtp]`
//! (the deployment's mail server).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

use super::Secret;

/// `[merchants.alerts]`: where a merchant's alerts go. No channel: alerts are still kept and
/// listed by the admin API, just not sent.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MerchantAlerts {
    /// E-mail addresses (RFC 5322 mailboxes) that receive each message.
    #[serde(default)]
    pub email: Vec<String>,
    /// A Standard Webhooks receiver.
    pub webhook: Option<AlertWebhook>,
    /// `instant`, or one message per period (`"15m"`, `"1h"`, `"1d"`).
    #[serde(default)]
    pub digest: Digest,
}

/// `webhook = { url, secret }`: where signed alert messages are posted.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AlertWebhook {
    /// `https://` (or `http://` to a loopback address).
    pub url: Url,
    /// `whsec_<base64>`; the HMAC key is its base64 decoding (Standard Webhooks).
    pub secret: Secret,
}

/// How often a merchant hears.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Digest {
    /// One message per opened or resolved alert, as it happens.
    #[default]
    Instant,
    /// Everything that happened in a period, in one message at its end.
    Every(Duration),
}

impl Digest {
    /// Parses `instant` or a humantime duration of at least one minute.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.eq_ignore_ascii_case("instant") {
            return Ok(Self::Instant);
        }
        let d = humantime::parse_duration(s)
            .map_err(|e| format!("`{s}` is neither \"instant\" nor a duration like \"15m\", \"1h\", \"1d\": {e}"))?;
        if d < Duration::from_secs(60) {
            return Err(format!("`{s}` is shorter than one minute"));
        }
        Ok(Self::Every(d))
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Instant => f.write_str("instant"),
            Self::Every(d) => write!(f, "{}", humantime::format_duration(*d)),
        }
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// `[alerts]`: the deployment's side of alerting.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsSettings {
    pub smtp: Option<SmtpSettings>,
}

/// `[alerts.smtp]`: the mail server alerts are sent through.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    /// `smtp://host:port` (STARTTLS when the server offers it) or `smtps://host:port`.
    pub url: Url,
    /// The sender mailbox, e.g. `cartgate <alerts@cartgate.example.com>`.
    pub from: String,
    pub username: Option<Secret>,
    pub password: Option<Secret>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_parse_and_print() {
        assert_eq!(Digest::parse("instant"), Ok(Digest::Instant));
        assert_eq!(Digest::parse("1h"), Ok(Digest::Every(Duration::from_secs(3600))));
        assert_eq!(Digest::parse("1h").map(|d| d.to_string()), Ok("1h".to_owned()));
        assert!(Digest::parse("10s").is_err());
        assert!(Digest::parse("weekly").is_err());
    }
}
