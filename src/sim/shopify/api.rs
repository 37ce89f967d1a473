//! `POST /admin/api/{version}/graphql.json`: the one API route, in the order Shopify checks:
//!
//! 1. `X-Shopify-Access-Token` must be the custom-app token or a live OAuth access token, else
//!    401 `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`;
//! 2. a frozen shop answers 402, a locked one 423 (`/_sim/shop`);
//! 3. the body must be JSON with a `query` string, else 400;
//! 4. the document must parse and name an operation, else 200 with `errors` (nothing charged);
//! 5. the requested cost must fit the bucket ([`super::cost`]), else THROTTLED;
//! 6. the operation runs; any GraphQL error (unknown field, bad argument) fails it whole, the
//!    cost is refunded, and a mutation writes nothing (it ran on a copy of the state).
//!
//! Every answer carries `X-Shopify-API-Version`: the requested version when supported, else the
//! oldest supported one (Shopify does not refuse an unsupported version); answers that ran
//! carry `extensions.cost`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

use super::ShopShared;
use super::cost::Take;
use super::gql::{self, GqlError, OpKind, Operation};
use super::mutations::Event;
use super::project::{count_objects, project};
use super::queries;
use super::state::ShopState;
use crate::sim::server::set_headers;
use crate::sim::util::{json as reply, lock};

const INVALID_TOKEN: &str = "[API] Invalid API key or access token (unrecognized login or wrong password)";

fn with_version(mut resp: HttpResponse, version: &str) -> HttpResponse {
    set_headers(resp.headers_mut(), &[("x-shopify-api-version", version)]);
    resp
}

fn errors(errs: &[GqlError], extensions: Option<Value>) -> Value {
    let mut body = json!({"errors": errs.iter().map(GqlError::to_json).collect::<Vec<_>>()});
    if let Some(e) = extensions {
        body["extensions"] = e;
    }
    body
}

pub(crate) async fn graphql(
    shared: web::Data<ShopShared>,
    req: HttpRequest,
    version: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let answered = shared.answered_version(&version);
    let token = req.headers().get("x-shopify-access-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !shared.token_ok(token) {
        return with_version(reply(401, &json!({ "errors": INVALID_TOKEN })), &answered);
    }
    if let Some((status, message)) = shared.shop_status() {
        return with_version(reply(status, &json!({ "errors": message })), &answered);
    }
    let request: Map<String, Value> = match serde_json::from_slice(&body) {
        Ok(Value::Object(m)) if m.get("query").is_some_and(Value::is_string) => m,
        _ => {
            return with_version(
                reply(400, &json!({"errors": {"query": "Required parameter missing or invalid"}})),
                &answered,
            );
        }
    };
    let query = request.get("query").and_then(Value::as_str).unwrap_or_default();
    let variables = request.get("variables").and_then(Value::as_object).cloned().unwrap_or_default();
    let name = request.get("operationName").and_then(Value::as_str);
    let op = match gql::parse(query, &variables, name) {
        Ok(op) => op,
        Err(e) => return with_version(reply(200, &errors(&[e], None)), &answered),
    };
    let (status, body) = run(&shared, &op);
    with_version(reply(status, &body), &answered)
}

/// Charges, runs and answers one operation: (HTTP status, body).
fn run(shared: &std::sync::Arc<ShopShared>, op: &Operation) -> (u16, Value) {
    let requested = gql::requested_cost(op);
    match shared.bucket.take(requested) {
        Take::Taken => {}
        Take::Throttled => {
            let e = GqlError::coded("Throttled", "THROTTLED");
            let status = shared.bucket.config().throttled_status;
            return (status, errors(&[e], Some(shared.bucket.extensions(requested, None))));
        }
        Take::TooExpensive => {
            let max = shared.bucket.config().maximum_available;
            let m = format!("Query cost is {requested}, which exceeds the single query max cost limit ({max}).");
            let e = GqlError::coded(m, "MAX_COST_EXCEEDED");
            return (200, errors(&[e], Some(shared.bucket.extensions(requested, None))));
        }
    }
    let mut warnings = Vec::new();
    let outcome = {
        let mut state = lock(&shared.state);
        execute(&mut state, &shared.shop, op, &mut warnings)
    };
    match outcome {
        Ok((data, events)) => {
            let actual = match op.kind {
                OpKind::Mutation => requested,
                OpKind::Query => count_objects(&data).min(requested),
            };
            shared.bucket.refund(requested - actual);
            for (topic, order) in events {
                super::webhooks::emit_order(shared, topic, order);
            }
            let mut ext = shared.bucket.extensions(requested, Some(actual));
            if !warnings.is_empty() {
                ext["search"] = json!([{"path": [], "query": "", "warnings": warnings.iter().map(|w| json!({"message": w})).collect::<Vec<_>>()}]);
            }
            (200, json!({"data": data, "extensions": ext}))
        }
        Err(e) => {
            shared.bucket.refund(requested);
            (200, errors(&[e], Some(shared.bucket.extensions(requested, Some(0)))))
        }
    }
}

fn execute(
    state: &mut ShopState,
    shop: &str,
    op: &Operation,
    warnings: &mut Vec<String>,
) -> Result<(Value, Vec<Event>), GqlError> {
    let mut data = Map::new();
    let mut events = Vec::new();
    match op.kind {
        OpKind::Query => {
            for sel in op.fields.iter().filter(|s| s.on.as_deref().is_none_or(|t| t == OpKind::Query.root_type())) {
                if sel.name == "__typename" {
                    data.insert(sel.key.clone(), Value::String(OpKind::Query.root_type().into()));
                    continue;
                }
                let full = queries::resolve(state, shop, sel, warnings)?;
                data.insert(sel.key.clone(), project(&full, sel)?);
            }
        }
        OpKind::Mutation => {
            let mut copy = state.clone();
            for sel in &op.fields {
                let (full, mut caused) = super::mutations::run(&mut copy, sel)?;
                data.insert(sel.key.clone(), project(&full, sel)?);
                events.append(&mut caused);
            }
            *state = copy;
        }
    }
    Ok((Value::Object(data), events))
}
