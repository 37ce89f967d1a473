//! Every ledger key, spelled once (the table is in the `ledger` module header).
//!
//! Keys are relative: the Redis store puts `<prefix>:` in front (`redis_kv`). Everything that
//! belongs to one merchant starts with the merchant's hash tag `{m:<merchant>}` ([`tag`]): on
//! Redis Cluster a merchant's order, its indexes and its maps live in one slot (written by one
//! atomic script), and merchants spread over the shards. Only what is looked up before the
//! merchant is known stays global: the token-hash lookup, `tenants`, a pending OAuth `state`,
//! and the layout marker. The keys of the previous layout (one `{ledger}` tag for every order)
//! are spelled in [`v1`], for `cartgate migrate` alone.

use crate::domain::{CartId, MerchantId, OrderStatus};

/// The merchant's hash tag, the first part of every key of its own.
pub fn tag(merchant: &str) -> String {
    format!("{{m:{merchant}}}")
}

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
pub(super) fn order(merchant: &str, cart: &CartId, id: u64) -> String {
    format!("{}:order:{cart}:{id}", tag(merchant))
}

/// The merchant's orders, by creation time.
pub(super) fn all_orders(merchant: &str) -> String {
    format!("{}:ix:orders", tag(merchant))
}

/// The merchant's orders in status `s`, by creation time (exposed for tools that count them).
pub fn status_index(merchant: &str, s: OrderStatus) -> String {
    format!("{}:ix:status:{s}", tag(merchant))
}

/// The merchant's finished orders (confirmed, canceled, skipped), by when they finished: what
/// retention reads.
pub(super) fn finished(merchant: &str) -> String {
    format!("{}:ix:finished", tag(merchant))
}

/// WMS order id → order.
pub(super) fn wms_map(merchant: &str) -> String {
    format!("{}:map:wms", tag(merchant))
}

/// Tracking code → order.
pub(super) fn tracking_map(merchant: &str) -> String {
    format!("{}:map:trk", tag(merchant))
}

/// SKU → barcode aliases.
pub(super) fn aliases(merchant: &str) -> String {
    format!("{}:aliases", tag(merchant))
}

/// Orders waiting for aliases → the SKUs each lacks.
pub(super) fn awaiting(merchant: &str) -> String {
    format!("{}:awaiting", tag(merchant))
}

/// The merchant's hash of named cursors and read stamps.
pub(super) fn cursors(merchant: &str) -> String {
    format!("{}:cursors", tag(merchant))
}

/// Field of [`cursors`]: where the cart's order poll has read up to.
pub(super) fn order_poll_cursor(cart: &CartId) -> String {
    format!("poll_orders:{cart}")
}

/// Field of [`cursors`]: where the cart's first order download started (one day before the
/// cart was first polled), the cart's `created_after` when it sets none.
pub(super) fn cart_start(cart: &CartId) -> String {
    format!("cart_start:{cart}")
}

/// Field of [`cursors`]: when the merchant's WMS product list was last read.
pub(super) const PRODUCTS_READ_AT: &str = "wms_products";

/// Field of [`cursors`]: when the cart's webhooks were first registered.
pub(super) fn webhooks_registered(cart: &CartId) -> String {
    format!("webhooks_registered:{cart}")
}

/// The merchant's WMS product cache (barcode → product id).
pub(super) fn products(merchant: &MerchantId) -> String {
    format!("{}:wms_products", tag(merchant.as_str()))
}

/// Field of [`cursors`]: when the merchant's holds were last released by hand (ms).
pub(super) const HOLDS_RELEASED: &str = "holds_released";

/// The merchant's shipment watch list (order → when last checked).
pub(super) fn ship_watch(merchant: &MerchantId) -> String {
    format!("{}:ship_watch", tag(merchant.as_str()))
}

/// The cart's latest inventory snapshot.
pub(super) fn inventory(merchant: &MerchantId, cart: &CartId) -> String {
    format!("{}:inventory:{cart}", tag(merchant.as_str()))
}

