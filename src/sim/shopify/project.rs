//! Answers hold exactly what was asked: each resolver builds a node's *full* JSON (every field
//! the simulator knows, `__typename` included) and [`project`] cuts it down to the selection
//! set, applying aliases and fragment type conditions. A selected field the full JSON lacks is
//! Shopify's "Field 'x' doesn't exist on type 'T'" error, so a client asking for something the
//! simulator (and this document's schema) does not have finds out.
//!
//! Fields that take arguments are markers in the full JSON:
//! * `{"__connection": [...]}` — a connection: sliced by `first`/`after` (first required, at
//!   most 250), answered as `nodes`, `edges{cursor node}` and `pageInfo`; the cursor is the
//!   item's `__sort` key (base64), so `after` still works when items moved between pages;
//! * `{"__keyed": {"arg": "locationId", "map": {...}}}` — one value chosen by an argument;
//! * `{"__named": [...]}` — a list filtered by `names` (`quantities(names:)`).
//!
//! A plain list with `first` (`fulfillments(first:)`) is truncated.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::gql::{GqlError, Sel};

/// The largest `first` Shopify accepts.
pub(crate) const MAX_PAGE: u64 = 250;

/// Projects a full value onto `sel`'s selections.
pub(crate) fn project(full: &Value, sel: &Sel) -> Result<Value, GqlError> {
    let value = unwrap_marker(full, sel)?;
    match value {
        Value::Array(items) => items.iter().map(|i| project_object(i, &sel.children, &sel.name)).collect(),
        Value::Object(_) => project_object(&value, &sel.children, &sel.name),
        scalar if sel.children.is_empty() || scalar.is_null() => Ok(scalar),
        _ => Err(GqlError::new(format!("Selections can't be made on scalars (field '{}')", sel.name))),
    }
}

/// The selections of an object (whose `__typename` decides fragment conditions).
pub(crate) fn project_object(obj: &Value, sels: &[Sel], field: &str) -> Result<Value, GqlError> {
    let Some(map) = obj.as_object() else { return Ok(obj.clone()) };
    let typename = map.get("__typename").and_then(Value::as_str).unwrap_or("Object");
    if sels.is_empty() {
        return Err(GqlError::new(format!("Field '{field}' of type '{typename}' must have a selection of subfields")));
    }
    let mut out = Map::new();
    for s in sels {
        if s.on.as_deref().is_some_and(|t| t != typename && !implements(typename, t)) {
            continue;
        }
        if s.name == "__typename" {
            out.insert(s.key.clone(), Value::String(typename.to_owned()));
            continue;
        }
        let Some(full) = map.get(&s.name).filter(|_| !s.name.starts_with("__")) else {
            return Err(GqlError::coded(
                format!("Field '{}' doesn't exist on type '{typename}'", s.name),
                "undefinedField",
            ));
        };
        out.insert(s.key.clone(), project(full, s)?);
    }
    Ok(Value::Object(out))
}

/// The interfaces the simulator's types implement (for `... on Node`).
fn implements(typename: &str, interface: &str) -> bool {
    interface == "Node" && !typename.ends_with("Connection") && typename != "PageInfo"
}

fn unwrap_marker(full: &Value, sel: &Sel) -> Result<Value, GqlError> {
    if let Some(items) = full.get("__connection").and_then(Value::as_array) {
        let typename = full.get("__type").and_then(Value::as_str).unwrap_or("Connection");
        return connection(items, sel, typename);
    }
    if let Some(keyed) = full.get("__keyed") {
        let arg = keyed["arg"].as_str().unwrap_or_default();
        let wanted = sel.arg(arg).as_str().unwrap_or_default();
        return Ok(keyed["map"].get(wanted).cloned().unwrap_or(Value::Null));
    }
    if let Some(items) = full.get("__named").and_then(Value::as_array) {
        let names: Vec<&str> =
            sel.arg("names").as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        let picked = items.iter().filter(|i| i["name"].as_str().is_some_and(|n| names.contains(&n))).cloned();
        return Ok(Value::Array(picked.collect()));
    }
    if let (Value::Array(items), Some(n)) = (full, sel.args.get("first").and_then(Value::as_u64)) {
        return Ok(Value::Array(items.iter().take(n as usize).cloned().collect()));
    }
    Ok(full.clone())
}

/// The page size of a connection field: `first` is required and at most [`MAX_PAGE`].
pub(crate) fn page_size(sel: &Sel) -> Result<usize, GqlError> {
    match sel.arg("first") {
        Value::Null if sel.arg("last").is_null() => {
            Err(GqlError::new(format!("you must provide one of first or last (field '{}')", sel.name)))
        }
        Value::Null => Err(GqlError::new("'last' is not supported by this simulator; page forwards with 'first'")),
        v => match v.as_u64() {
            Some(n) if n <= MAX_PAGE => Ok(n as usize),
            _ => Err(GqlError::coded(
                format!("The page size of '{}' must be at most {MAX_PAGE}, was {v}", sel.name),
                "MAX_PAGE_SIZE_EXCEEDED",
            )),
        },
    }
}

fn cursor_of(item: &Value, index: usize) -> String {
    STANDARD.encode(cursor_key(item, index))
}

fn connection(items: &[Value], sel: &Sel, typename: &str) -> Result<Value, GqlError> {
    let first = page_size(sel)?;
    let start = match sel.arg("after").as_str() {
        None => 0,
        Some(after) => {
            let key = STANDARD
                .decode(after)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| GqlError::new(format!("Invalid cursor for 'after': {after}")))?;
            items.iter().enumerate().position(|(i, it)| cursor_key(it, i) > key).unwrap_or(items.len())
        }
    };
    let page: Vec<(usize, &Value)> = items.iter().enumerate().skip(start).take(first).collect();
    let has_next = start + page.len() < items.len();
    let cursors: Vec<String> = page.iter().map(|(i, it)| cursor_of(it, *i)).collect();
    let edges: Vec<Value> = page
        .iter()
        .zip(&cursors)
        .map(|((_, it), c)| json!({"__typename": format!("{}Edge", typename.trim_end_matches("Connection")), "cursor": c, "node": it}))
        .collect();
    Ok(json!({
        "__typename": typename,
        "nodes": page.iter().map(|(_, it)| (*it).clone()).collect::<Vec<_>>(),
        "edges": edges,
        "pageInfo": {
            "__typename": "PageInfo",
            "hasNextPage": has_next,
            "hasPreviousPage": start > 0,
            "startCursor": cursors.first(),
            "endCursor": cursors.last(),
        },
    }))
}

fn cursor_key(item: &Value, index: usize) -> String {
    item.get("__sort").and_then(Value::as_str).map_or_else(|| format!("{index:020}"), str::to_owned)
}

/// Objects in an answer: its actual cost (never above the requested one, see the caller).
pub(crate) fn count_objects(v: &Value) -> u64 {
    match v {
        Value::Object(m) => 1 + m.values().map(count_objects).sum::<u64>(),
        Value::Array(a) => a.iter().map(count_objects).sum(),
        _ => 0,
    }
}
