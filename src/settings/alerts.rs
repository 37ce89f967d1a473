//! `[merchants.alerts]` (who hears about a merchant's alerts, and how often) and `[alerts.smtp]`
//! (the deployment's mail server).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

use super::{ConfigError, Secret};

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

impl MerchantAlerts {
    /// The rules `[merchants.alerts]` follows (file and admin API alike), keys relative to the
    /// merchant: addresses not blank, the webhook `https://` (or `http://` to a loopback
    /// host), its secret `whsec_` + the base64 of at least 16 bytes. (Full address parsing is
    /// the mailer's, when messages are built.)
    pub fn problems(&self) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        for (i, address) in self.email.iter().enumerate() {
            if address.parse::<lettre::message::Mailbox>().is_err() {
                errors.push(ConfigError::invalid(format!("alerts.email[{i}]"), "is not an e-mail address"));
            }
        }
        if let Some(hook) = &self.webhook {
            if !hook.url_is_allowed() {
                errors.push(ConfigError::invalid(
                    "alerts.webhook.url",
                    "must be https:// (http:// only to a loopback address)",
                ));
            }
            // Empty: unresolved, and reported where it is resolved (or refused as empty).
            let secret = hook.secret.expose();
            if !secret.is_empty() && webhook_key(secret).is_none() {
                errors.push(ConfigError::invalid(
                    "alerts.webhook.secret",
                    "must be whsec_ followed by the base64 of at least 16 random bytes",
                ));
            }
        }
        errors
    }
}

