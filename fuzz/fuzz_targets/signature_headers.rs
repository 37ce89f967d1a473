//! Signature headers. The input is `header \n body` (split at the first newline, which a real
//! header cannot contain).
//!
//! 1. Arbitrary header bytes against fixed secrets: never a panic, `None` is `Missing`, and
//!    `Ok` exactly when the header is the signature `*_sign` would produce (an oracle that
//!    re-derives the MAC independently of the verify path).
//! 2. Round trip, with the header part used as the secret: `verify([secret], sign(secret,
//!    body), body)` is `Ok` for both schemes, also as the second of two secrets (rotation), and
//!    a one-byte change of the body is `Mismatch`.
#![no_main]

use cartgate::signature::{SignatureError, easypost_sign, easypost_verify, tradegecko_sign, tradegecko_verify};
use libfuzzer_sys::fuzz_target;

/// The secrets of the unit-test vectors, so seeds with real signatures reach the `Ok` path.
const SECRETS: [&str; 2] = ["s\u{e9}cret", "tg-client-secret"];

fuzz_target!(|data: &[u8]| {
    let (header, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    arbitrary_headers(header, body);
    round_trip(&String::from_utf8_lossy(header), body);
});

fn arbitrary_headers(header: &[u8], body: &[u8]) {
    assert_eq!(tradegecko_verify(SECRETS, None, body), Err(SignatureError::Missing));
    assert_eq!(easypost_verify(SECRETS, None, body), Err(SignatureError::Missing));

    let text = std::str::from_utf8(header).ok().map(str::trim);
    let tg = tradegecko_verify(SECRETS, Some(header), body);
    let tg_expected = text.is_some_and(|h| SECRETS.iter().any(|s| tradegecko_sign(s, body) == h));
    assert_eq!(tg.is_ok(), tg_expected, "tradegecko verify {tg:?} disagrees with sign");

    let ep = easypost_verify(SECRETS, Some(header), body);
    let ep_expected = text
        .and_then(|h| h.strip_prefix("hmac-sha256-hex="))
        .is_some_and(|hex| SECRETS.iter().any(|s| easypost_sign(s, body)[16..] == hex.to_ascii_lowercase()));
    assert_eq!(ep.is_ok(), ep_expected, "easypost verify {ep:?} disagrees with sign");
}

fn round_trip(secret: &str, body: &[u8]) {
    let mut changed = body.to_vec();
    match changed.get_mut(body.len() / 2) {
        Some(b) => *b ^= 1,
        None => changed.push(0),
    }
    let other = "a different secret";

    let sig = tradegecko_sign(secret, body);
    assert_eq!(tradegecko_verify([secret], Some(sig.as_bytes()), body), Ok(()));
    assert_eq!(tradegecko_verify([other, secret], Some(sig.as_bytes()), body), Ok(()));
    assert_eq!(tradegecko_verify([secret], Some(sig.as_bytes()), &changed), Err(SignatureError::Mismatch));

    let sig = easypost_sign(secret, body);
    assert_eq!(easypost_verify([secret], Some(sig.as_bytes()), body), Ok(()));
    assert_eq!(easypost_verify([other, secret], Some(sig.as_bytes()), body), Ok(()));
    assert_eq!(easypost_verify([secret], Some(sig.as_bytes()), &changed), Err(SignatureError::Mismatch));
}
