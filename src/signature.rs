//! Webhook signature schemes, used both to verify real deliveries and, in the simulators, to sign.
//!
//! * TradeGecko: `X-Gecko-Signature` = standard Base64 (padded) of HMAC-SHA256 over the raw
//!   body, keyed with the OAuth application's client secret. No timestamp is signed.
//! * EasyPost: `X-Hmac-Signature: hmac-sha256-hex=<64 lowercase hex>` = HMAC-SHA256 over the raw
//!   body, keyed with the webhook secret **normalised to Unicode NFKD**, then UTF-8.
//!
//! * Shopify: `X-Shopify-Hmac-Sha256` = the TradeGecko scheme (standard Base64 of HMAC-SHA256
//!   over the raw body), keyed with the app's client secret (or a custom app's own).
//! * Shopify OAuth query (`/oauth/shopify/callback`): lowercase hex of HMAC-SHA256, keyed with
//!   the app's client secret, over the query without `hmac`/`signature`, keys sorted, each pair
//!   form-encoded as `k=v` but with a space as `%20` (not `+`), repeated keys' values joined by
//!   `,`, pairs joined by `&` (Shopify's `shopify-app-js` `hmac-validator`).
//!
//! Both are checked over the exact bytes received, before any parsing (re-serialised JSON
//! changes `614.4`-style numbers and breaks the MAC), and compared in constant time by
//! `hmac`'s `verify_slice`. Several secrets may be tried (rotation: current and previous).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use unicode_normalization::UnicodeNormalization;

type HmacSha256 = Hmac<Sha256>;

/// The EasyPost header value's prefix.
const EASYPOST_PREFIX: &str = "hmac-sha256-hex=";

/// Why a signature was refused (for logs and metrics only, never for the response body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("signature header missing")]
    Missing,
    #[error("signature header malformed")]
    Malformed,
    #[error("signature does not match")]
    Mismatch,
}

fn mac(key: &[u8], body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(body);
    mac
}

/// The `X-Gecko-Signature` value for `body`.
pub fn tradegecko_sign(secret: &str, body: &[u8]) -> String {
    STANDARD.encode(mac(secret.as_bytes(), body).finalize().into_bytes())
}

/// Checks an `X-Gecko-Signature` header against any of `secrets`.
pub fn tradegecko_verify<'a>(
    secrets: impl IntoIterator<Item = &'a str>,
    header: Option<&[u8]>,
    body: &[u8],
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let header = std::str::from_utf8(header).map_err(|_| SignatureError::Malformed)?.trim();
    let tag = STANDARD.decode(header).map_err(|_| SignatureError::Malformed)?;
    if tag.len() != 32 {
        return Err(SignatureError::Malformed);
    }
    verify_any(secrets.into_iter().map(|s| s.as_bytes().to_vec()), &tag, body)
}

/// The `X-Shopify-Hmac-Sha256` value for `body` (the TradeGecko scheme; tests and simulators).
pub fn shopify_sign(secret: &str, body: &[u8]) -> String {
    tradegecko_sign(secret, body)
}

/// Checks an `X-Shopify-Hmac-Sha256` header against any of `secrets` (current and previous).
pub fn shopify_verify<'a>(
    secrets: impl IntoIterator<Item = &'a str>,
    header: Option<&[u8]>,
    body: &[u8],
) -> Result<(), SignatureError> {
    tradegecko_verify(secrets, header, body)
}

/// The message a Shopify query HMAC covers: every pair but `hmac` and `signature`, keys sorted,
/// a repeated key's values joined by `,`, each pair form-encoded with `%20` for a space.
pub fn shopify_query_message<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut by_key: std::collections::BTreeMap<&str, Vec<&str>> = std::collections::BTreeMap::new();
    for (k, v) in pairs.into_iter().filter(|(k, _)| *k != "hmac" && *k != "signature") {
        by_key.entry(k).or_default().push(v);
    }
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (k, values) in &by_key {
        out.append_pair(k, &values.join(","));
    }
    // The form encoding writes a space as `+` and a literal `+` as `%2B`, so every `+` left is a space.
    out.finish().replace('+', "%20")
}

