//! The alert tables of a [`Wiring`](super::wiring::Wiring): `[alerts.smtp]` and
//! `[merchants.alerts]` (re-exported by [`super::wiring`]).

use serde::Serialize;

use super::wiring::WiredSecret;

/// `[alerts]` with its `[alerts.smtp]`.
#[derive(Clone, Debug, Serialize)]
pub struct AlertsWiring {
    pub smtp: SmtpWiring,
}

/// `[alerts.smtp]`.
#[derive(Clone, Debug, Serialize)]
pub struct SmtpWiring {
    pub url: String,
    pub from: String,
    pub username: Option<WiredSecret>,
    pub password: Option<WiredSecret>,
}

/// `[merchants.alerts]`: `webhook` is `(url, secret)`; `digest` is `instant` or a duration.
#[derive(Clone, Debug, Serialize)]
pub struct MerchantAlertsWiring {
    pub email: Vec<String>,
    pub webhook: Option<AlertWebhookWiring>,
    pub digest: String,
}

/// `webhook = { url, secret }`.
#[derive(Clone, Debug, Serialize)]
pub struct AlertWebhookWiring {
    pub url: String,
    pub secret: WiredSecret,
}
