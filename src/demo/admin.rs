//! The demo's side of cartgate's admin API: every action and every observation goes over
//! HTTP with the bearer token, as an operator's script would.

use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::Value;

use crate::domain::OrderStatus;

/// An order as `GET /admin/orders` shows it (the fields the demo reads).
#[derive(Debug, Clone, Deserialize)]
pub struct OrderView {
    pub cart_order_id: u64,
    pub order_number: String,
    pub status: OrderStatus,
    pub status_reason: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub wms_order_id: Option<String>,
}

#[derive(Deserialize)]
struct Page {
    orders: Vec<OrderView>,
    next_cursor: Option<String>,
}

/// An admin API client.
#[derive(Clone)]
pub struct AdminClient {
    client: reqwest::Client,
    base: String,
    token: String,
}

/// An answer: status and JSON body (`null` when there is none).
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Answer {
    /// "404 Not Found: {error message}" for step messages.
    pub fn describe(&self) -> String {
        let message = self.body["error"]["message"].as_str().unwrap_or("");
        if message.is_empty() { self.status.to_string() } else { format!("{}: {message}", self.status) }
    }
}

impl AdminClient {
    pub fn new(base: &str, token: &str) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
        Ok(Self { client, base: base.to_owned(), token: token.to_owned() })
    }

    /// `METHOD path` with an optional JSON body.
    pub async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> anyhow::Result<Answer> {
        let mut req = self.client.request(method.clone(), format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await.with_context(|| format!("{method} {path}"))?;
        let status = resp.status();
        let text = resp.text().await.with_context(|| format!("{method} {path}: reading the answer"))?;
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Answer { status, body })
    }

    pub async fn post(&self, path: &str) -> anyhow::Result<Answer> {
        self.call(Method::POST, path, None).await
    }

    /// Every order of `cart`, oldest first (`GET /admin/orders`, all pages).
    pub async fn orders(&self, cart: &str) -> anyhow::Result<Vec<OrderView>> {
        let mut out = Vec::new();
        let mut cursor = String::new();
        for _ in 0..100 {
            let path = format!("/admin/orders?cart={cart}&limit=500&cursor={cursor}");
            let answer = self.call(Method::GET, &path, None).await?;
            if !answer.status.is_success() {
                bail!("GET /admin/orders answered {}", answer.describe());
            }
            let page: Page = serde_json::from_value(answer.body).context("reading GET /admin/orders")?;
            out.extend(page.orders);
            match page.next_cursor {
                Some(next) => cursor = next,
                None => return Ok(out),
            }
        }
        Ok(out)
    }
}
