//! What the HTTP tests cannot wait for: a code's ten minutes.

use super::wire::{OAuthConfig, OAuthError, TokenRequest};
use super::{CODE_LIFETIME_MS, OAuthApp};
use crate::sim::util::{lock, now_ms};

const REDIRECT: &str = "https://cartgate.example/cb";

fn app() -> OAuthApp {
    OAuthApp::new("id".into(), "secret".into(), OAuthConfig::default())
}

fn code_of(app: &OAuthApp) -> String {
    let location = app.authorize(Some("code"), Some("id"), Some(REDIRECT), Some("s")).unwrap();
    let url = url::Url::parse(&location).unwrap();
    url.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned()
}

fn exchange(code: &str) -> TokenRequest {
    TokenRequest {
        client_id: Some("id".into()),
        client_secret: Some("secret".into()),
        redirect_uri: Some(REDIRECT.into()),
        grant_type: Some("authorization_code".into()),
        code: Some(code.into()),
        refresh_token: None,
    }
}

#[test]
fn a_code_is_valid_for_ten_minutes() {
    let app = app();
    let code = code_of(&app);
    let expires = lock(&app.inner).codes[&code].expires_at_ms;
    assert!(expires.abs_diff(now_ms() + CODE_LIFETIME_MS) < 5_000);
    assert_eq!(CODE_LIFETIME_MS, 600_000);
    let stale = code_of(&app);
    lock(&app.inner).codes.get_mut(&stale).unwrap().expires_at_ms = now_ms();
    assert_eq!(app.token(&exchange(&stale)).err(), Some(OAuthError::InvalidGrant));
    assert!(app.token(&exchange(&code)).is_ok());
}

#[test]
fn an_access_token_counts_under_its_grant_until_it_expires() {
    let app = app();
    let first = app.token(&exchange(&code_of(&app))).unwrap();
    let second = app.token(&exchange(&code_of(&app))).unwrap();
    let grant = app.grant_of(&first.access_token).unwrap();
    assert_ne!(app.grant_of(&second.access_token), Some(grant), "each code starts its own grant");
    assert_eq!(app.expire_all(), 2);
    assert_eq!(app.grant_of(&first.access_token), None);
    assert_eq!(app.expire_all(), 0, "nothing left to expire");
}
