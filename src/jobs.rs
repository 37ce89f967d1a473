//! Typed job payloads and their natural-key ids — the one place a job id is spelled, together
//! with the other natural keys that make effects happen once: webhook dedupe keys and the
//! `Idempotency-Key`s sent upstream.
//!
//! Producers (webhook intake, schedules, admin actions) and consumers (workflows) share these
//! types, so a payload written by one version is read by the same struct. Every string here is
//! stored (in the queue) or remembered upstream: changing one makes old and new differ, so a
//! redelivery or retry across an upgrade would no longer be recognised.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::{CartId, MerchantId};
use crate::store::{JobId, JobKind, NewJob};

/// Fetch a cart order and bring the ledger up to date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportOrder {
    pub cart: CartId,
    pub order_id: u64,
    /// What triggered it (`order.finalized`, `poll`, …), for the timeline.
    pub trigger: String,
}

/// Deliver one ledger order to the warehouse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendOrder {
    pub cart: CartId,
    pub order_id: u64,
}

/// Ask the warehouse to cancel an order that was voided in the cart after delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CancelOrder {
    pub cart: CartId,
    pub order_id: u64,
}

/// A recurring job about one cart (order download, webhook upkeep).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CartTask {
    pub cart: CartId,
}

/// A recurring job about one merchant (scheduled delivery, shipments, inventory).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MerchantTask {
    pub merchant: MerchantId,
}

/// Look at one WMS order for new shipments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckShipment {
    pub merchant: MerchantId,
    pub wms_order_id: String,
}

/// A tracker update as EasyPost sent it (the fields cartgate keeps).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackerUpdate {
    pub id: Option<String>,
    pub tracking_code: String,
    pub carrier: Option<String>,
    pub status: String,
    pub status_detail: Option<String>,
    pub public_url: Option<String>,
    pub est_delivery_date: Option<String>,
    pub updated_at: Option<String>,
}

/// Record a tracker status on the shipment it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackerEvent {
    pub merchant: MerchantId,
    pub event_id: String,
    pub tracker: TrackerUpdate,
}

/// Upload tracking to the cart: one order's pending shipments, or (no `order_id`) the
/// scheduled upload run of a cart whose `shipment_upload` is an interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushTracking {
    pub cart: CartId,
    #[serde(default)]
    pub order_id: Option<u64>,
}

/// Write one inventory snapshot (stored in the ledger, named by its hash) to a cart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushInventory {
    pub cart: CartId,
    pub snapshot: String,
}

/// Send one alert message of a merchant (`crate::alerts`); the message's notices are in its
/// outbox. `digest_end` (store-clock ms) is set for a digest period's message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliverAlert {
    pub merchant: MerchantId,
    pub message: String,
    #[serde(default)]
    pub digest_end: Option<i64>,
}

/// Erase the personal data (names, addresses, e-mails, phones) of a Shopify cart's orders: a
/// customer's (`customers/redact`) or every one (`shop/redact`). The payload never holds the
/// customer's e-mail or phone in the clear: it is stored in the queue (and kept by a dead job).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErasePersonalData {
    pub cart: CartId,
    pub scope: ErasureScope,
}

/// Whose orders an erasure covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "of")]
pub enum ErasureScope {
    /// The listed orders, and every order of the cart whose e-mail has `email_digest`
    /// ([`erasure_email_digest`]).
    Customer { customer_id: Option<u64>, orders: Vec<u64>, email_digest: Option<String> },
    /// Every order of the cart.
    Shop,
}

/// The e-mail an erasure looks for, as a digest bound to the cart: the queue holds this, not
/// the address; matching compares the digest of each order's (trimmed, lower-case) e-mail.
pub fn erasure_email_digest(cart: &CartId, email: &str) -> String {
    let digest = Sha256::digest(format!("cartgate-erasure:{cart}:{}", email.trim().to_lowercase()).as_bytes());
    hex::encode(digest)
}

