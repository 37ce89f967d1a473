//! The OAuth application's wire and control shapes: the switches, the counters, a token
//! request's fields, the answers and the RFC 6749 errors.

use serde::{Deserialize, Serialize};

/// What the token endpoint does to its answer after it has done its work.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenFault {
    /// Answer normally.
    #[default]
    #[serde(rename = "none")]
    None,
    /// Answer 500 (tokens rotated, the reply lost).
    #[serde(rename = "500")]
    Error,
    /// Never answer (tokens rotated; the client times out).
    #[serde(rename = "hang")]
    Hang,
}

/// The OAuth switches (`PUT /_sim/oauth`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OAuthConfig {
    /// Authorize answers `error=access_denied` instead of a code.
    pub deny: bool,
    /// Lifetime of the access tokens issued from now on (TradeGecko: 7200).
    pub token_lifetime_secs: u64,
    /// Added to every `/oauth/token` answer.
    pub token_delay_ms: u64,
    pub token_fault: TokenFault,
}

impl Default for OAuthConfig {
    fn default() -> Self {
        Self { deny: false, token_lifetime_secs: 7200, token_delay_ms: 0, token_fault: TokenFault::None }
    }
}

/// Any subset of [`OAuthConfig`]'s fields.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OAuthPatch {
    pub deny: Option<bool>,
    pub token_lifetime_secs: Option<u64>,
    pub token_delay_ms: Option<u64>,
    pub token_fault: Option<TokenFault>,
}

/// One `grant_type=refresh_token` request and whether it rotated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshAttempt {
    pub at_ms: u64,
    pub ok: bool,
}

/// What the token endpoint saw (`GET /_sim/oauth/stats`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthStats {
    /// Codes exchanged for a grant.
    pub codes_exchanged: u64,
    /// Refreshes that rotated.
    pub refreshes: u64,
    /// Refresh requests refused (`invalid_grant`).
    pub refresh_failures: u64,
    /// Most `/oauth/token` requests in flight at once (delays included).
    pub max_concurrent_token_requests: u64,
    /// Presentations of a refresh token that had been used already.
    pub reused_refresh_tokens: u64,
    /// Grants not revoked.
    pub active_grants: u64,
    /// Every refresh request, oldest first.
    pub refresh_log: Vec<RefreshAttempt>,
}

/// The fields of a token request (JSON or form); unknown fields (`scope`) are ignored.
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TokenRequest {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub redirect_uri: Option<String>,
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub refresh_token: Option<String>,
}

/// Why a token or authorize request is refused (RFC 6749 error codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OAuthError {
    InvalidClient,
    InvalidGrant,
    InvalidRequest(&'static str),
    UnsupportedGrantType,
    UnsupportedResponseType,
}

impl OAuthError {
    pub(crate) fn status(self) -> u16 {
        if self == Self::InvalidClient { 401 } else { 400 }
    }

    pub(crate) fn body(self) -> serde_json::Value {
        let (error, description) = match self {
            Self::InvalidClient => ("invalid_client", "Client authentication failed due to unknown client"),
            Self::InvalidGrant => ("invalid_grant", "The provided authorization grant is invalid, expired or revoked"),
            Self::InvalidRequest(what) => ("invalid_request", what),
            Self::UnsupportedGrantType => ("unsupported_grant_type", "The grant type is not supported"),
            Self::UnsupportedResponseType => ("unsupported_response_type", "The response type is not supported"),
        };
        serde_json::json!({"error": error, "error_description": description})
    }
}

/// A successful token answer (no `Debug`: it holds the tokens).
#[derive(Clone, Serialize)]
pub(crate) struct Issued {
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_token: String,
    pub scope: &'static str,
    pub token_type: &'static str,
    pub created_at: u64,
}