/// The merchant's API tokens: token id → its record (name, creation, SHA-256 of the token).
pub(super) fn tokens(merchant: &MerchantId) -> String {
    format!("{}:tokens", tag(merchant.as_str()))
}

/// Every live token by the hex SHA-256 of its value → the merchant and token id (the lookup a
/// request authenticates through, before the merchant is known; the token itself is never
/// stored).
pub(super) const TOKEN_HASHES: &str = "token_hashes";

/// The merchant's tokens: token id → ms of its last successful use.
pub(super) fn token_used(merchant: &MerchantId) -> String {
    format!("{}:token_used", tag(merchant.as_str()))
}

/// The merchant's audit log, newest first, capped.
pub(super) fn audit(merchant: &MerchantId) -> String {
    format!("{}:audit", tag(merchant.as_str()))
}

/// The cart's ship methods seen on orders: `<YYYY-MM-DD>|<label>` → orders that day.
pub(super) fn ship_seen(merchant: &MerchantId, cart: &CartId) -> String {
    format!("{}:ship_seen:{cart}", tag(merchant.as_str()))
}

/// The cart's orders waiting for a ship method mapping → the method label each waits for.
pub(super) fn ship_awaiting(merchant: &MerchantId, cart: &CartId) -> String {
    format!("{}:ship_awaiting:{cart}", tag(merchant.as_str()))
}

/// A cart's OAuth connection document (tokens sealed; tagged by cart).
pub(super) fn oauth_connection(cart: &str) -> String {
    format!("oauth:{{{cart}}}")
}

/// A cart's refresh lease.
pub(super) fn oauth_lease(cart: &str) -> String {
    format!("oauth_lease:{{{cart}}}")
}

/// A pending Connect, by the hex SHA-256 of its `state` (global: the callback names no merchant).
pub(super) fn oauth_state(digest: &str) -> String {
    format!("oauth_state:{digest}")
}

/// The merchants and carts set up through the admin API (one versioned document, secrets sealed).
pub(super) const TENANTS: &str = "tenants";

/// Which layout the stored ledger has (`2`: per merchant), or that a migration is under way.
pub const LAYOUT: &str = "ledger_layout";

/// The keys of the previous layout (every order under `{ledger}`, the rest untagged), which
/// `cartgate migrate` reads and removes.
pub mod v1 {
    use crate::domain::{CartId, OrderStatus};

    pub fn order(cart: &CartId, id: u64) -> String {
        format!("{{ledger}}:order:{cart}:{id}")
    }
    pub const ALL_ORDERS: &str = "{ledger}:ix:orders";
    pub fn status_index(s: OrderStatus) -> String {
        format!("{{ledger}}:ix:status:{s}")
    }
    pub fn wms_map(merchant: &str) -> String {
        format!("{{ledger}}:map:wms:{merchant}")
    }
    pub fn tracking_map(merchant: &str) -> String {
        format!("{{ledger}}:map:trk:{merchant}")
    }
    /// The one global hash of cursors: `poll_orders:<cart>`, `cart_start:<cart>`,
    /// `wms_products:<merchant>`.
    pub const CURSORS: &str = "cursors";
    /// Merchant → ms of its last release of holds by hand (one global hash).
    pub const HOLDS_RELEASED: &str = "holds_released";
    /// A cart's inventory snapshot: `inventory:{<cart>}` → `{m:<merchant>}:inventory:<cart>`.
    pub const INVENTORY: &str = "inventory";
    /// Per-merchant keys that only gained the tag: `<old prefix>:<merchant>` → `{m:<merchant>}:<new name>`.
    pub const PER_MERCHANT: &[(&str, &str)] = &[
        ("aliases", "aliases"),
        ("awaiting", "awaiting"),
        ("wms_products", "wms_products"),
        ("ship_watch", "ship_watch"),
        ("tokens", "tokens"),
        ("token_used", "token_used"),
        ("audit", "audit"),
    ];
    /// Per-cart keys that gained their merchant's tag: `<name>:<cart>` → `{m:<merchant>}:<name>:<cart>`.
    pub const PER_CART: &[&str] = &["ship_seen", "ship_awaiting"];
}