fn job(kind: JobKind, parts: &[&str], payload: &impl Serialize) -> NewJob {
    // Ids are built from validated cart/merchant ids and numbers or upstream ids checked by
    // the caller, so they are always valid; fall back to a hashed id rather than panic.
    let id = JobId::new(kind, parts).unwrap_or_else(|_| {
        let joined = parts.join(":");
        let digest = hex::encode(&Sha256::digest(joined.as_bytes())[..16]);
        JobId::new(kind, &[&digest]).unwrap_or_else(|e| unreachable!("hex id is valid: {e}"))
    });
    NewJob { id, kind, payload: serde_json::to_value(payload).unwrap_or_default() }
}

impl ImportOrder {
    pub fn job(&self) -> NewJob {
        job(JobKind::ImportOrder, &[self.cart.as_str(), &self.order_id.to_string()], self)
    }
}

impl SendOrder {
    pub fn job(&self) -> NewJob {
        job(JobKind::SendOrder, &[self.cart.as_str(), &self.order_id.to_string()], self)
    }

    /// What the id of every send of `cart` starts with (`send_order:<cart>:`), to pick a
    /// merchant's held sends out of the hold set.
    pub fn id_prefix(cart: &CartId) -> String {
        format!("{}:{cart}:", JobKind::SendOrder)
    }
}

impl CancelOrder {
    pub fn job(&self) -> NewJob {
        job(JobKind::CancelOrder, &[self.cart.as_str(), &self.order_id.to_string()], self)
    }
}

impl CartTask {
    pub fn job(&self, kind: JobKind) -> NewJob {
        job(kind, &[self.cart.as_str()], self)
    }
}

impl MerchantTask {
    pub fn job(&self, kind: JobKind) -> NewJob {
        job(kind, &[self.merchant.as_str()], self)
    }
}

impl CheckShipment {
    pub fn job(&self) -> NewJob {
        job(JobKind::CheckShipment, &[self.merchant.as_str(), &self.wms_order_id], self)
    }
}

impl TrackerEvent {
    pub fn job(&self) -> NewJob {
        job(JobKind::TrackerEvent, &[self.merchant.as_str(), &self.event_id], self)
    }
}

impl PushTracking {
    pub fn job(&self) -> NewJob {
        match self.order_id {
            Some(id) => job(JobKind::PushTracking, &[self.cart.as_str(), &id.to_string()], self),
            None => job(JobKind::PushTracking, &[self.cart.as_str()], self),
        }
    }
}

impl PushInventory {
    pub fn job(&self) -> NewJob {
        job(JobKind::PushInventory, &[self.cart.as_str(), &self.snapshot], self)
    }
}

impl DeliverAlert {
    pub fn job(&self) -> NewJob {
        job(JobKind::DeliverAlert, &[self.merchant.as_str(), &self.message], self)
    }
}

impl ErasePersonalData {
    /// `erase_personal_data:<cart>:shop`, or `…:customer:<digest of the scope>`, so the same
    /// request delivered twice is one job and another request about the customer another.
    pub fn job(&self) -> NewJob {
        match &self.scope {
            ErasureScope::Shop => job(JobKind::ErasePersonalData, &[self.cart.as_str(), "shop"], self),
            scope => {
                let text = serde_json::to_string(scope).unwrap_or_default();
                let digest = hex::encode(&Sha256::digest(text.as_bytes())[..8]);
                job(JobKind::ErasePersonalData, &[self.cart.as_str(), "customer", &digest], self)
            }
        }
    }
}

/// The dedupe key of a Shopify webhook delivery (`webhook_id`: its `X-Shopify-Webhook-Id`).
pub fn shopify_webhook_key(cart: &CartId, webhook_id: &str) -> String {
    format!("shopify:{cart}:{webhook_id}")
}

/// The dedupe key of a TradeGecko webhook delivery (`delivery`: its delivery id).
pub fn tradegecko_delivery_key(cart: &CartId, delivery: &str) -> String {
    format!("tg:{cart}:{delivery}")
}

/// The dedupe key of an EasyPost event.
pub fn easypost_event_key(merchant: &MerchantId, event_id: &str) -> String {
    format!("ep:{merchant}:{event_id}")
}

