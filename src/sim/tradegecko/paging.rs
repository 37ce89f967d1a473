//! TradeGecko paging: `limit` (default 50, max 250) and `page`, answered with the `X-Pagination`
//! JSON header (Kaminari's fields) and an RFC 5988 `Link` header with `first`/`prev` (except on
//! page 1) and `next`/`last` (except on the last page), as the api-pagination gem writes them.

use actix_web::HttpResponse;
use serde_json::{Value, json};

use super::state::TgError;
use crate::sim::server::set_headers;
use crate::sim::util::Query;

const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 250;

/// Where a listing is: which page of how many.
pub(crate) struct PageInfo {
    page: usize,
    limit: usize,
    total_records: usize,
}

impl PageInfo {
    /// At least 1, so page 1 of an empty list is both first and last (Kaminari would say 0
    /// pages and `out_of_bounds`; the docs are silent, and this cannot send a naive
    /// `while !last_page` client round for ever).
    fn total_pages(&self) -> usize {
        self.total_records.div_ceil(self.limit).max(1)
    }
}

/// Cuts one page out of `items` as `?limit=&page=` ask.
pub(crate) fn page_of<T>(items: Vec<T>, q: &Query) -> Result<(Vec<T>, PageInfo), TgError> {
    let number = |name: &str, default: usize| match q.get(name) {
        None | Some("") => Ok(default),
        Some(v) => v.parse::<usize>().map_err(|_| TgError::invalid(name, "is not a number")),
    };
    let limit = number("limit", DEFAULT_LIMIT)?.clamp(1, MAX_LIMIT);
    let page = number("page", 1)?.max(1);
    let info = PageInfo { page, limit, total_records: items.len() };
    let slice = items.into_iter().skip((page - 1).saturating_mul(limit)).take(limit).collect();
    Ok((slice, info))
}

fn link(base: &str, path: &str, q: &Query, page: usize) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in q.without_page() {
        ser.append_pair(&k, &v);
    }
    ser.append_pair("page", &page.to_string());
    format!("{base}{path}?{}", ser.finish())
}

/// `body` (`{"<key>": [page]}`, plus any sideloads) with the paging headers.
pub(crate) fn paged(body: Value, info: &PageInfo, base: &str, path: &str, q: &Query) -> HttpResponse {
    let total_pages = info.total_pages();
    let pagination = json!({
        "total_records": info.total_records,
        "total_pages": total_pages,
        "first_page": info.page == 1,
        "last_page": info.page == total_pages,
        "out_of_bounds": info.page > total_pages,
        "offset": (info.page - 1) * info.limit,
    });
    let mut links = Vec::new();
    if info.page > 1 {
        links.push(format!("<{}>; rel=\"first\"", link(base, path, q, 1)));
        links.push(format!("<{}>; rel=\"prev\"", link(base, path, q, info.page - 1)));
    }
    if info.page < total_pages {
        links.push(format!("<{}>; rel=\"next\"", link(base, path, q, info.page + 1)));
        links.push(format!("<{}>; rel=\"last\"", link(base, path, q, total_pages)));
    }
    let mut resp = HttpResponse::Ok().json(body);
    let pagination = pagination.to_string();
    set_headers(resp.headers_mut(), &[("x-pagination", &pagination)]);
    if !links.is_empty() {
        set_headers(resp.headers_mut(), &[("link", &links.join(", "))]);
    }
    resp
}
