//! Standard Webhooks signatures (UPSTREAMS.md, "Standard Webhooks"): what a receiver checks.
//!
//! * `webhook-signature: v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`;
//! * keyed with the base64 **decoding** of the part of the secret after `whsec_` (not the text);
//! * a header may carry several space-separated signatures (key rotation): one match is enough;
//! * a receiver refuses timestamps more than [`TOLERANCE_SECS`] away from its clock (replays).
//!
//! [`verify`] is the reference algorithm, for tests and for anyone checking what we send.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The prefix of a Standard Webhooks secret.
const SECRET_PREFIX: &str = "whsec_";
/// The signature scheme version this module writes and reads.
const VERSION: &str = "v1";
/// How far a timestamp may be from the receiver's clock (the specification's five minutes).
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// Why a secret or a signature was refused. Never carries the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("the webhook secret must be `whsec_` followed by base64")]
    BadSecret,
    #[error("no v1 signature matches")]
    Mismatch,
    #[error("the timestamp is too far from now")]
    Stale,
}

/// The HMAC key of a `whsec_…` secret (the prefix is optional, as in the reference libraries).
pub fn key(secret: &str) -> Result<Vec<u8>, SignError> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    let key = STANDARD.decode(encoded).map_err(|_| SignError::BadSecret)?;
    if key.is_empty() { Err(SignError::BadSecret) } else { Ok(key) }
}

fn mac(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    mac
}

/// The `webhook-signature` value for one message.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, SignError> {
    let tag = mac(&key(secret)?, id, timestamp, body).finalize().into_bytes();
    Ok(format!("{VERSION},{}", STANDARD.encode(tag)))
}

/// Checks a `webhook-signature` header as a receiver does: any `v1` signature of the
/// space-separated list matches (constant-time), and `timestamp` is within the tolerance of `now`.
pub fn verify(secret: &str, id: &str, timestamp: i64, body: &[u8], header: &str, now: i64) -> Result<(), SignError> {
    if (now - timestamp).abs() > TOLERANCE_SECS {
        return Err(SignError::Stale);
    }
    let key = key(secret)?;
    let matches = header.split(' ').filter_map(|s| s.split_once(',')).any(|(version, sig)| {
        version == VERSION
            && STANDARD.decode(sig).is_ok_and(|tag| mac(&key, id, timestamp, body).verify_slice(&tag).is_ok())
    });
    if matches { Ok(()) } else { Err(SignError::Mismatch) }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The test vector of the specification and its reference libraries.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn the_specification_test_vector_signs_and_verifies() {
        assert_eq!(sign(SECRET, ID, TS, BODY).unwrap(), SIGNATURE);
        assert_eq!(verify(SECRET, ID, TS, BODY, SIGNATURE, TS), Ok(()));
        // Rotation: one of several signatures is enough; other versions are ignored.
        let several = format!("v1a,abc v1,AAAA {SIGNATURE}");
        assert_eq!(verify(SECRET, ID, TS, BODY, &several, TS + 10), Ok(()));
    }

    #[test]
    fn what_we_sign_verifies_with_the_reference_library() {
        let now = chrono::Utc::now().timestamp();
        let body = br#"{"type":"alert.opened","data":{}}"#;
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("webhook-id", ID.parse().unwrap());
        headers.insert("webhook-timestamp", now.to_string().parse().unwrap());
        headers.insert("webhook-signature", sign(SECRET, ID, now, body).unwrap().parse().unwrap());
        let reference = standardwebhooks::Webhook::new(SECRET).unwrap();
        assert!(reference.verify(body, &headers).is_ok());
        assert!(reference.verify(br#"{"type":"alert.resolved"}"#, &headers).is_err());
    }

    #[test]
    fn tampering_a_wrong_key_or_an_old_timestamp_is_refused() {
        assert_eq!(verify(SECRET, ID, TS, br#"{"test": 2432232315}"#, SIGNATURE, TS), Err(SignError::Mismatch));
        assert_eq!(verify(SECRET, "msg_other", TS, BODY, SIGNATURE, TS), Err(SignError::Mismatch));
        let other = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert_eq!(verify(other, ID, TS, BODY, SIGNATURE, TS), Err(SignError::Mismatch));
        assert_eq!(verify(SECRET, ID, TS, BODY, SIGNATURE, TS + TOLERANCE_SECS + 1), Err(SignError::Stale));
        assert_eq!(sign("whsec_not base64!", ID, TS, BODY), Err(SignError::BadSecret));
    }
}
