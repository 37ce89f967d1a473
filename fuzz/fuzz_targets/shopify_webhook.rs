//! Shopify webhook deliveries. The input is `topic \n body` (split at the first newline, which a
//! real header cannot contain).
//!
//! 1. `Topic::parse` never panics, a known topic's `name()` parses back to it, and an unknown
//!    topic keeps at most 64 characters (for metrics and logs).
//! 2. `order_id` accepts a body only when it is a JSON object whose `id` is that exact `u64`
//!    (an oracle through `serde_json::Value`; ids exceed 2^53, so never through a float).
//! 3. `compliance` never panics; a body it accepts names no other shop than its own domain,
//!    whatever the header's case.
//! 4. `X-Shopify-Hmac-Sha256`: arbitrary header bytes against fixed secrets verify exactly when
//!    the header is what `shopify_sign` produces; with the topic used as the secret, a signed
//!    body verifies (also as the previous secret) and a one-byte change does not.
#![no_main]

use cartgate::intake::shopify::{Topic, compliance, order_id};
use cartgate::signature::{SignatureError, shopify_sign, shopify_verify};
use libfuzzer_sys::fuzz_target;
use serde::Deserializer as _;
use serde::de::{IgnoredAny, MapAccess, Visitor};

/// The documented vector's secret (UPSTREAMS-shopify.md §2), so its seed reaches the `Ok` path.
const SECRETS: [&str; 2] = ["hush", "shpss-previous"];

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let topic = String::from_utf8_lossy(head);
    topic_round_trips(&topic);
    order_ids(body);
    compliance_requests(body);
    arbitrary_header(head, body);
    signed(&topic, body);
});

fn topic_round_trips(raw: &str) {
    match Topic::parse(raw) {
        Topic::Unknown(kept) => assert!(kept.chars().count() <= 64, "unknown topic kept whole: {kept:?}"),
        known => assert_eq!(Topic::parse(known.name()), known, "{raw:?} does not re-parse"),
    }
}

fn order_ids(body: &[u8]) {
    // serde_json skips the strings it does not read without checking their UTF-8, but checks
    // every key (an order body is signed by Shopify, so either way costs nothing). The oracle
    // reads the body lossily and, for a body that is not UTF-8, also allows a refusal.
    let lossy = String::from_utf8_lossy(body);
    let value = serde_json::from_str::<serde_json::Value>(&lossy).ok();
    let id = value.as_ref().and_then(|v| v.get("id")).and_then(serde_json::Value::as_u64);
    match order_id(body) {
        Ok(got) => assert_eq!(Some(got), id, "accepted an order id the JSON does not hold"),
        // Refusing what `Value` takes is right only for a duplicate `id` (`Value` keeps the last).
        Err(_) => {
            let excused = id.is_none() || top_level_ids(lossy.as_bytes()) > 1 || std::str::from_utf8(body).is_err();
            assert!(excused, "refused an order with id {id:?}");
        }
    }
}

/// How many members of the top-level object are named `id` (escapes decoded).
fn top_level_ids(body: &[u8]) -> usize {
    struct Count;
    impl<'de> Visitor<'de> for Count {
        type Value = usize;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<usize, A::Error> {
            let mut n = 0;
            while let Some(key) = map.next_key::<String>()? {
                n += usize::from(key == "id");
                map.next_value::<IgnoredAny>()?;
            }
            Ok(n)
        }
    }
    serde_json::Deserializer::from_slice(body).deserialize_map(Count).unwrap_or(0)
}

fn compliance_requests(body: &[u8]) {
    if let Ok(c) = compliance(body)
        && let Some(shop) = c.shop_domain.as_deref()
    {
        assert!(!c.names_other_shop(shop), "its own domain is another shop: {shop:?}");
        assert!(!c.names_other_shop(&shop.to_ascii_uppercase()), "the domain's case matters: {shop:?}");
    }
}

fn arbitrary_header(header: &[u8], body: &[u8]) {
    assert_eq!(shopify_verify(SECRETS, None, body), Err(SignatureError::Missing));
    let verdict = shopify_verify(SECRETS, Some(header), body);
    let text = std::str::from_utf8(header).ok().map(str::trim);
    let expected = text.is_some_and(|h| SECRETS.iter().any(|s| shopify_sign(s, body) == h));
    assert_eq!(verdict.is_ok(), expected, "verify {verdict:?} disagrees with sign");
}

fn signed(secret: &str, body: &[u8]) {
    let mut changed = body.to_vec();
    match changed.get_mut(body.len() / 2) {
        Some(b) => *b ^= 1,
        None => changed.push(0),
    }
    let sig = shopify_sign(secret, body);
    assert_eq!(shopify_verify([secret], Some(sig.as_bytes()), body), Ok(()));
    assert_eq!(shopify_verify(["the current secret", secret], Some(sig.as_bytes()), body), Ok(()));
    assert_eq!(shopify_verify([secret], Some(sig.as_bytes()), &changed), Err(SignatureError::Mismatch));
}
