//! "Test WMS Connection" / "Test Cart Connection": one cheap authenticated call with the
//! active key, and a message a merchant understands for each way it can fail.

use serde::Serialize;

use super::Deps;
use crate::settings::{Mode, WmsSettings};
use crate::upstream::{AccountSpec, Credential, Upstream, UpstreamError};
use crate::wms::EasyPost;

/// The answer shown to the merchant.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ConnectionCheck {
    pub ok: bool,
    pub mode: &'static str,
    pub message: String,
}

/// Checks a merchant's EasyPost key for the active mode.
pub async fn test_wms(deps: &Deps, wms: &WmsSettings) -> ConnectionCheck {
    let mode = wms.mode();
    let answer = |ok: bool, message: String| ConnectionCheck { ok, mode: mode.as_str(), message };
    let Some(key) = wms.active_key() else {
        return answer(false, format!("no EasyPost API key is configured for {} mode", mode.as_str()));
    };
    if let Some(problem) = wrong_mode(mode, key.expose()) {
        return answer(false, problem);
    }
    let spec = AccountSpec {
        upstream: Upstream::EasyPost,
        base_url: wms.base_url.clone(),
        credential: Credential::Basic(key.clone()),
        rate_limit: wms.rate_limit,
        timeout: std::time::Duration::from_secs(wms.timeout_secs.min(10)),
    };
    let result = match deps.upstream.account(spec) {
        Ok(account) => EasyPost::new(account).check_key().await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => answer(true, format!("connected to EasyPost with the {} key", mode.as_str())),
        Err(e) => answer(false, explain(Upstream::EasyPost, mode, &e)),
    }
}

/// Checks a cart's token (TradeGecko's, or the Shopify store's).
pub async fn test_cart(deps: &Deps, cart: &crate::settings::CartSettings, mode: Mode) -> ConnectionCheck {
    let result = match crate::cart::connect(&deps.upstream, cart) {
        Ok(api) => api.check().await,
        Err(e) => Err(e),
    };
    let upstream = match cart.kind {
        crate::settings::CartKind::Tradegecko => Upstream::TradeGecko,
        crate::settings::CartKind::Shopify => Upstream::Shopify,
    };
    match result {
        Ok(()) => {
            let message = format!("connected to {}", cart.kind.label());
            ConnectionCheck { ok: true, mode: mode.as_str(), message }
        }
        Err(e) => ConnectionCheck { ok: false, mode: mode.as_str(), message: explain(upstream, mode, &e) },
    }
}

/// EasyPost test keys start `EZTK`, production keys `EZAK` (older keys have no prefix).
fn wrong_mode(mode: Mode, key: &str) -> Option<String> {
    match (mode, key.get(..4)) {
        (Mode::Test, Some("EZAK")) => {
            Some("test_mode is on but the configured test key is a production key (EZAK…)".into())
        }
        (Mode::Production, Some("EZTK")) => {
            Some("test_mode is off but the configured production key is a test key (EZTK…)".into())
        }
        _ => None,
    }
}

/// What a merchant reads for a failed check of `upstream`.
fn explain(upstream: Upstream, mode: Mode, e: &UpstreamError) -> String {
    let service = match upstream {
        Upstream::EasyPost => "EasyPost",
        Upstream::TradeGecko => "TradeGecko",
        Upstream::Shopify => "Shopify",
    };
    match e {
        UpstreamError::Unauthorized { code: Some(c), .. } if c.eq_ignore_ascii_case("APIKEY.INACTIVE") => {
            format!("{service} says the {} API key is inactive — reactivate it or configure another key", mode.as_str())
        }
        UpstreamError::Unauthorized { .. } if upstream == Upstream::EasyPost => {
            super::jobs::send_order::KEY_REJECTED.to_owned()
        }
        UpstreamError::Unauthorized { .. } => format!("{service} rejected the access token — check it"),
        UpstreamError::Transient { .. } | UpstreamError::Ambiguous { .. } => {
            format!("cannot reach {service}: {e} — check base_url and the network")
        }
        UpstreamError::RateLimited { .. } => format!("{service} rate limit reached; try again in a moment"),
        UpstreamError::Disconnected { reason, .. } => {
            format!("{service} is not connected ({reason}) — Connect the cart again")
        }
        other => format!("{service} answered unexpectedly: {}", other.merchant_message()),
    }
}
