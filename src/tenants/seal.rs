//! Sealing tenant secrets at rest: AES-256-GCM (RustCrypto `aes-gcm`) under a key ring.
//!
//! A secret written through the admin API (an EasyPost key, a cart token, a webhook secret) is
//! stored only as a [`Sealed`] value:
//!
//! ```text
//! v1.<key id>.<nonce>.<ciphertext+tag>        (nonce and ciphertext: base64url, no padding)
//! ```
//!
//! - **The ring** is `tenants.keys`, each the base64 of 32 random bytes (`cartgate tenants
//!   keygen`). The first key seals; every key opens, so a key is rotated by putting a new one
//!   first, re-sealing everything (`POST /admin/tenants/rekey`), then dropping the old one.
//! - **The key id** is the first 8 hex digits of SHA-256 over a label and the key: it names
//!   which key opens a value without revealing anything about the key.
//! - **A fresh random 96-bit nonce** per seal (never a counter: replicas seal concurrently).
//! - **Associated data** is the tenant and the field name, so a sealed value copied to another
//!   tenant or another field does not open — the tag check fails — rather than decrypting into
//!   the wrong place.

use std::fmt;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The format version written in front of every sealed value.
const VERSION: &str = "v1";
/// Bytes of an AES-256 key.
const KEY_BYTES: usize = 32;
/// Bytes of an AES-GCM nonce.
const NONCE_BYTES: usize = 12;

/// Why a configured key is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("must be the base64 of 32 random bytes (`cartgate tenants keygen` prints one)")]
    NotAKey,
    #[error("key id `{0}` is in the ring twice")]
    Duplicate(String),
}

/// Why a value could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("no tenant key is configured (tenants.keys)")]
    NoKey,
    #[error("sealed with key `{0}`, which is not in tenants.keys")]
    UnknownKey(String),
    #[error("does not open with key `{0}` for this tenant and field (altered, or moved from another)")]
    DoesNotOpen(String),
    #[error("not a sealed value")]
    Malformed,
}

/// A secret as stored: ciphertext, never the plaintext.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sealed(String);

impl Sealed {
    fn parts(&self) -> Result<(&str, Vec<u8>, Vec<u8>), SealError> {
        let mut it = self.0.splitn(4, '.');
        let (Some(VERSION), Some(kid), Some(nonce), Some(ct)) = (it.next(), it.next(), it.next(), it.next()) else {
            return Err(SealError::Malformed);
        };
        let nonce = URL_SAFE_NO_PAD.decode(nonce).map_err(|_| SealError::Malformed)?;
        let ct = URL_SAFE_NO_PAD.decode(ct).map_err(|_| SealError::Malformed)?;
        if nonce.len() != NONCE_BYTES || kid.is_empty() {
            return Err(SealError::Malformed);
        }
        Ok((kid, nonce, ct))
    }

    /// The id of the key that sealed it.
    pub fn key_id(&self) -> &str {
        self.0.split('.').nth(1).unwrap_or_default()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Sealed {
    type Error = SealError;

    fn try_from(s: String) -> Result<Self, SealError> {
        let sealed = Self(s);
        sealed.parts()?;
        Ok(sealed)
    }
}

impl From<Sealed> for String {
    fn from(s: Sealed) -> Self {
        s.0
    }
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sealed({VERSION}.{}.…)", self.key_id())
    }
}

struct RingKey {
    id: String,
    cipher: Aes256Gcm,
}

/// The configured keys, first one sealing. `Debug` shows only the key ids.
pub struct KeyRing {
    keys: Vec<RingKey>,
}

impl KeyRing {
    /// A ring from base64 keys, in order (the first seals); an error names the position of the
    /// first bad key. An empty ring opens nothing and seals nothing.
    pub fn new<'a>(keys: impl IntoIterator<Item = &'a str>) -> Result<Self, (usize, KeyError)> {
        let mut ring = Vec::new();
        for (i, key) in keys.into_iter().enumerate() {
            let bytes = STANDARD.decode(key.trim()).map_err(|_| (i, KeyError::NotAKey))?;
            if bytes.len() != KEY_BYTES {
                return Err((i, KeyError::NotAKey));
            }
            let id = key_id(&bytes);
            if ring.iter().any(|k: &RingKey| k.id == id) {
                return Err((i, KeyError::Duplicate(id)));
            }
            ring.push(RingKey { id, cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes)) });
        }
        Ok(Self { keys: ring })
    }

    /// The id of the key that seals, if any.
    pub fn sealing_key_id(&self) -> Option<&str> {
        self.keys.first().map(|k| k.id.as_str())
    }

    /// Seals `secret` for `tenant`'s `field` under the first key, with a fresh nonce.
    pub fn seal(&self, tenant: &str, field: &str, secret: &SecretString) -> Result<Sealed, SealError> {
        let key = self.keys.first().ok_or(SealError::NoKey)?;
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let payload = Payload { msg: secret.expose_secret().as_bytes(), aad: &aad(tenant, field) };
        let ct = key.cipher.encrypt(&nonce, payload).map_err(|_| SealError::DoesNotOpen(key.id.clone()))?;
        let text = format!("{VERSION}.{}.{}.{}", key.id, URL_SAFE_NO_PAD.encode(nonce), URL_SAFE_NO_PAD.encode(ct));
        Ok(Sealed(text))
    }

    /// Opens a value sealed for `tenant`'s `field` with whichever ring key sealed it.
    pub fn open(&self, tenant: &str, field: &str, sealed: &Sealed) -> Result<SecretString, SealError> {
        let (kid, nonce, ct) = sealed.parts()?;
        let key = self.keys.iter().find(|k| k.id == kid).ok_or_else(|| SealError::UnknownKey(kid.to_owned()))?;
        let payload = Payload { msg: &ct, aad: &aad(tenant, field) };
        let plain = key
            .cipher
            .decrypt(Nonce::from_slice(&nonce), payload)
            .map_err(|_| SealError::DoesNotOpen(kid.to_owned()))?;
        String::from_utf8(plain).map(SecretString::from).map_err(|_| SealError::DoesNotOpen(kid.to_owned()))
    }

    /// Whether `sealed` is under a key other than the sealing one (a rekey would re-seal it).
    pub fn is_stale(&self, sealed: &Sealed) -> bool {
        self.sealing_key_id() != Some(sealed.key_id())
    }
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing").field("key_ids", &self.keys.iter().map(|k| &k.id).collect::<Vec<_>>()).finish()
    }
}

