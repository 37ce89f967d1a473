//! Signing in and out. Sign-in takes the operator's `server.admin_token` or a merchant token,
//! checked exactly as the admin API checks a bearer token (`http::admin::authenticate`: the
//! same constant-time compare, digest lookup and per-address slowdown, the same failure
//! metric). Each sign-in starts a new session with a new id — a session id planted in a
//! browser before sign-in is never promoted — and ends the one the browser had.

use std::net::{IpAddr, Ipv4Addr};

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use maud::{Markup, html};
use secrecy::SecretString;
use serde::Deserialize;

use super::page::{PageError, layout, ok, see_other};
use super::session::{COOKIE, Console, enabled, removal, sessions, start};
use crate::http::admin::{authenticate, count_failure};
use crate::http::{ApiError, AppState};
use crate::ops::tokens::digest;

/// `/console` without the slash.
#[get("")]
pub async fn bare() -> HttpResponse {
    see_other("/console/")
}

/// The sign-in page, or the orders page for a browser already signed in.
#[get("/")]
pub async fn home(console: Option<Console>, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    enabled(&state)?;
    match console {
        Some(_) => Ok(see_other("/console/orders")),
        None => Ok(ok(sign_in_page(None))),
    }
}

fn sign_in_page(problem: Option<&str>) -> Markup {
    layout(
        "Sign in",
        None,
        html! {
            section.card.narrow {
                h1 { "Sign in" }
                p.muted { "With the operator token (server.admin_token) or a merchant token (cgt_…)." }
                @if let Some(p) = problem { p.notice.bad.card { (p) } }
                form method="post" action="/console/sign-in" {
                    label for="token" { "Token" }
                    input #token type="password" name="token" autocomplete="current-password" required;
                    div.actions { button type="submit" { "Sign in" } }
                }
            }
        },
    )
}

#[derive(Deserialize)]
pub struct SignIn {
    token: String,
}

#[post("/sign-in")]
pub async fn sign_in(
    req: HttpRequest,
    form: web::Form<SignIn>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    enabled(&state)?;
    let peer = req.peer_addr().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    let presented = Some(form.into_inner().token).filter(|t| !t.is_empty()).map(SecretString::from);
    let principal = match authenticate(&state, peer, presented).await {
        Ok(p) => p,
        Err(failure) => {
            count_failure(&failure);
            return match failure {
                ApiError::Unauthorized | ApiError::InvalidCredentials => Ok(HttpResponse::Unauthorized()
                    .content_type("text/html; charset=utf-8")
                    .body(sign_in_page(Some("That token is not valid.")).into_string())),
                other => Err(other.into()),
            };
        }
    };
    if let Some(old) = req.cookie(COOKIE) {
        sessions(&state).end(&digest(old.value())).await?;
    }
    let cookie = start(&state, &principal).await?;
    let mut answer = see_other("/console/orders");
    answer.add_cookie(&cookie).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(answer)
}

#[post("/sign-out")]
pub async fn sign_out(
    console: Console,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    console.form::<serde::de::IgnoredAny>(&body)?;
    console.end(&state).await?;
    let mut answer = see_other("/console/");
    answer.add_cookie(&removal(&state.settings)).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(answer)
}
