//! A stored merchant record: the JSON of a `[[merchants]]` table (minus `id`) with its carts,
//! every secret field holding a [`Sealed`] value instead of the plaintext.
//!
//! The associated data of each sealed value is the merchant id and the field path
//! (`wms.production_api_key`, `carts.<cart>.client_secret`), so a value copied to another
//! merchant, cart or field does not open. Parsing goes through the same `figment` extraction
//! and the same rules ([`merchant_problems`]) as the file, so a problem reads the same.

use figment::Figment;
use figment::providers::Serialized;
use secrecy::SecretString;
use serde_json::Value;

use super::{KeyRing, SealError, Sealed};
use crate::settings::{CartSettings, ConfigError, MerchantSettings, Secret, merchant_problems};

/// The secret fields of `wms`.
pub const WMS_SECRETS: [&str; 4] = ["production_api_key", "test_api_key", "webhook_secret", "webhook_secret_previous"];
/// The secret of `alerts.webhook` (sealed with this path as its associated data).
pub const ALERT_WEBHOOK_SECRET: &str = "alerts.webhook.secret";
/// The secret fields of a cart.
pub const CART_SECRETS: [&str; 3] = ["access_token", "client_secret", "client_secret_previous"];

/// A secret that could not be sealed or opened, and which field it was.
#[derive(Debug, thiserror::Error)]
#[error("{field}: {error}")]
pub struct FieldError {
    pub field: String,
    pub error: SealError,
}

/// Calls `f` with the path and the slot of every secret field present in a merchant record.
pub fn each_secret<E>(record: &mut Value, mut f: impl FnMut(&str, &mut Value) -> Result<(), E>) -> Result<(), E> {
    if let Some(wms) = record.get_mut("wms").and_then(Value::as_object_mut) {
        for field in WMS_SECRETS {
            if let Some(slot) = wms.get_mut(field).filter(|v| !v.is_null()) {
                f(&format!("wms.{field}"), slot)?;
            }
        }
    }
    let alerts_hook = record.get_mut("alerts").and_then(|a| a.get_mut("webhook")).and_then(Value::as_object_mut);
    if let Some(slot) = alerts_hook.and_then(|w| w.get_mut("secret")).filter(|v| !v.is_null()) {
        f(ALERT_WEBHOOK_SECRET, slot)?;
    }
    for cart in record.get_mut("carts").and_then(Value::as_array_mut).into_iter().flatten() {
        let id = cart.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
        for field in CART_SECRETS {
            if let Some(slot) = cart.get_mut(field).filter(|v| !v.is_null()) {
                f(&format!("carts.{id}.{field}"), slot)?;
            }
        }
    }
    Ok(())
}

/// Seals every secret of an opened `record` (each a plaintext string) in place.
pub fn seal(ring: &KeyRing, merchant: &str, record: &mut Value) -> Result<(), FieldError> {
    each_secret(record, |field, slot| {
        let Some(plain) = slot.as_str() else { return Ok(()) };
        let sealed = ring
            .seal(merchant, field, &SecretString::from(plain.to_owned()))
            .map_err(|error| FieldError { field: field.to_owned(), error })?;
        *slot = Value::String(sealed.into());
        Ok(())
    })
}

/// The record with every secret opened (in memory only).
pub fn open(ring: &KeyRing, merchant: &str, record: &Value) -> Result<Value, FieldError> {
    let mut opened = record.clone();
    each_secret(&mut opened, |field, slot| {
        let fail = |error| FieldError { field: field.to_owned(), error };
        let sealed = Sealed::try_from(slot.as_str().unwrap_or_default().to_owned()).map_err(fail)?;
        let plain = ring.open(merchant, field, &sealed).map_err(fail)?;
        *slot = Value::String(secrecy::ExposeSecret::expose_secret(&plain).to_owned());
        Ok(())
    })?;
    Ok(opened)
}

