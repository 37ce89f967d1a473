//! The demo's alert channels: a local SMTP server and a Standard Webhooks receiver of its own,
//! set as the merchant's `[merchants.alerts]` (instant), and what they received by the end —
//! each alert the story raised (the SKU without an alias, the unmapped ship method) told once
//! when opened and once when resolved, by e-mail and by a signed webhook.

use std::time::{Duration, Instant};

use anyhow::Context;
use base64::Engine;
use reqwest::Method;
use serde::Deserialize;

use super::admin::AdminClient;
use super::world::MERCHANT;
use crate::alerts::{AlertState, sign};
use crate::testkit::receiver::WebhookReceiver;
use crate::testkit::smtp::SmtpServer;
use crate::testkit::wiring::{AlertWebhookWiring, AlertsWiring, MerchantAlertsWiring, SmtpWiring, WiredSecret};

/// How long the report waits for the last messages to arrive.
const SETTLE: Duration = Duration::from_secs(5);

/// Where the demo merchant's alerts go.
pub struct AlertSinks {
    pub smtp: SmtpServer,
    pub hooks: WebhookReceiver,
    /// `whsec_…`, made up for this run.
    secret: String,
}

impl AlertSinks {
    pub async fn start() -> anyhow::Result<Self> {
        let smtp = SmtpServer::start().await.context("starting the demo's SMTP server")?;
        let hooks = WebhookReceiver::start().context("starting the demo's webhook receiver")?;
        let key: [u8; 24] = rand::random();
        let secret = format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(key));
        Ok(Self { smtp, hooks, secret })
    }

    /// `[alerts.smtp]` and the merchant's `[merchants.alerts]`.
    pub fn wiring(&self) -> (AlertsWiring, MerchantAlertsWiring) {
        let smtp = SmtpWiring {
            url: self.smtp.url(),
            from: "cartgate demo <alerts@cartgate.example.com>".into(),
            username: None,
            password: None,
        };
        let merchant = MerchantAlertsWiring {
            email: vec![format!("ops@{MERCHANT}.example")],
            webhook: Some(AlertWebhookWiring {
                url: self.hooks.url().to_owned(),
                secret: WiredSecret::new(self.secret.clone()),
            }),
            digest: "instant".into(),
        };
        (AlertsWiring { smtp }, merchant)
    }
}

/// One alert as the admin API lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct AlertLine {
    pub kind: String,
    pub subject: String,
    pub state: AlertState,
    pub count: u64,
}

/// What the alert channels saw.
#[derive(Debug, Clone, Default)]
pub struct AlertCounts {
    pub alerts: Vec<AlertLine>,
    pub mails: usize,
    pub webhooks: usize,
    /// Webhooks whose Standard Webhooks signature did not verify.
    pub bad_signatures: usize,
}

impl AlertCounts {
    /// Messages the alerts call for: one when opened, one when resolved.
    pub fn expected_messages(&self) -> usize {
        self.alerts.iter().map(|a| if a.state == AlertState::Resolved { 2 } else { 1 }).sum()
    }

    /// At least one alert, every one resolved, each told once per channel, every signature good.
    pub fn as_expected(&self) -> bool {
        let expected = self.expected_messages();
        !self.alerts.is_empty()
            && self.alerts.iter().all(|a| a.state == AlertState::Resolved)
            && (self.mails, self.webhooks, self.bad_signatures) == (expected, expected, 0)
    }
}

/// The merchant's alerts, once the messages they call for arrived (or [`SETTLE`] passed).
pub async fn collect(admin: &AdminClient, sinks: &AlertSinks) -> anyhow::Result<AlertCounts> {
    let started = Instant::now();
    loop {
        let path = format!("/admin/merchants/{MERCHANT}/alerts?limit=100");
        let answer = admin.call(Method::GET, &path, None).await?;
        anyhow::ensure!(answer.status.is_success(), "GET {path} answered {}", answer.describe());
        let alerts: Vec<AlertLine> =
            serde_json::from_value(answer.body["alerts"].clone()).context("reading the alerts")?;
        let hooks = sinks.hooks.accepted();
        let now = chrono::Utc::now().timestamp();
        let bad_signatures = hooks.iter().filter(|h| !verifies(&sinks.secret, h, now)).count();
        let counts = AlertCounts { alerts, mails: sinks.smtp.mails().len(), webhooks: hooks.len(), bad_signatures };
        let expected = counts.expected_messages();
        if (counts.mails >= expected && counts.webhooks >= expected) || started.elapsed() > SETTLE {
            return Ok(counts);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn verifies(secret: &str, hook: &crate::testkit::receiver::ReceivedHook, now: i64) -> bool {
    let header = |name| hook.header(name).unwrap_or_default();
    let Ok(timestamp) = header("webhook-timestamp").parse() else { return false };
    sign::verify(secret, header("webhook-id"), timestamp, &hook.body, header("webhook-signature"), now).is_ok()
}