/// The `hmac` a Shopify query carries (tests and simulators).
pub fn shopify_query_sign<'a>(secret: &str, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    hex::encode(mac(secret.as_bytes(), shopify_query_message(pairs).as_bytes()).finalize().into_bytes())
}

/// Checks the `hmac` of a Shopify query (its decoded pairs, `hmac` among them) with `secret`.
pub fn shopify_query_verify<'a>(
    secret: &str,
    pairs: impl IntoIterator<Item = (&'a str, &'a str)> + Clone,
) -> Result<(), SignatureError> {
    let given = pairs.clone().into_iter().find(|(k, _)| *k == "hmac").map(|(_, v)| v).ok_or(SignatureError::Missing)?;
    if given.len() != 64 {
        return Err(SignatureError::Malformed);
    }
    let tag = hex::decode(given.to_ascii_lowercase()).map_err(|_| SignatureError::Malformed)?;
    let message = shopify_query_message(pairs);
    verify_any(std::iter::once(secret.as_bytes().to_vec()), &tag, message.as_bytes())
}

/// The EasyPost key: the secret normalised to NFKD, as UTF-8 bytes.
fn easypost_key(secret: &str) -> Vec<u8> {
    secret.nfkd().collect::<String>().into_bytes()
}

/// The `X-Hmac-Signature` value for `body`.
pub fn easypost_sign(secret: &str, body: &[u8]) -> String {
    let tag = mac(&easypost_key(secret), body).finalize().into_bytes();
    format!("{EASYPOST_PREFIX}{}", hex::encode(tag))
}

/// Checks an `X-Hmac-Signature` header against any of `secrets`.
pub fn easypost_verify<'a>(
    secrets: impl IntoIterator<Item = &'a str>,
    header: Option<&[u8]>,
    body: &[u8],
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let header = std::str::from_utf8(header).map_err(|_| SignatureError::Malformed)?.trim();
    let hex_tag = header.strip_prefix(EASYPOST_PREFIX).ok_or(SignatureError::Malformed)?;
    if hex_tag.len() != 64 {
        return Err(SignatureError::Malformed);
    }
    let tag = hex::decode(hex_tag).map_err(|_| SignatureError::Malformed)?;
    verify_any(secrets.into_iter().map(easypost_key), &tag, body)
}