/// Re-seals under the first key every secret sealed under another; returns how many.
pub fn reseal(ring: &KeyRing, merchant: &str, record: &mut Value) -> Result<usize, FieldError> {
    let mut count = 0;
    each_secret(record, |field, slot| {
        let fail = |error| FieldError { field: field.to_owned(), error };
        let sealed = Sealed::try_from(slot.as_str().unwrap_or_default().to_owned()).map_err(fail)?;
        if ring.is_stale(&sealed) {
            let plain = ring.open(merchant, field, &sealed).map_err(fail)?;
            *slot = Value::String(ring.seal(merchant, field, &plain).map_err(fail)?.into());
            count += 1;
        }
        Ok(())
    })?;
    Ok(count)
}

/// Secrets written through the API are literal values: `env:`/`file:` references belong to the
/// file, and an empty secret is refused as the file refuses it. Keys relative to `record`.
pub fn literal_problems(record: &Value, fields: &[(&str, &str)]) -> Vec<ConfigError> {
    let mut problems = Vec::new();
    for (parent, field) in fields {
        let parent_value = parent.split('.').filter(|p| !p.is_empty()).try_fold(record, |v, p| v.get(p));
        let slot = parent_value.and_then(|p| p.get(field));
        let key = if parent.is_empty() { (*field).to_owned() } else { format!("{parent}.{field}") };
        match slot {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.starts_with("env:") || s.starts_with("file:") => problems.push(
                ConfigError::invalid(key, "must be the secret itself: env: and file: references belong to the file"),
            ),
            Some(Value::String(s)) if s.is_empty() => problems.push(ConfigError::invalid(key, "the secret is empty")),
            Some(Value::String(_)) => {}
            Some(_) => problems.push(ConfigError::invalid(key, "must be a string")),
        }
    }
    problems
}

/// The secret fields of a merchant body, for [`literal_problems`].
pub fn merchant_secret_fields() -> Vec<(&'static str, &'static str)> {
    WMS_SECRETS.iter().map(|f| ("wms", *f)).chain([("alerts.webhook", "secret")]).collect()
}

/// The secret fields of a cart body, for [`literal_problems`].
pub fn cart_secret_fields() -> Vec<(&'static str, &'static str)> {
    CART_SECRETS.iter().map(|f| ("", *f)).collect()
}

/// Parses an opened record of merchant `id` exactly as the file's `[[merchants]]` table is
/// parsed and checked; problems have keys relative to the merchant.
pub fn parse(id: &str, opened: &Value) -> Result<MerchantSettings, Vec<ConfigError>> {
    let mut with_id = opened.clone();
    if let Some(map) = with_id.as_object_mut() {
        map.insert("id".into(), Value::String(id.to_owned()));
    }
    let merchant: MerchantSettings = Figment::from(Serialized::defaults(with_id))
        .extract()
        .map_err(|e| without_source(crate::settings::figment_errors(e)))?;
    let problems = merchant_problems(&merchant);
    if problems.is_empty() { Ok(merchant) } else { Err(problems) }
}

/// Parses a cart `id` from its JSON (as the file's `[[merchants.carts]]` table); problems have
/// keys relative to the cart.
pub fn parse_cart(id: &str, opened: &Value) -> Result<CartSettings, Vec<ConfigError>> {
    let mut with_id = opened.clone();
    if let Some(map) = with_id.as_object_mut() {
        map.insert("id".into(), Value::String(id.to_owned()));
    }
    let cart: CartSettings = Figment::from(Serialized::defaults(with_id))
        .extract()
        .map_err(|e| without_source(crate::settings::figment_errors(e)))?;
    let problems = crate::settings::cart_problems(&cart);
    if problems.is_empty() { Ok(cart) } else { Err(problems) }
}

