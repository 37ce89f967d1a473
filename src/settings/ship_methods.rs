//! A cart's ship methods: which warehouse service each of the cart's shipping methods goes out
//! with (CartRover's "Ship Method Mapping").
//!
//! An order's method is the label of its shipping line, as the cart wrote it; it is matched
//! against the map's keys trimmed and case-insensitively. No shipping line, or a method the map
//! does not know, goes with `default` — unless `reject_unmapped`, when an unmapped method stops
//! the order in `error` until a mapping for it is saved.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ConfigError;
use crate::domain::WarehouseService;

/// Longest method label or service name accepted.
const MAX_TEXT: usize = 128;

/// `[merchants.carts.ship_methods]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ShipMethods {
    /// Cart shipping method (its label) → warehouse service.
    #[serde(default)]
    pub map: BTreeMap<String, WarehouseService>,
    /// The service of an order with no shipping line, or with an unmapped one.
    #[serde(default = "WarehouseService::standard")]
    pub default: WarehouseService,
    /// An unmapped method puts the order in `error` (it waits for a mapping) instead of
    /// sending it with `default`.
    #[serde(default)]
    pub reject_unmapped: bool,
}

impl Default for ShipMethods {
    fn default() -> Self {
        Self { map: BTreeMap::new(), default: WarehouseService::standard(), reject_unmapped: false }
    }
}

/// An order's method has no mapping and the cart rejects unmapped methods.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unmapped ship method \"{0}\"")]
pub struct Unmapped(pub String);

/// The code a method is matched by: its label trimmed, lower-cased.
pub fn method_code(label: &str) -> String {
    label.trim().to_lowercase()
}

impl ShipMethods {
    /// The mapping of a method, if the map has one.
    pub fn mapped(&self, label: &str) -> Option<&WarehouseService> {
        let code = method_code(label);
        self.map.iter().find(|(k, _)| method_code(k) == code).map(|(_, s)| s)
    }

    /// The service an order with shipping method `label` goes out with.
    pub fn resolve(&self, label: Option<&str>) -> Result<&WarehouseService, Unmapped> {
        let Some(label) = label.filter(|l| !l.trim().is_empty()) else { return Ok(&self.default) };
        match self.mapped(label) {
            Some(service) => Ok(service),
            None if self.reject_unmapped => Err(Unmapped(label.to_owned())),
            None => Ok(&self.default),
        }
    }

    /// The rules, with keys relative to the cart (`ship_methods.map.Express.service`).
    pub fn problems(&self) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        let mut codes = std::collections::HashSet::new();
        for (label, service) in &self.map {
            let key = format!("ship_methods.map.{label}");
            if label.trim().is_empty() || label.len() > MAX_TEXT {
                errors.push(ConfigError::invalid(&key, format!("a method must be 1 to {MAX_TEXT} characters")));
            } else if !codes.insert(method_code(label)) {
                errors
                    .push(ConfigError::invalid(&key, "the same method is mapped twice (methods match ignoring case)"));
            }
            errors.extend(service_problems(&key, service));
        }
        errors.extend(service_problems("ship_methods.default", &self.default));
        errors
    }
}

fn service_problems(key: &str, s: &WarehouseService) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    let blank = |v: &str| v.trim().is_empty() || v.len() > MAX_TEXT || v.chars().any(char::is_control);
    if blank(&s.service) {
        errors.push(ConfigError::invalid(format!("{key}.service"), format!("must be 1 to {MAX_TEXT} characters")));
    }
    if s.delivery_confirmation.as_deref().is_some_and(blank) {
        errors.push(ConfigError::invalid(
            format!("{key}.delivery_confirmation"),
            format!("must be 1 to {MAX_TEXT} characters when set"),
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(s: &str) -> WarehouseService {
        WarehouseService { service: s.into(), delivery_confirmation: None }
    }

    fn methods(reject_unmapped: bool) -> ShipMethods {
        let map = [("Express".to_owned(), service("express"))].into();
        ShipMethods { map, default: service("standard"), reject_unmapped }
    }

    #[test]
    fn a_method_matches_trimmed_and_ignoring_case() {
        let m = methods(true);
        assert_eq!(m.resolve(Some("  eXpress ")).unwrap().service, "express");
        assert_eq!(m.resolve(None).unwrap().service, "standard", "no shipping line: the default");
        assert_eq!(m.resolve(Some("  ")).unwrap().service, "standard");
    }

    #[test]
    fn an_unmapped_method_goes_with_the_default_unless_rejected() {
        assert_eq!(methods(false).resolve(Some("Pigeon")).unwrap().service, "standard");
        let err = methods(true).resolve(Some("Pigeon ")).unwrap_err();
        assert_eq!(err.to_string(), "unmapped ship method \"Pigeon \"");
    }

    #[test]
    fn the_example_configuration_maps_express_and_overnight_with_a_signature() {
        let example: toml::Value = toml::from_str(include_str!("../../config/example.toml")).unwrap();
        let table = example["merchants"][0]["carts"][0]["ship_methods"].clone();
        let m: ShipMethods = table.try_into().unwrap();
        assert_eq!(m.resolve(Some("express")).unwrap().service, "express");
        assert_eq!(m.resolve(Some("Overnight")).unwrap().delivery_confirmation.as_deref(), Some("signature"));
        assert_eq!((m.default, m.reject_unmapped), (WarehouseService::standard(), false));
        assert!(ShipMethods::default().problems().is_empty());
    }

    #[test]
    fn blank_services_and_duplicate_methods_are_problems() {
        let mut m = methods(false);
        m.map.insert("express ".into(), service("x"));
        m.map.insert("Overnight".into(), service(" "));
        m.default = service("");
        let keys: Vec<String> = m.problems().iter().filter_map(|p| p.key().map(str::to_owned)).collect();
        assert_eq!(
            keys,
            ["ship_methods.map.Overnight.service", "ship_methods.map.express ", "ship_methods.default.service"]
        );
    }
}
