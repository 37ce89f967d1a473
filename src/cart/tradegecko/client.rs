//! TradeGecko calls, one function per use, over the shared upstream core. They speak the wire
//! shapes; [`super`] turns them into the [`Cart`](crate::cart::Cart) boundary.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::wire::{Address, Fulfillment, NewFulfillment, NewStockAdjustment, Order, OrderLineItem, Variant, Webhook};
use crate::upstream::{Account, UpstreamError, UpstreamResponse};

/// Largest page TradeGecko serves.
const PAGE_LIMIT: u32 = 250;
/// Ids per `ids[]` lookup, keeping URLs short.
const IDS_PER_CALL: usize = 100;
/// Bounds a full variant listing (200 pages of 250 = 50,000 variants).
const MAX_VARIANT_PAGES: u32 = 200;

/// One cart's TradeGecko account.
#[derive(Clone)]
pub struct TradeGecko {
    account: Account,
}

fn decode<T: DeserializeOwned>(resp: &UpstreamResponse) -> Result<T, UpstreamError> {
    resp.json()
}

fn ids_query(ids: &[u64]) -> Vec<(&'static str, String)> {
    ids.iter().map(|id| ("ids[]", id.to_string())).collect()
}

impl TradeGecko {
    pub fn new(account: Account) -> Self {
        Self { account }
    }

    /// The order with its line items (sideloaded; fetched separately when not sideloaded).
    pub(super) async fn order_with_lines(&self, id: u64) -> Result<(Order, Vec<OrderLineItem>), UpstreamError> {
        #[derive(Deserialize)]
        struct Body {
            order: Order,
            #[serde(default)]
            order_line_items: Option<Vec<OrderLineItem>>,
        }
        let resp = self
            .account
            .get(&format!("/orders/{id}"))
            .endpoint("/orders/:id")
            .query(&[("include", "order_line_items")])
            .send()
            .await?;
        let body: Body = decode(&resp)?;
        let lines = match body.order_line_items {
            Some(lines) => lines,
            None => self.line_items(&body.order.order_line_item_ids).await?,
        };
        let lines = lines.into_iter().filter(|l| l.order_id.is_none_or(|o| o == id)).collect();
        Ok((body.order, lines))
    }

    async fn line_items(&self, ids: &[u64]) -> Result<Vec<OrderLineItem>, UpstreamError> {
        #[derive(Deserialize)]
        struct Body {
            order_line_items: Vec<OrderLineItem>,
        }
        let mut out = Vec::new();
        for chunk in ids.chunks(IDS_PER_CALL) {
            let resp = self.account.get("/order_line_items").query(&ids_query(chunk)).send().await?;
            out.extend(decode::<Body>(&resp)?.order_line_items);
        }
        Ok(out)
    }

    pub(super) async fn address(&self, id: u64) -> Result<Address, UpstreamError> {
        #[derive(Deserialize)]
        struct Body {
            address: Address,
        }
        let resp = self.account.get(&format!("/addresses/{id}")).endpoint("/addresses/:id").send().await?;
        Ok(decode::<Body>(&resp)?.address)
    }

    /// Variants by id, batched.
    pub(super) async fn variants(&self, ids: &[u64]) -> Result<Vec<Variant>, UpstreamError> {
        #[derive(Deserialize)]
        struct Body {
            variants: Vec<Variant>,
        }
        let mut out = Vec::new();
        for chunk in ids.chunks(IDS_PER_CALL) {
            let mut q = ids_query(chunk);
            q.push(("limit", PAGE_LIMIT.to_string()));
            let resp = self.account.get("/variants").query(&q).send().await?;
            out.extend(decode::<Body>(&resp)?.variants);
        }
        Ok(out)
    }