/// A fresh key for `tenants.keys`: the base64 of 32 bytes from the operating system's CSPRNG.
pub fn generate_key() -> SecretString {
    SecretString::from(STANDARD.encode(Aes256Gcm::generate_key(&mut OsRng)))
}

fn key_id(key: &[u8]) -> String {
    let digest = Sha256::new().chain_update(b"cartgate tenant key id\0").chain_update(key).finalize();
    hex::encode(&digest[..4])
}

/// Binds a sealed value to where it belongs.
fn aad(tenant: &str, field: &str) -> Vec<u8> {
    [b"cartgate seal v1\0".as_slice(), tenant.as_bytes(), b"\0", field.as_bytes()].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(keys: &[&SecretString]) -> KeyRing {
        KeyRing::new(keys.iter().map(|k| k.expose_secret())).unwrap()
    }

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn a_sealed_secret_opens_for_its_tenant_and_field_only() {
        let key = generate_key();
        let ring = ring(&[&key]);
        let sealed = ring.seal("acme", "wms.production_api_key", &secret("EZAK-live-1234")).unwrap();
        assert!(!sealed.as_str().contains("EZAK"), "{sealed:?}");
        let opened = ring.open("acme", "wms.production_api_key", &sealed).unwrap();
        assert_eq!(opened.expose_secret(), "EZAK-live-1234");
        assert!(matches!(ring.open("globex", "wms.production_api_key", &sealed), Err(SealError::DoesNotOpen(_))));
        assert!(matches!(ring.open("acme", "wms.test_api_key", &sealed), Err(SealError::DoesNotOpen(_))));
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let key = generate_key();
        let ring = ring(&[&key]);
        let a = ring.seal("acme", "f", &secret("same")).unwrap();
        let b = ring.seal("acme", "f", &secret("same")).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn an_altered_value_does_not_open() {
        let key = generate_key();
        let ring = ring(&[&key]);
        let sealed = ring.seal("acme", "f", &secret("value")).unwrap();
        let mut text = sealed.as_str().to_owned();
        let last = text.pop().unwrap();
        text.push(if last == 'A' { 'B' } else { 'A' });
        let altered = Sealed::try_from(text).unwrap();
        assert!(matches!(ring.open("acme", "f", &altered), Err(SealError::DoesNotOpen(_))));
    }

    #[test]
    fn rotation_the_first_key_seals_every_key_opens() {
        let (old, new) = (generate_key(), generate_key());
        let before = ring(&[&old]);
        let sealed_old = before.seal("acme", "f", &secret("v")).unwrap();
        let during = ring(&[&new, &old]);
        assert_eq!(during.open("acme", "f", &sealed_old).unwrap().expose_secret(), "v");
        assert!(during.is_stale(&sealed_old));
        let resealed = during.seal("acme", "f", &during.open("acme", "f", &sealed_old).unwrap()).unwrap();
        assert!(!during.is_stale(&resealed));
        let after = ring(&[&new]);
        assert_eq!(after.open("acme", "f", &resealed).unwrap().expose_secret(), "v");
        let unknown = after.open("acme", "f", &sealed_old).unwrap_err();
        assert_eq!(unknown, SealError::UnknownKey(sealed_old.key_id().to_owned()));
    }

    #[test]
    fn keys_that_are_not_32_base64_bytes_are_refused_with_their_position() {
        let good = generate_key();
        let short = secret(&STANDARD.encode([7u8; 16]));
        let (good, short) = (good.expose_secret(), short.expose_secret());
        assert_eq!(KeyRing::new([good, short]).unwrap_err(), (1, KeyError::NotAKey));
        assert_eq!(KeyRing::new(["not base64!"]).unwrap_err(), (0, KeyError::NotAKey));
        assert!(matches!(KeyRing::new([good, good]).unwrap_err(), (1, KeyError::Duplicate(_))));
    }

    #[test]
    fn an_empty_ring_seals_nothing_and_malformed_values_are_refused() {
        let ring = KeyRing::new([]).unwrap();
        assert_eq!(ring.seal("acme", "f", &secret("v")).unwrap_err(), SealError::NoKey);
        for bad in ["", "v1.abc", "v2.abcd.AAAAAAAAAAAAAAAA.AA", "v1.abcd.short.AA"] {
            assert!(Sealed::try_from(bad.to_owned()).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_shows_key_ids_only() {
        let key = generate_key();
        let ring = ring(&[&key]);
        let text = format!("{ring:?}");
        assert!(!text.contains(key.expose_secret()), "{text}");
        assert!(text.contains(ring.sealing_key_id().unwrap()), "{text}");
    }
}