/// Constant-time comparison of `tag` against the MAC under each key; every key is tried so
/// the time does not reveal which one matched.
fn verify_any(keys: impl Iterator<Item = Vec<u8>>, tag: &[u8], body: &[u8]) -> Result<(), SignatureError> {
    let mut ok = false;
    for key in keys {
        ok |= mac(&key, body).verify_slice(tag).is_ok();
    }
    if ok { Ok(()) } else { Err(SignatureError::Mismatch) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EP_BODY: &[u8] = include_bytes!("../tests/data/easypost-tracker-updated-event.json");
    const TG_BODY: &[u8] = include_bytes!("../tests/data/tradegecko-webhook-order-create.json");
    const EP_EXPECTED: &str = "hmac-sha256-hex=38f3f53c103713df81616a0a186d77141957323ec21d5fe9363db93840f527db";

    #[test]
    fn easypost_signer_reproduces_the_official_vector() {
        assert_eq!(EP_BODY.len(), 3550);
        assert_eq!(easypost_sign("s\u{e9}cret", EP_BODY), EP_EXPECTED);
        assert_eq!(easypost_verify(["s\u{e9}cret"], Some(EP_EXPECTED.as_bytes()), EP_BODY), Ok(()));
    }

    #[test]
    fn easypost_negative_vectors_are_rejected() {
        let unnormalised = "hmac-sha256-hex=7f1669d6699d0b937cc1e69402423bdd2be0a8bcf571d34a8116765f1741219b";
        let trailing_newline = "hmac-sha256-hex=044558adfe9c4781bc7c72cd65c57c7185673ac9c03669d3a493caafaff2ef44";
        for header in [unnormalised, trailing_newline] {
            assert_eq!(
                easypost_verify(["s\u{e9}cret"], Some(header.as_bytes()), EP_BODY),
                Err(SignatureError::Mismatch)
            );
        }
        assert_eq!(easypost_verify(["s\u{e9}cret"], None, EP_BODY), Err(SignatureError::Missing));
        assert_eq!(easypost_verify(["s\u{e9}cret"], Some(b"sha256=00"), EP_BODY), Err(SignatureError::Malformed));
    }

    #[test]
    fn tradegecko_documented_signature_verifies_and_one_byte_change_fails() {
        let expected = "CBMB3+xgjh4KhOp3BP71zNFhbkYppaE4KFYEHubFwCw=";
        assert_eq!(tradegecko_sign("tg-client-secret", TG_BODY), expected);
        assert_eq!(tradegecko_verify(["tg-client-secret"], Some(expected.as_bytes()), TG_BODY), Ok(()));
        let mut changed = TG_BODY.to_vec();
        changed[20] ^= 1;
        assert_eq!(
            tradegecko_verify(["tg-client-secret"], Some(expected.as_bytes()), &changed),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn shopify_documented_webhook_vector_verifies_and_one_byte_change_fails() {
        let body = br##"{"id":820982911946154508,"name":"#9999"}"##;
        let expected = "YBwnJ9vsibq7srObgXybmGHWuwos+jDEL//7749XS78=";
        assert_eq!(shopify_sign("hush", body), expected);
        assert_eq!(shopify_verify(["other", "hush"], Some(expected.as_bytes()), body), Ok(()));
        let mut changed = body.to_vec();
        changed[10] ^= 1;
        assert_eq!(shopify_verify(["hush"], Some(expected.as_bytes()), &changed), Err(SignatureError::Mismatch));
    }

    #[test]
    fn shopify_query_hmac_matches_the_documented_vector() {
        let pairs = [
            ("shop", "some-shop.myshopify.com"),
            ("code", "0907a61c0c8d55e99db179b68161bc00"),
            ("timestamp", "1337178173"),
            ("state", "0.6784241404160823"),
            ("hmac", "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf"),
        ];
        assert_eq!(
            shopify_query_message(pairs),
            "code=0907a61c0c8d55e99db179b68161bc00&shop=some-shop.myshopify.com&state=0.6784241404160823&timestamp=1337178173"
        );
        assert_eq!(shopify_query_sign("hush", pairs), pairs[4].1);
        assert_eq!(shopify_query_verify("hush", pairs), Ok(()));
        assert_eq!(shopify_query_verify("nope", pairs), Err(SignatureError::Mismatch));
        let mut changed = pairs;
        changed[2].1 = "1337178174";
        assert_eq!(shopify_query_verify("hush", changed), Err(SignatureError::Mismatch));
        assert_eq!(shopify_query_verify("hush", pairs[..4].iter().copied()), Err(SignatureError::Missing));
    }

    #[test]
    fn shopify_query_message_spells_spaces_and_repeated_keys_as_shopify_does() {
        let pairs = [("b", "x y"), ("a", "1+1"), ("b", "z"), ("signature", "s")];
        assert_eq!(shopify_query_message(pairs), "a=1%2B1&b=x%20y%2Cz");
    }

    #[test]
    fn previous_secret_is_accepted_during_rotation() {
        let sig = tradegecko_sign("old", TG_BODY);
        assert_eq!(tradegecko_verify(["new", "old"], Some(sig.as_bytes()), TG_BODY), Ok(()));
        assert_eq!(tradegecko_verify(["new"], Some(sig.as_bytes()), TG_BODY), Err(SignatureError::Mismatch));
    }
}
