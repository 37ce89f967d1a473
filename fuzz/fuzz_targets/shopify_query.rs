//! The query HMAC of Shopify's OAuth callback (`/oauth/shopify/callback?code&hmac&host&shop&state&timestamp`).
//! The input is a raw query string, decoded as the callback decodes it.
//!
//! 1. Verified under a fixed secret: never a panic, `Missing` exactly when there is no `hmac`,
//!    and `Ok` exactly when the first `hmac` is (in any case) what `shopify_query_sign` gives
//!    for the pairs (an oracle independent of the verify path).
//! 2. Round trip: the pairs without `hmac` signed, the query written out again (spaces as `+`,
//!    as a browser sends them) and decoded, verify; one more pair, or another secret, does not.
#![no_main]

use cartgate::signature::{SignatureError, shopify_query_sign, shopify_query_verify};
use libfuzzer_sys::fuzz_target;

/// The documented vector's secret (UPSTREAMS-shopify.md §1).
const SECRET: &str = "hush";

fuzz_target!(|data: &[u8]| {
    let pairs = decode(data);
    as_received(&pairs);
    round_trip(pairs.into_iter().filter(|(k, _)| k != "hmac").collect());
});

fn decode(query: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query).into_owned().collect()
}

fn borrowed(pairs: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> + Clone {
    pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
}

fn as_received(pairs: &[(String, String)]) {
    let verdict = shopify_query_verify(SECRET, borrowed(pairs));
    let Some(given) = pairs.iter().find(|(k, _)| k == "hmac").map(|(_, v)| v) else {
        assert_eq!(verdict, Err(SignatureError::Missing));
        return;
    };
    let expected = given.eq_ignore_ascii_case(&shopify_query_sign(SECRET, borrowed(pairs)));
    assert_eq!(verdict.is_ok(), expected, "verify {verdict:?} disagrees with sign for {pairs:?}");
}

fn round_trip(mut pairs: Vec<(String, String)>) {
    let hmac = shopify_query_sign(SECRET, borrowed(&pairs));
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.extend_pairs(&pairs).append_pair("hmac", &hmac);
    let received = decode(query.finish().as_bytes());
    assert_eq!(shopify_query_verify(SECRET, borrowed(&received)), Ok(()), "{pairs:?} signed does not verify");
    assert_eq!(
        shopify_query_verify("another secret", borrowed(&received)),
        Err(SignatureError::Mismatch),
        "another secret verifies {pairs:?}"
    );
    pairs.push(("timestamp".into(), "1".into()));
    pairs.push(("hmac".into(), hmac));
    assert_eq!(
        shopify_query_verify(SECRET, borrowed(&pairs)),
        Err(SignatureError::Mismatch),
        "a pair added after signing still verifies"
    );
}
