//! Low-cardinality route templates for metric labels: `/orders/123` → `/orders/:id`.
//!
//! Callers may name the template themselves ([`super::UpstreamRequest::endpoint`]); otherwise
//! it is derived from the path by replacing every segment that looks like an id.

/// The path with id-like segments replaced by `:id` (query strings are dropped).
pub(super) fn template(path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').map(|s| if looks_like_id(s) { ":id" } else { s }).collect();
    let joined = segments.join("/");
    if joined.is_empty() { "/".to_owned() } else { joined }
}

/// Numbers, `prefix_<opaque>` EasyPost ids, UUIDs: anything with a digit that is not an API
/// version (`v2`), or an underscore followed by a long opaque token.
fn looks_like_id(segment: &str) -> bool {
    if segment.is_empty() || is_version(segment) {
        return false;
    }
    if segment.bytes().any(|b| b.is_ascii_digit()) {
        return true;
    }
    match segment.split_once('_') {
        Some((_, rest)) => rest.len() >= 16 && rest.bytes().all(|b| b.is_ascii_alphanumeric()),
        None => false,
    }
}

fn is_version(segment: &str) -> bool {
    segment.len() >= 2 && segment.starts_with('v') && segment[1..].bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::template;

    #[test]
    fn ids_are_stripped_and_resources_kept() {
        assert_eq!(template("/orders/123"), "/orders/:id");
        assert_eq!(template("/orders/123/actions/fulfil"), "/orders/:id/actions/fulfil");
        assert_eq!(template("/fulfillment/vendor/v2/orders/order_5d3f9a"), "/fulfillment/vendor/v2/orders/:id");
        assert_eq!(template("/v2/trackers?page_size=1"), "/v2/trackers");
        assert_eq!(template("/stock_adjustments"), "/stock_adjustments");
        assert_eq!(template("/order_line_items"), "/order_line_items");
        assert_eq!(template("/products/prod_abcdefghijklmnopq"), "/products/:id");
        assert_eq!(template(""), "/");
    }
}