    /// Every variant of the account, paged (bounded by [`MAX_VARIANT_PAGES`]).
    pub(super) async fn all_variants(&self) -> Result<Vec<Variant>, UpstreamError> {
        #[derive(Deserialize)]
        struct Body {
            variants: Vec<Variant>,
        }
        let mut out = Vec::new();
        for page in 1..=MAX_VARIANT_PAGES {
            let q = [("limit", PAGE_LIMIT.to_string()), ("page", page.to_string())];
            let resp = self.account.get("/variants").query(&q).send().await?;
            let batch = decode::<Body>(&resp)?.variants;
            let full = batch.len() == PAGE_LIMIT as usize;
            let more = full || resp.header("link").is_some_and(|l| l.contains("rel=\"next\""));
            let empty = batch.is_empty();
            out.extend(batch);
            if !more || empty {
                break;
            }
        }
        Ok(out)
    }

    /// One page of orders updated since `since` (ISO-8601); whether there is a next page.
    pub(super) async fn orders_page(&self, since: &str, page: u32) -> Result<(Vec<Order>, bool), UpstreamError> {
        #[derive(Deserialize)]
        struct Body {
            orders: Vec<Order>,
        }
        let q = [("updated_at_min", since.to_owned()), ("limit", PAGE_LIMIT.to_string()), ("page", page.to_string())];
        let resp = self.account.get("/orders").query(&q).send().await?;
        let orders = decode::<Body>(&resp)?.orders;
        let more =
            resp.header("link").is_some_and(|l| l.contains("rel=\"next\"")) || orders.len() == PAGE_LIMIT as usize;
        Ok((orders, more))
    }

    /// The fulfillments already recorded on an order.
    pub(super) async fn order_fulfillments(&self, order_id: u64) -> Result<Vec<Fulfillment>, UpstreamError> {
        #[derive(Deserialize)]
        struct Body {
            fulfillments: Vec<Fulfillment>,
        }
        let q = [("order_id", order_id.to_string()), ("limit", PAGE_LIMIT.to_string())];
        let resp = self.account.get("/fulfillments").query(&q).send().await?;
        Ok(decode::<Body>(&resp)?
            .fulfillments
            .into_iter()
            .filter(|f| f.order_id.is_none_or(|o| o == order_id))
            .collect())
    }

    /// Creates a fulfillment at most once per `idempotency_key`.
    pub(super) async fn post_fulfillment(
        &self,
        f: &NewFulfillment,
        idempotency_key: &str,
    ) -> Result<Fulfillment, UpstreamError> {
        #[derive(Deserialize)]
        struct Body {
            fulfillment: Fulfillment,
        }
        let resp = self
            .account
            .post_json("/fulfillments", &serde_json::json!({ "fulfillment": f }))
            .header("Idempotency-Key", idempotency_key)
            .send()
            .await?;
        Ok(decode::<Body>(&resp)?.fulfillment)
    }

    /// Sends one stock adjustment at most once per `idempotency_key`.
    pub(super) async fn create_stock_adjustment(
        &self,
        a: &NewStockAdjustment,
        idempotency_key: &str,
    ) -> Result<(), UpstreamError> {
        self.account
            .post_json("/stock_adjustments", &serde_json::json!({ "stock_adjustment": a }))
            .header("Idempotency-Key", idempotency_key)
            .send()
            .await
            .map(|_| ())
    }

    pub(super) async fn webhooks(&self) -> Result<Vec<Webhook>, UpstreamError> {
        #[derive(Deserialize)]
        struct Body {
            webhooks: Vec<Webhook>,
        }
        let resp = self.account.get("/webhooks").query(&[("limit", PAGE_LIMIT)]).send().await?;
        Ok(decode::<Body>(&resp)?.webhooks)
    }

    pub(super) async fn create_webhook(&self, address: &str, event: &str) -> Result<(), UpstreamError> {
        let body = serde_json::json!({ "webhook": { "address": address, "event": event } });
        self.account.post_json("/webhooks", &body).send().await.map(|_| ())
    }

    /// A cheap authenticated call for "Test Connection".
    pub(super) async fn check_token(&self) -> Result<(), UpstreamError> {
        self.account.get("/orders").query(&[("limit", 1)]).send().await.map(|_| ())
    }
}