/// The merchant's alerts (one versioned document).
pub(super) fn alerts(merchant: &MerchantId) -> String {
    format!("{}:alerts", tag(merchant.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored layout: changing any of these strands the data an existing store holds.
    #[test]
    fn keys_are_what_the_layout_says() {
        let (cart, merchant) = (CartId::parse("acme-tg").unwrap(), MerchantId::parse("acme").unwrap());
        assert_eq!(order("acme", &cart, 5706), "{m:acme}:order:acme-tg:5706");
        assert_eq!(all_orders("acme"), "{m:acme}:ix:orders");
        assert_eq!(status_index("acme", OrderStatus::OnHold), "{m:acme}:ix:status:on_hold");
        assert_eq!(finished("acme"), "{m:acme}:ix:finished");
        assert_eq!(wms_map("acme"), "{m:acme}:map:wms");
        assert_eq!(tracking_map("acme"), "{m:acme}:map:trk");
        assert_eq!(aliases("acme"), "{m:acme}:aliases");
        assert_eq!(awaiting("acme"), "{m:acme}:awaiting");
        assert_eq!(
            (cursors("acme"), order_poll_cursor(&cart)),
            ("{m:acme}:cursors".into(), "poll_orders:acme-tg".into())
        );
        assert_eq!(cart_start(&cart), "cart_start:acme-tg");
        assert_eq!(PRODUCTS_READ_AT, "wms_products");
        assert_eq!(products(&merchant), "{m:acme}:wms_products");
        assert_eq!((cursors("acme"), HOLDS_RELEASED), ("{m:acme}:cursors".into(), "holds_released"));
        assert_eq!(ship_watch(&merchant), "{m:acme}:ship_watch");
        assert_eq!(inventory(&merchant, &cart), "{m:acme}:inventory:acme-tg");
        assert_eq!(tokens(&merchant), "{m:acme}:tokens");
        assert_eq!(TOKEN_HASHES, "token_hashes");
        assert_eq!(token_used(&merchant), "{m:acme}:token_used");
        assert_eq!(audit(&merchant), "{m:acme}:audit");
        assert_eq!(TENANTS, "tenants");
        assert_eq!(LAYOUT, "ledger_layout");
        assert_eq!(ship_seen(&merchant, &cart), "{m:acme}:ship_seen:acme-tg");
        assert_eq!(ship_awaiting(&merchant, &cart), "{m:acme}:ship_awaiting:acme-tg");
        assert_eq!(oauth_connection("acme-tg"), "oauth:{acme-tg}");
        assert_eq!(oauth_lease("acme-tg"), "oauth_lease:{acme-tg}");
        assert_eq!(oauth_state("ab12"), "oauth_state:ab12");
        assert_eq!(alerts(&merchant), "{m:acme}:alerts");
        assert_eq!(webhooks_registered(&cart), "webhooks_registered:acme-tg");
    }

    /// What the previous release wrote, byte for byte (what `cartgate migrate` reads).
    #[test]
    fn v1_keys_are_what_the_previous_release_wrote() {
        let cart = CartId::parse("acme-tg").unwrap();
        assert_eq!(v1::order(&cart, 5706), "{ledger}:order:acme-tg:5706");
        assert_eq!(v1::ALL_ORDERS, "{ledger}:ix:orders");
        assert_eq!(v1::status_index(OrderStatus::OnHold), "{ledger}:ix:status:on_hold");
        assert_eq!(v1::wms_map("acme"), "{ledger}:map:wms:acme");
        assert_eq!(v1::tracking_map("acme"), "{ledger}:map:trk:acme");
        assert_eq!(v1::CURSORS, "cursors");
    }

    #[test]
    fn members_round_trip() {
        let cart = CartId::parse("acme-tg").unwrap();
        assert_eq!(member(&cart, 7), "acme-tg:7");
        assert_eq!(parse_member("acme-tg:7"), Some((cart, 7)));
        assert_eq!(parse_member("acme-tg"), None);
    }
}