/// RFC 7396 JSON merge patch: objects merge, `null` removes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(fields) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(map) = target {
        for (key, value) in fields {
            if value.is_null() {
                map.remove(key);
            } else {
                merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// figment names its provider after a message; an API body has no file to name.
fn without_source(errors: Vec<ConfigError>) -> Vec<ConfigError> {
    errors
        .into_iter()
        .map(|e| {
            let message = e.message().split(" (from ").next().unwrap_or_default().to_owned();
            ConfigError::invalid(e.key().unwrap_or_default(), message)
        })
        .collect()
}

/// A secret as admin answers show it: `{"set":true,"last4":"…"}` or `null`.
pub fn shown(secret: Option<&Secret>) -> Value {
    match secret {
        Some(s) if !s.expose().is_empty() => {
            let chars: Vec<char> = s.expose().chars().collect();
            let last4: String = chars[chars.len().saturating_sub(4)..].iter().collect();
            serde_json::json!({"set": true, "last4": last4})
        }
        _ => Value::Null,
    }
}

/// A secret of `merchant` by the path [`each_secret`] names it with.
pub fn secret_at<'a>(merchant: &'a MerchantSettings, path: &str) -> Option<&'a Secret> {
    if path == ALERT_WEBHOOK_SECRET {
        return merchant.alerts.webhook.as_ref().map(|w| &w.secret);
    }
    if let Some(field) = path.strip_prefix("wms.") {
        let w = &merchant.wms;
        return match field {
            "production_api_key" => w.production_api_key.as_ref(),
            "test_api_key" => w.test_api_key.as_ref(),
            "webhook_secret" => w.webhook_secret.as_ref(),
            "webhook_secret_previous" => w.webhook_secret_previous.as_ref(),
            _ => None,
        };
    }
    let (cart, field) = path.strip_prefix("carts.")?.rsplit_once('.')?;
    let cart = merchant.carts.iter().find(|c| c.id.as_str() == cart)?;
    cart_secret(cart, field)
}

fn cart_secret<'a>(cart: &'a CartSettings, field: &str) -> Option<&'a Secret> {
    match field {
        "access_token" => cart.access_token.as_ref(),
        "client_secret" => cart.client_secret.as_ref(),
        "client_secret_previous" => cart.client_secret_previous.as_ref(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ring() -> KeyRing {
        let key = super::super::generate_key();
        KeyRing::new([secrecy::ExposeSecret::expose_secret(&key)]).unwrap()
    }

    fn rec() -> Value {
        json!({"wms": {"production_api_key": "EZAK-1", "webhook_secret": null},
               "carts": [{"id": "c1", "access_token": "tok", "client_secret": "cs"}]})
    }

    #[test]
    fn every_secret_is_sealed_and_opens_only_for_its_own_merchant_and_field() {
        let ring = ring();
        let mut sealed = rec();
        seal(&ring, "acme", &mut sealed).unwrap();
        let text = sealed.to_string();
        assert!(!text.contains("EZAK-1") && !text.contains("\"tok\"") && !text.contains("\"cs\""), "{text}");
        assert_eq!(sealed["wms"]["webhook_secret"], Value::Null, "an absent secret stays absent");
        assert_eq!(open(&ring, "acme", &sealed).unwrap(), rec());
        assert!(open(&ring, "other", &sealed).is_err(), "moved to another merchant");
        let mut swapped = sealed.clone();
        swapped["carts"][0]["access_token"] = sealed["carts"][0]["client_secret"].clone();
        let err = open(&ring, "acme", &swapped).unwrap_err();
        assert_eq!(err.field, "carts.c1.access_token", "moved to another field");
    }

    #[test]
    fn a_merge_patch_follows_rfc_7396() {
        let mut target = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut target, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(target, json!({"a": "z", "c": {"d": "e"}}));
        let mut target = json!({"a": [1]});
        merge_patch(&mut target, &json!({"a": {"b": "c"}, "n": null}));
        assert_eq!(target, json!({"a": {"b": "c"}}));
    }

    #[test]
    fn only_literal_non_empty_strings_are_secrets_here() {
        let body = json!({"wms": {"production_api_key": "env:KEY", "test_api_key": "", "webhook_secret": 5}});
        let keys: Vec<_> =
            literal_problems(&body, &merchant_secret_fields()).iter().map(|p| p.key().unwrap().to_owned()).collect();
        assert_eq!(keys, ["wms.production_api_key", "wms.test_api_key", "wms.webhook_secret"]);
    }

    #[test]
    fn a_secret_shows_as_set_with_its_last_four_characters() {
        assert_eq!(shown(Some(&Secret::literal("abcdefgh"))), json!({"set": true, "last4": "efgh"}));
        assert_eq!(shown(Some(&Secret::literal("ab"))), json!({"set": true, "last4": "ab"}));
        assert_eq!(shown(None), Value::Null);
    }
}
