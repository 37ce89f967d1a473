//! The one layout every console page is drawn in, the error page, and CartRover's words.
//!
//! Pages are maud templates: every value interpolated is HTML-escaped, so an order's customer
//! name or a reason from an upstream renders as text, whatever it holds. No page carries a
//! script or a `style` attribute (the CSP allows neither); looks come from the one stylesheet.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use maud::{DOCTYPE, Markup, html};

use super::assets;
use crate::domain::OrderStatus;
use crate::http::ApiError;
use crate::http::admin::Principal;

/// CartRover's word for a status, as merchants know it.
pub fn status_word(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::New => "New",
        OrderStatus::OnHold => "On Hold",
        OrderStatus::Error => "Error",
        OrderStatus::CancelSending => "Cancelled Sending To WMS",
        OrderStatus::AtWms => "At WMS",
        OrderStatus::Shipped => "Shipped",
        OrderStatus::Confirmed => "Confirmed",
        OrderStatus::Canceled => "Cancelled",
        OrderStatus::Skipped => "Skipped",
    }
}

/// Which part of the navigation a page belongs to (it is shown as current).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Orders,
    Holds,
    Aliases,
    Wms,
    Carts,
    Alerts,
    Tokens,
    Operator,
}

/// What the layout needs to know about the signed-in browser.
pub struct Chrome<'a> {
    pub principal: &'a Principal,
    /// The merchant the merchant pages are about (a merchant's own; the operator's pick).
    pub merchant: Option<&'a str>,
    pub csrf: &'a str,
    pub section: Section,
}

/// A whole page: head, navigation, the content, the sign-out form.
pub fn layout(title: &str, chrome: Option<&Chrome<'_>>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · cartgate" }
                link rel="stylesheet" href=(assets::css_url());
            }
            body {
                header.top {
                    a.brand href="/console/" { "cartgate" }
                    @if let Some(c) = chrome { (nav(c)) }
                }
                main { (content) }
            }
        }
    }
}

fn nav(c: &Chrome<'_>) -> Markup {
    let item = |section: Section, href: String, label: &str| {
        html! { a.current[c.section == section] href=(href) { (label) } }
    };
    let query = c.merchant.map(|m| format!("?merchant={m}")).unwrap_or_default();
    html! {
        nav {
            (item(Section::Orders, format!("/console/orders{query}"), "Orders"))
            @if matches!(c.principal, Principal::Operator) {
                (item(Section::Operator, "/console/operator".to_owned(), "Operator"))
            }
            @if let Some(m) = c.merchant {
                (item(Section::Holds, format!("/console/m/{m}/holds"), "Holds"))
                (item(Section::Aliases, format!("/console/m/{m}/aliases"), "Aliases"))
                (item(Section::Wms, format!("/console/m/{m}/wms"), "WMS Setup"))
                (item(Section::Carts, format!("/console/m/{m}/carts"), "Carts"))
                (item(Section::Alerts, format!("/console/m/{m}/alerts"), "Alerts"))
                (item(Section::Tokens, format!("/console/m/{m}/tokens"), "Tokens"))
            }
        }
        form.signout method="post" action="/console/sign-out" {
            (csrf_field(c.csrf))
            span.who { (who(c.principal)) }
            button type="submit" { "Sign out" }
        }
    }
}

fn who(p: &Principal) -> String {
    match p {
        Principal::Operator => "operator".to_owned(),
        Principal::Merchant { merchant, .. } => merchant.to_string(),
    }
}

/// The hidden field every form of a session carries.
pub fn csrf_field(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf); }
}

/// A 200 page.
pub fn ok(markup: Markup) -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(markup.into_string())
}

/// A redirect after a form was handled (303: the browser follows with a GET).
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header(("Location", to)).finish()
}

/// A console failure, answered as a page with the admin API's status for the same failure.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// What the admin API would have answered.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// A form without this session's CSRF token.
    #[error("this form has expired or did not come from this console; go back, reload, and try again")]
    Csrf,
    /// Not signed in (or the session ended): go to the sign-in page.
    #[error("please sign in")]
    SignIn,
}

impl From<crate::ops::OpError> for PageError {
    fn from(e: crate::ops::OpError) -> Self {
        Self::Api(e.into())
    }
}

impl From<crate::store::StoreError> for PageError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Api(e.into())
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Api(e) => e.status_code(),
            Self::Csrf => StatusCode::FORBIDDEN,
            Self::SignIn => StatusCode::SEE_OTHER,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::SignIn = self {
            return see_other("/console/");
        }
        if let Self::Api(ApiError::Internal(e)) = self {
            tracing::error!(error = ?e, "internal error");
        }
        let status = self.status_code();
        let heading = status.canonical_reason().unwrap_or("Error");
        let markup = layout(
            heading,
            None,
            html! {
                section.card.error {
                    h1 { (status.as_u16()) " " (heading) }
                    p { (self.to_string()) }
                    p { a href="/console/" { "Back to the console" } }
                }
            },
        );
        HttpResponse::build(status).content_type("text/html; charset=utf-8").body(markup.into_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_its_own_cartrover_word() {
        let words: std::collections::HashSet<_> = OrderStatus::ALL.iter().map(|s| status_word(*s)).collect();
        assert_eq!(words.len(), OrderStatus::ALL.len());
        assert_eq!(status_word(OrderStatus::CancelSending), "Cancelled Sending To WMS");
        assert_eq!(status_word(OrderStatus::AtWms), "At WMS");
    }

    #[test]
    fn an_error_page_escapes_what_it_shows_and_keeps_the_status() {
        let e = PageError::Api(ApiError::NotFound("unknown cart `<b>x</b>`".into()));
        let resp = e.error_response();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        assert_eq!(PageError::Csrf.status_code(), StatusCode::FORBIDDEN);
        let page = layout("x", None, html! { p { "unknown cart `<b>x</b>`" } }).into_string();
        assert!(page.contains("&lt;b&gt;x&lt;/b&gt;") && !page.contains("<b>x</b>"));
    }
}