/// The `Idempotency-Key` of the cart fulfillment for one parcel (`pick_id`) of an order.
pub fn fulfillment_key(cart: &CartId, order_id: u64, pick_id: &str) -> String {
    format!("cartgate:{cart}:{order_id}:{pick_id}")
}

/// The `Idempotency-Key` of one stock adjustment: the cart, the snapshot and the exact
/// `(variant, delta)` lines, so a retry of the same deltas is the same request and different
/// deltas (stock moved meanwhile) are a new one.
pub fn stock_adjustment_key(cart: &CartId, snapshot: &str, lines: impl IntoIterator<Item = (u64, i64)>) -> String {
    let mut h = Sha256::new();
    for (variant, delta) in lines {
        h.update(format!("{variant}={delta};").as_bytes());
    }
    format!("cartgate:{cart}:stock:{snapshot}:{}", hex::encode(&h.finalize()[..8]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_are_natural_keys() {
        let j = ImportOrder { cart: CartId::parse("acme-tg").unwrap(), order_id: 5706, trigger: "x".into() }.job();
        assert_eq!(j.id.as_str(), "import_order:acme-tg:5706");
        let back: ImportOrder = serde_json::from_value(j.payload).unwrap();
        assert_eq!(back.order_id, 5706);
    }

    #[test]
    fn natural_keys_are_spelled_as_before() {
        let cart = CartId::parse("acme-tg").unwrap();
        let merchant = MerchantId::parse("acme").unwrap();
        let send = SendOrder { cart: cart.clone(), order_id: 5706 }.job();
        assert!(send.id.as_str().starts_with(&SendOrder::id_prefix(&cart)));
        assert_eq!(SendOrder::id_prefix(&cart), "send_order:acme-tg:");
        assert_eq!(tradegecko_delivery_key(&cart, "d-1"), "tg:acme-tg:d-1");
        assert_eq!(easypost_event_key(&merchant, "evt_1"), "ep:acme:evt_1");
        assert_eq!(shopify_webhook_key(&cart, "b54557e4"), "shopify:acme-tg:b54557e4");
        let shop = ErasePersonalData { cart: cart.clone(), scope: ErasureScope::Shop }.job();
        assert_eq!(shop.id.as_str(), "erase_personal_data:acme-tg:shop");
        assert_eq!(fulfillment_key(&cart, 5706, "pick_1"), "cartgate:acme-tg:5706:pick_1");
        let digest = hex::encode(&Sha256::digest(b"7=2;8=-1;")[..8]);
        assert_eq!(
            stock_adjustment_key(&cart, "abc", [(7, 2), (8, -1)]),
            format!("cartgate:acme-tg:stock:abc:{digest}")
        );
    }

    #[test]
    fn an_erasure_job_carries_a_digest_not_the_email() {
        let cart = CartId::parse("acme-shop").unwrap();
        let digest = erasure_email_digest(&cart, " John@Example.com ");
        assert_eq!(digest, erasure_email_digest(&cart, "john@example.com"));
        assert_ne!(digest, erasure_email_digest(&CartId::parse("other").unwrap(), "john@example.com"));
        let scope = ErasureScope::Customer { customer_id: Some(7), orders: vec![1, 2], email_digest: Some(digest) };
        let j = ErasePersonalData { cart, scope }.job();
        assert!(j.id.as_str().starts_with("erase_personal_data:acme-shop:customer:"));
        assert!(!j.payload.to_string().to_lowercase().contains("example.com"));
        let back: ErasePersonalData = serde_json::from_value(j.payload).unwrap();
        assert!(matches!(back.scope, ErasureScope::Customer { customer_id: Some(7), .. }));
    }

    #[test]
    fn an_upstream_id_with_spaces_still_makes_a_valid_job_id() {
        let j = CheckShipment { merchant: MerchantId::parse("m").unwrap(), wms_order_id: "order 1".into() }.job();
        assert!(j.id.as_str().starts_with("check_shipment:"));
    }
}