/// The HMAC key of a Standard Webhooks secret: the base64 decoding of what follows `whsec_`,
/// when that is at least 16 bytes.
pub fn webhook_key(secret: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let encoded = secret.strip_prefix("whsec_")?;
    let key = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
    (key.len() >= 16).then_some(key)
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

impl AlertWebhook {
    /// Whether alerts may be posted to the URL: `https://`, or `http://` to a loopback host.
    pub fn url_is_allowed(&self) -> bool {
        match self.url.scheme() {
            "https" => true,
            "http" => match self.url.host() {
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            },
            _ => false,
        }
    }
}

impl SmtpSettings {
    /// What is wrong with `[alerts.smtp]`, keys relative to it.
    pub fn problems(&self) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        if !matches!(self.url.scheme(), "smtp" | "smtps") || self.url.host_str().is_none() {
            errors.push(ConfigError::invalid("url", "must be smtp://host[:port] or smtps://host[:port]"));
        }
        if !self.url.username().is_empty() || self.url.password().is_some() {
            errors.push(ConfigError::invalid("url", "must not hold credentials: use username and password"));
        }
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            errors.push(ConfigError::invalid("from", "is not a mailbox like `cartgate <alerts@example.com>`"));
        }
        if self.password.is_some() && self.username.is_none() {
            errors.push(ConfigError::invalid("password", "is set without a username"));
        }
        errors
    }
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

    fn alerts(url: &str, secret: &str, email: &str) -> MerchantAlerts {
        let webhook = AlertWebhook { url: url.parse().unwrap(), secret: Secret::literal(secret) };
        MerchantAlerts { email: vec![email.into()], webhook: Some(webhook), digest: Digest::Instant }
    }

    #[test]
    fn alert_channels_follow_the_rules() {
        let good = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        assert!(alerts("https://acme.example/hooks", good, "ops@acme.example").problems().is_empty());
        assert!(alerts("http://127.0.0.1:8080/hooks", good, "ops@acme.example").problems().is_empty());
        let keys =
            |a: MerchantAlerts| a.problems().iter().map(|p| p.key().unwrap_or("").to_owned()).collect::<Vec<_>>();
        assert_eq!(keys(alerts("http://acme.example/hooks", good, " ")), ["alerts.email[0]", "alerts.webhook.url"]);
        assert_eq!(
            keys(alerts("https://acme.example", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "a@b")),
            ["alerts.webhook.secret"]
        );
        assert_eq!(keys(alerts("https://acme.example", "whsec_c2hvcnQ=", "a@b")), ["alerts.webhook.secret"], "5 bytes");
    }

    #[test]
    fn digests_parse_and_print() {
        assert_eq!(Digest::parse("instant"), Ok(Digest::Instant));
        assert_eq!(Digest::parse("1h"), Ok(Digest::Every(Duration::from_secs(3600))));
        assert_eq!(Digest::parse("1h").map(|d| d.to_string()), Ok("1h".to_owned()));
        assert!(Digest::parse("10s").is_err());
        assert!(Digest::parse("weekly").is_err());
    }

    #[test]
    fn webhooks_go_to_https_or_loopback_only() {
        let ok = |s: &str| {
            AlertWebhook { url: Url::parse(s).unwrap(), secret: Secret::literal("whsec_AAAA") }.url_is_allowed()
        };
        assert!(ok("https://acme.example/hooks"));
        assert!(ok("http://127.0.0.1:8080/hooks"));
        assert!(ok("http://[::1]/hooks"));
        assert!(ok("http://localhost/hooks"));
        assert!(!ok("http://acme.example/hooks"));
        assert!(!ok("http://10.0.0.1/hooks"));
        assert!(!ok("ftp://acme.example/hooks"));
    }

    fn load(alerts: &str, smtp: &str) -> Result<crate::settings::Settings, Vec<ConfigError>> {
        let toml = format!(
            "{smtp}\n[[merchants]]\nid = \"acme\"\n[merchants.wms]\nkind = \"easypost\"\n\
             base_url = \"https://api.easypost.com\"\nproduction_api_key = \"EZAK\"\n[merchants.alerts]\n{alerts}"
        );
        crate::settings::Settings::from_toml(&toml)
    }

    fn problem_keys(r: Result<crate::settings::Settings, Vec<ConfigError>>) -> Vec<String> {
        r.err().unwrap_or_default().iter().filter_map(|e| e.key().map(str::to_owned)).collect()
    }

    #[test]
    fn the_configuration_loader_checks_alert_settings() {
        let smtp = "[alerts.smtp]\nurl = \"smtp://127.0.0.1:2525\"\nfrom = \"cartgate <alerts@cartgate.example.com>\"";
        let hook =
            "webhook = { url = \"https://acme.example/h\", secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\" }";
        let good = load(&format!("email = [\"ops@acme.example\"]\n{hook}\ndigest = \"1h\""), smtp).unwrap();
        assert_eq!(good.merchants[0].alerts.digest, Digest::Every(Duration::from_secs(3600)));
        assert_eq!(problem_keys(load("email = [\"ops@acme.example\"]", "")), ["merchants[0].alerts.email"]);
        let plain =
            "webhook = { url = \"http://acme.example/h\", secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\" }";
        assert_eq!(problem_keys(load(plain, "")), ["merchants[0].alerts.webhook.url"]);
        let bad_secret = "webhook = { url = \"https://acme.example/h\", secret = \"not-base64!\" }";
        assert_eq!(problem_keys(load(bad_secret, "")), ["merchants[0].alerts.webhook.secret"]);
        let unset = "webhook = { url = \"https://acme.example/h\", secret = \"env:CARTGATE_TEST_UNSET_ALERT_SECRET\" }";
        assert_eq!(problem_keys(load(unset, "")), ["merchants[0].alerts.webhook.secret"], "reported once");
        let smtps = "[alerts.smtp]\nurl = \"imap://mail\"\nfrom = \"x@y.z\"";
        assert_eq!(problem_keys(load("", smtps)), ["alerts.smtp.url"]);
    }

    #[test]
    fn smtp_and_merchant_alerts_are_checked() {
        let smtp = |url: &str, from: &str| SmtpSettings {
            url: Url::parse(url).unwrap(),
            from: from.into(),
            username: None,
            password: None,
        };
        assert!(smtp("smtp://mail.internal:25", "cartgate <alerts@cartgate.example.com>").problems().is_empty());
        assert!(smtp("smtps://mail.internal", "alerts@cartgate.example.com").problems().is_empty());
        assert_eq!(smtp("http://mail.internal", "x@y.z").problems().len(), 1);
        assert_eq!(smtp("smtp://u:p@mail.internal", "x@y.z").problems().len(), 1);
        assert_eq!(smtp("smtp://mail.internal", "not a mailbox").problems().len(), 1);
        let alerts = MerchantAlerts {
            email: vec!["ops@acme.example".into(), "nope".into()],
            webhook: Some(AlertWebhook {
                url: Url::parse("http://acme.example/").unwrap(),
                secret: Secret::literal("x y"),
            }),
            digest: Digest::Instant,
        };
        let keys: Vec<String> = alerts.problems().iter().filter_map(|e| e.key().map(str::to_owned)).collect();
        assert_eq!(keys, ["alerts.email[1]", "alerts.webhook.url", "alerts.webhook.secret"]);
    }
}
