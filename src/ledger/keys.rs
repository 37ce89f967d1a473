//! Every ledger key, spelled once (the table is in the `ledger` module header).
//!
//! Keys are relative: the Redis store puts `<prefix>:` in front (`redis_kv`). The strings are
//! what earlier versions wrote, byte for byte, so an existing store reads on; re-keying the
//! ledger (per tenant, for Redis Cluster) is a change to this file and a migration, nothing else.

use crate::domain::{CartId, MerchantId, OrderStatus};

/// How indexes, maps and lists name an order: `<cart>:<id>`.
pub fn member(cart: &CartId, id: u64) -> String {
    format!("{cart}:{id}")
}

/// Parses a [`member`] back.
pub fn parse_member(m: &str) -> Option<(CartId, u64)> {
    let (cart, id) = m.rsplit_once(':')?;
    Some((CartId::parse(cart).ok()?, id.parse().ok()?))
}

/// One order's versioned document.
pub(super) fn order(cart: &CartId, id: u64) -> String {
    format!("{{ledger}}:order:{cart}:{id}")
}

/// Every order, by creation time.
pub(super) const ALL_ORDERS: &str = "{ledger}:ix:orders";

/// The orders in status `s`, by creation time (exposed for tools that count them).
pub fn status_index(s: OrderStatus) -> String {
    format!("{{ledger}}:ix:status:{s}")
}

/// WMS order id → order, per merchant.
pub(super) fn wms_map(merchant: &str) -> String {
    format!("{{ledger}}:map:wms:{merchant}")
}

/// Tracking code → order, per merchant.
pub(super) fn tracking_map(merchant: &str) -> String {
    format!("{{ledger}}:map:trk:{merchant}")
}

/// SKU → barcode aliases.
pub(super) fn aliases(merchant: &str) -> String {
    format!("aliases:{merchant}")
}

/// Orders waiting for aliases → the SKUs each lacks.
pub(super) fn awaiting(merchant: &str) -> String {
    format!("awaiting:{merchant}")
}

/// The hash of named cursors and read stamps.
pub(super) const CURSORS: &str = "cursors";

/// Field of [`CURSORS`]: where the cart's order poll has read up to.
pub(super) fn order_poll_cursor(cart: &CartId) -> String {
    format!("poll_orders:{cart}")
}

/// Field of [`CURSORS`]: where the cart's first order download started (one day before the
/// cart was first polled), the cart's `created_after` when it sets none.
pub(super) fn cart_start(cart: &CartId) -> String {
    format!("cart_start:{cart}")
}

/// Field of [`CURSORS`]: when the cart's webhooks were first registered.
pub(super) fn webhooks_registered(cart: &CartId) -> String {
    format!("webhooks_registered:{cart}")
}

/// Field of [`CURSORS`]: when the merchant's WMS product list was last read. (The same text as
/// the cache's key, in another hash.)
pub(super) fn products_read_at(merchant: &MerchantId) -> String {
    format!("wms_products:{merchant}")
}

/// The merchant's WMS product cache (barcode → product id).
pub(super) fn products(merchant: &MerchantId) -> String {
    format!("wms_products:{merchant}")
}

/// Merchant → when its holds were last released by hand.
pub(super) const HOLDS_RELEASED: &str = "holds_released";

/// The merchant's shipment watch list (order → when last checked).
pub(super) fn ship_watch(merchant: &MerchantId) -> String {
    format!("ship_watch:{merchant}")
}

/// The cart's latest inventory snapshot (tagged by cart: one slot per cart on a cluster).
pub(super) fn inventory(cart: &CartId) -> String {
    format!("inventory:{{{cart}}}")
}

/// The merchant's API tokens: token id → its record (name, creation, SHA-256 of the token).
pub(super) fn tokens(merchant: &MerchantId) -> String {
    format!("tokens:{merchant}")
}

/// Every live token by the hex SHA-256 of its value → the merchant and token id (the lookup a
/// request authenticates through; the token itself is never stored).
pub(super) const TOKEN_HASHES: &str = "token_hashes";

/// The merchant's tokens: token id → ms of its last successful use.
pub(super) fn token_used(merchant: &MerchantId) -> String {
    format!("token_used:{merchant}")
}

