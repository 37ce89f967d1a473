//! Reading the upstreams' error bodies, tolerantly.
//!
//! Shapes seen (UPSTREAMS.md): TradeGecko `{"errors":{"field":["msg"]}}`; EasyPost
//! `{"error":{"code","message","errors":[{field,message,suggestion} | "text"]}}`; EasyPost
//! Fulfillment also `{"errors":{…}}`. Anything else (HTML from a proxy, plain text, a new shape)
//! yields no message, and the caller keeps the raw body instead.

use serde_json::Value;

/// What could be read out of an error body.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct ErrorBody {
    pub code: Option<String>,
    pub message: Option<String>,
}

impl ErrorBody {
    pub fn parse(body: &[u8]) -> Self {
        let Ok(value) = serde_json::from_slice::<Value>(body) else {
            return Self::default();
        };
        let mut out = Self::default();
        match value.get("error") {
            Some(Value::Object(err)) => {
                out.code = err.get("code").and_then(Value::as_str).map(str::to_owned);
                let mut parts: Vec<String> = err.get("message").and_then(text).into_iter().collect();
                if let Some(details) = err.get("errors") {
                    parts.extend(details_of(details));
                }
                out.message = join(parts);
            }
            Some(Value::String(s)) => {
                // OAuth 2.0 (RFC 6749 §5.2): `{"error":"invalid_grant","error_description":…}`;
                // a sentence in `error` is only a message.
                let oauth_code = !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c == '_');
                out.code = oauth_code.then(|| s.clone());
                out.message = Some(s.clone());
            }
            _ => {}
        }
        if out.message.is_none() {
            out.message = value.get("errors").map(details_of).and_then(join);
        }
        if out.message.is_none() {
            out.message = value.get("message").and_then(text);
        }
        out
    }
}

fn join(parts: Vec<String>) -> Option<String> {
    let parts: Vec<String> = parts.into_iter().filter(|p| !p.trim().is_empty()).collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// Flattens `errors` in any of its shapes into readable phrases.
fn details_of(v: &Value) -> Vec<String> {
    match v {
        // TradeGecko: {"field": ["msg", …]} or {"field": "msg"}
        Value::Object(map) => map
            .iter()
            .flat_map(|(field, msgs)| match msgs {
                Value::Array(items) => items.iter().filter_map(text).map(|m| format!("{field} {m}")).collect(),
                other => text(other).map(|m| format!("{field} {m}")).into_iter().collect::<Vec<_>>(),
            })
            .collect(),
        // EasyPost: ["text", {"field","message","suggestion"}, …]
        Value::Array(items) => items.iter().filter_map(detail_item).collect(),
        other => text(other).into_iter().collect(),
    }
}

fn detail_item(item: &Value) -> Option<String> {
    match item {
        Value::Object(obj) => {
            let message = obj.get("message").and_then(text)?;
            let mut out = match obj.get("field").and_then(Value::as_str) {
                Some(field) => format!("{field}: {message}"),
                None => message,
            };
            if let Some(s) = obj.get("suggestion").and_then(Value::as_str) {
                out.push_str(&format!(" ({s})"));
            }
            Some(out)
        }
        other => text(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tradegecko_field_errors_become_the_message() {
        let b = ErrorBody::parse(br#"{"errors":{"email":["is invalid"],"zip_code":["can't be blank"]}}"#);
        assert_eq!(b.message.as_deref(), Some("email is invalid; zip_code can't be blank"));
        assert_eq!(b.code, None);
    }

    #[test]
    fn easypost_error_keeps_code_message_and_details() {
        let b = ErrorBody::parse(
            br#"{"error":{"code":"ADDRESS.VERIFY.FAILURE","message":"Unable to verify address.",
                "errors":[{"field":"street1","message":"missing","suggestion":null},"plain"]}}"#,
        );
        assert_eq!(b.code.as_deref(), Some("ADDRESS.VERIFY.FAILURE"));
        assert_eq!(b.message.as_deref(), Some("Unable to verify address.; street1: missing; plain"));
    }

    #[test]
    fn an_oauth_error_code_is_the_code_and_a_sentence_is_only_the_message() {
        let b = ErrorBody::parse(br#"{"error":"invalid_grant","error_description":"The grant is revoked"}"#);
        assert_eq!(b.code.as_deref(), Some("invalid_grant"));
        let b = ErrorBody::parse(br#"{"error":"Not found"}"#);
        assert_eq!((b.code, b.message.as_deref()), (None, Some("Not found")));
    }

    #[test]
    fn unparseable_body_yields_nothing() {
        assert_eq!(ErrorBody::parse(b"<html>bad gateway</html>"), ErrorBody::default());
        assert_eq!(ErrorBody::parse(b"[1,2]"), ErrorBody::default());
    }
}
