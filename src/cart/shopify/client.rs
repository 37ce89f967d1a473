//! Shopify calls, one function per use, over the shop's GraphQL account. They speak the wire
//! shapes; [`super`] turns them into the [`Cart`](crate::cart::Cart) boundary.

use std::sync::{Arc, Mutex};

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::convert::gid;
use super::queries::{self, ORDERS_PER_PAGE, VARIANTS_PER_CALL};
use super::wire::{self, Connection, UserError};
use crate::upstream::{Operation, ShopifyAccount, Upstream, UpstreamError};

/// Bounds a full variant listing (1,000 pages of 50 = 50,000 variants).
const MAX_VARIANT_PAGES: u32 = 1000;

/// One Shopify cart: its shop's account and the location it fulfils from and stocks.
#[derive(Clone)]
pub struct Shopify {
    api: ShopifyAccount,
    /// The number of the cart's `location_id`.
    location: Option<u64>,
    /// The order read last, so the import's `order_details` of the same version needs no
    /// second read of it.
    last_order: Arc<Mutex<Option<wire::Order>>>,
}

/// `userErrors` as [`UpstreamError::Rejected`] (422: validation failed, nothing written).
pub(super) fn rejected(errors: &[UserError]) -> UpstreamError {
    let message = errors
        .iter()
        .map(|e| match e.field.as_deref() {
            Some(field) if !field.is_empty() => format!("{}: {}", field.join("."), e.message),
            _ => e.message.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ");
    let code = errors.iter().find_map(|e| e.code.clone());
    UpstreamError::Rejected { upstream: Upstream::Shopify, status: 422, code, message, raw_body: String::new() }
}

impl Shopify {
    pub fn new(api: ShopifyAccount, location: Option<i64>) -> Self {
        Self { api, location: location.and_then(|l| u64::try_from(l).ok()), last_order: Arc::default() }
    }

    /// Keeps `order` as the one read last.
    pub(super) fn remember(&self, order: &wire::Order) {
        *self.last_order.lock().unwrap_or_else(|p| p.into_inner()) = Some(order.clone());
    }

    /// The order read last, when it is the one `matches` accepts.
    pub(super) fn recall(&self, matches: impl Fn(&wire::Order) -> bool) -> Option<wire::Order> {
        self.last_order.lock().unwrap_or_else(|p| p.into_inner()).as_ref().filter(|o| matches(o)).cloned()
    }

    pub(super) fn location(&self) -> Option<u64> {
        self.location
    }

    /// The cart's location as a gid; `Invalid` when the cart names none.
    pub(super) fn location_gid(&self) -> Result<String, UpstreamError> {
        let n = self
            .location
            .ok_or_else(|| UpstreamError::Invalid { reason: "the Shopify cart has no location_id".into() })?;
        Ok(gid("Location", n))
    }

    async fn call<T: DeserializeOwned>(
        &self,
        op: &Operation,
        variables: serde_json::Value,
    ) -> Result<T, UpstreamError> {
        self.api.graphql(op, &variables).await
    }

    /// The order (§3); `NotFound` when Shopify answers `order: null`.
    pub(super) async fn order(&self, id: u64) -> Result<wire::Order, UpstreamError> {
        #[derive(Deserialize)]
        struct Data {
            order: Option<wire::Order>,
        }
        let data: Data = self.call(&queries::ORDER, json!({ "id": gid("Order", id) })).await?;
        data.order.ok_or(UpstreamError::NotFound { upstream: Upstream::Shopify })
    }

    /// One page of the orders updated after `since` (RFC 3339), oldest change first.
    pub(super) async fn orders_page(
        &self,
        since: &str,
        after: Option<&str>,
    ) -> Result<Connection<wire::UpdatedOrder>, UpstreamError> {
        #[derive(Deserialize)]
        struct Data {
            orders: Connection<wire::UpdatedOrder>,
        }
        let vars = json!({ "first": ORDERS_PER_PAGE, "after": after, "q": format!("updated_at:>'{since}'") });
        Ok(self.call::<Data>(&queries::ORDERS_UPDATED, vars).await?.orders)
    }

    /// Variants by number with their stock at the cart's location (unknown ids left out).
    pub(super) async fn variants(&self, ids: &[u64]) -> Result<Vec<wire::Variant>, UpstreamError> {
        #[derive(Deserialize)]
        struct Data {
            nodes: Vec<Option<wire::Variant>>,
        }
        let location = self.location_gid()?;
        let mut out = Vec::new();
        for chunk in ids.chunks(VARIANTS_PER_CALL) {
            let gids: Vec<String> = chunk.iter().map(|id| gid("ProductVariant", id)).collect();
            let data: Data = self.call(&queries::ITEMS, json!({ "ids": gids, "locationId": location })).await?;
            out.extend(data.nodes.into_iter().flatten());
        }
        Ok(out)
    }

    /// Every variant with its stock, paged (bounded by [`MAX_VARIANT_PAGES`]).
    pub(super) async fn all_variants(&self) -> Result<Vec<wire::Variant>, UpstreamError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            product_variants: Connection<wire::Variant>,
        }
        let location = self.location_gid()?;
        let (mut out, mut after) = (Vec::new(), None::<String>);
        for _ in 0..MAX_VARIANT_PAGES {
            let vars = json!({ "first": VARIANTS_PER_CALL, "after": after, "locationId": location });
            let page = self.call::<Data>(&queries::VARIANTS, vars).await?.product_variants;
            after = page.next();
            out.extend(page.nodes);
            if after.is_none() {
                break;
            }
        }
        Ok(out)
    }

    /// The fulfillments already on an order.
    pub(super) async fn fulfillments(&self, order_id: u64) -> Result<Vec<wire::Fulfillment>, UpstreamError> {
        #[derive(Deserialize)]
        struct Data {
            order: Option<Fulfillments>,
        }
        #[derive(Deserialize)]
        struct Fulfillments {
            #[serde(default)]
            fulfillments: Vec<wire::Fulfillment>,
        }
        let data: Data = self.call(&queries::FULFILLMENTS, json!({ "id": gid("Order", order_id) })).await?;
        Ok(data.order.ok_or(UpstreamError::NotFound { upstream: Upstream::Shopify })?.fulfillments)
    }

    /// The order's fulfillment orders with their remaining quantities (§4).
    pub(super) async fn fulfillment_orders(&self, order_id: u64) -> Result<Vec<wire::FulfillmentOrder>, UpstreamError> {
        #[derive(Deserialize)]
        struct Data {
            order: Option<Orders>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Orders {
            #[serde(default)]
            fulfillment_orders: Connection<wire::FulfillmentOrder>,
        }
        let data: Data = self.call(&queries::FULFILLMENT_ORDERS, json!({ "id": gid("Order", order_id) })).await?;
        Ok(data.order.ok_or(UpstreamError::NotFound { upstream: Upstream::Shopify })?.fulfillment_orders.nodes)
    }

    /// `fulfillmentCreate`; the new fulfillment's gid.
    pub(super) async fn create_fulfillment(&self, input: &wire::FulfillmentInput) -> Result<String, UpstreamError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            fulfillment_create: Payload,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Payload {
            fulfillment: Option<wire::Node>,
            #[serde(default)]
            user_errors: Vec<UserError>,
        }
        let data: Data = self.call(&queries::FULFILLMENT_CREATE, json!({ "fulfillment": input })).await?;
        let payload = data.fulfillment_create;
        match payload.fulfillment {
            Some(f) if payload.user_errors.is_empty() => Ok(f.id),
            _ if !payload.user_errors.is_empty() => Err(rejected(&payload.user_errors)),
            _ => Err(UpstreamError::Invalid {
                reason: "fulfillmentCreate answered neither a fulfillment nor errors".into(),
            }),
        }
    }

    /// `inventorySetQuantities` under `@idempotent(key:)` (§5).
    pub(super) async fn set_quantities(
        &self,
        input: &wire::InventorySetQuantitiesInput,
        key: &str,
    ) -> Result<(), UpstreamError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            inventory_set_quantities: Payload,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Payload {
            #[serde(default)]
            user_errors: Vec<UserError>,
        }
        let data: Data = self.call(&queries::INVENTORY_SET, json!({ "input": input, "key": key })).await?;
        let errors = data.inventory_set_quantities.user_errors;
        if errors.is_empty() { Ok(()) } else { Err(rejected(&errors)) }
    }

    pub(super) async fn webhooks(&self) -> Result<Vec<wire::WebhookSubscription>, UpstreamError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            webhook_subscriptions: Connection<wire::WebhookSubscription>,
        }
        Ok(self.call::<Data>(&queries::WEBHOOKS, json!({})).await?.webhook_subscriptions.nodes)
    }

    pub(super) async fn create_webhook(&self, topic: &str, uri: &str) -> Result<(), UpstreamError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            webhook_subscription_create: Payload,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Payload {
            #[serde(default)]
            user_errors: Vec<UserError>,
        }
        let vars = json!({ "topic": topic, "webhookSubscription": { "uri": uri, "format": "JSON" } });
        let errors = self.call::<Data>(&queries::WEBHOOK_CREATE, vars).await?.webhook_subscription_create.user_errors;
        if errors.is_empty() { Ok(()) } else { Err(rejected(&errors)) }
    }

    /// A cheap authenticated query for "Test Connection".
    pub(super) async fn shop(&self) -> Result<(), UpstreamError> {
        self.call::<serde_json::Value>(&queries::SHOP, json!({})).await.map(|_| ())
    }
}