/// The merchant's audit log, newest first, capped.
pub(super) fn audit(merchant: &MerchantId) -> String {
    format!("audit:{merchant}")
}
/// The cart's ship methods seen on orders: `<YYYY-MM-DD>|<label>` → orders that day.
pub(super) fn ship_seen(cart: &CartId) -> String {
    format!("ship_seen:{cart}")
}

/// The cart's orders waiting for a ship method mapping → the method label each waits for.
pub(super) fn ship_awaiting(cart: &CartId) -> String {
    format!("ship_awaiting:{cart}")
}

/// A cart's OAuth connection document (tokens sealed).
pub(super) fn oauth_connection(cart: &str) -> String {
    format!("oauth:{{{cart}}}")
}

/// A cart's refresh lease.
pub(super) fn oauth_lease(cart: &str) -> String {
    format!("oauth_lease:{{{cart}}}")
}

/// A pending Connect, by the hex SHA-256 of its `state`.
pub(super) fn oauth_state(digest: &str) -> String {
    format!("oauth_state:{digest}")
}

/// The merchants and carts set up through the admin API (one versioned document, secrets sealed).
pub(super) const TENANTS: &str = "tenants";

/// The merchant's alerts (one versioned document). New keys take the per-merchant hash tag
/// `{m:<merchant>}`: on Redis Cluster everything of one merchant written together is one slot.
pub(super) fn alerts(merchant: &MerchantId) -> String {
    format!("{{m:{merchant}}}:alerts")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored layout: changing any of these strands the data an existing store holds.
    #[test]
    fn keys_are_what_earlier_versions_wrote() {
        let (cart, merchant) = (CartId::parse("acme-tg").unwrap(), MerchantId::parse("acme").unwrap());
        assert_eq!(order(&cart, 5706), "{ledger}:order:acme-tg:5706");
        assert_eq!(ALL_ORDERS, "{ledger}:ix:orders");
        assert_eq!(status_index(OrderStatus::OnHold), "{ledger}:ix:status:on_hold");
        assert_eq!(wms_map("acme"), "{ledger}:map:wms:acme");
        assert_eq!(tracking_map("acme"), "{ledger}:map:trk:acme");
        assert_eq!(aliases("acme"), "aliases:acme");
        assert_eq!(awaiting("acme"), "awaiting:acme");
        assert_eq!((CURSORS, order_poll_cursor(&cart).as_str()), ("cursors", "poll_orders:acme-tg"));
        assert_eq!(products_read_at(&merchant), "wms_products:acme");
        assert_eq!(products(&merchant), "wms_products:acme");
        assert_eq!(HOLDS_RELEASED, "holds_released");
        assert_eq!(ship_watch(&merchant), "ship_watch:acme");
        assert_eq!(inventory(&cart), "inventory:{acme-tg}");
        assert_eq!(tokens(&merchant), "tokens:acme");
        assert_eq!(TOKEN_HASHES, "token_hashes");
        assert_eq!(token_used(&merchant), "token_used:acme");
        assert_eq!(audit(&merchant), "audit:acme");
        assert_eq!(TENANTS, "tenants");
        assert_eq!(ship_seen(&cart), "ship_seen:acme-tg");
        assert_eq!(ship_awaiting(&cart), "ship_awaiting:acme-tg");
        assert_eq!(oauth_connection("acme-tg"), "oauth:{acme-tg}");
        assert_eq!(oauth_lease("acme-tg"), "oauth_lease:{acme-tg}");
        assert_eq!(oauth_state("ab12"), "oauth_state:ab12");
        assert_eq!(alerts(&merchant), "{m:acme}:alerts");
        assert_eq!(webhooks_registered(&cart), "webhooks_registered:acme-tg");
    }

    #[test]
    fn members_round_trip() {
        let cart = CartId::parse("acme-tg").unwrap();
        assert_eq!(member(&cart, 7), "acme-tg:7");
        assert_eq!(parse_member("acme-tg:7"), Some((cart, 7)));
        assert_eq!(parse_member("acme-tg"), None);
    }
}
