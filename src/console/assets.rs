//! The console's stylesheet, compiled into the binary and served under a name that carries its
//! content hash: a browser may keep it for a year, and a release that changes it changes the
//! name, so nobody sees a stale look. There is no script to serve: every action is a form.

use std::sync::LazyLock;

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpResponse, get, web};
use sha2::{Digest, Sha256};

use super::page::PageError;
use crate::http::ApiError;

const CSS: &str = include_str!("console.css");

/// `console.<first 12 hex digits of the SHA-256>.css`.
static CSS_NAME: LazyLock<String> =
    LazyLock::new(|| format!("console.{}.css", &hex::encode(Sha256::digest(CSS.as_bytes()))[..12]));

/// Where pages link the stylesheet.
pub fn css_url() -> String {
    format!("/console/assets/{}", *CSS_NAME)
}

#[get("/assets/{name}")]
pub async fn asset(name: web::Path<String>) -> Result<HttpResponse, PageError> {
    if *name != *CSS_NAME {
        return Err(ApiError::not_found("no such asset").into());
    }
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(CSS))
}
