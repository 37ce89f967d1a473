//! The e-mail bodies of a [`Message`]: plain text, and HTML through `maud` (which escapes every
//! value it interpolates — SKUs and summaries come from carts, so they are never trusted as
//! markup). With `server.public_url` set, each order links to its admin API page.

use maud::{DOCTYPE, Markup, html};
use url::Url;

use super::message::{Message, StoredNotice};
use super::model::NoticeEvent;
use crate::ledger::keys::parse_member;

/// Orders listed per alert in an e-mail (an alert keeps at most 100).
const MAX_ORDERS_SHOWN: usize = 100;

/// The link to an order (`<public_url>/admin/carts/<cart>/orders/<id>`), if it can be made.
pub fn order_link(public_url: Option<&Url>, member: &str) -> Option<Url> {
    let (cart, id) = parse_member(member)?;
    let mut url = public_url?.clone();
    url.path_segments_mut().ok()?.pop_if_empty().extend(["admin", "carts", cart.as_str(), "orders", &id.to_string()]);
    Some(url)
}

fn event_word(n: &StoredNotice) -> &'static str {
    match n.notice.event {
        NoticeEvent::Opened => "OPENED",
        NoticeEvent::Resolved => "RESOLVED",
    }
}

fn kind_word(n: &StoredNotice) -> String {
    serde_json::to_value(n.notice.alert.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// The plain-text part.
pub fn text(message: &Message, public_url: Option<&Url>) -> String {
    let mut out = String::new();
    for n in &message.notices {
        let a = &n.notice.alert;
        out.push_str(&format!("{} {} — {}\n", event_word(n), kind_word(n), a.summary));
        out.push_str(&format!(
            "  subject: {}\n  seen {} times, opened {}, last seen {}\n",
            a.subject, a.count, a.opened_at, a.last_seen_at
        ));
        if let Some(at) = &a.resolved_at {
            out.push_str(&format!("  resolved {at}\n"));
        }
        for member in a.orders.iter().take(MAX_ORDERS_SHOWN) {
            match order_link(public_url, member) {
                Some(link) => out.push_str(&format!("  - order {member}: {link}\n")),
                None => out.push_str(&format!("  - order {member}\n")),
            }
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "Message {}. Alerts are listed by GET /admin/merchants/{}/alerts.\n",
        message.id, message.merchant
    ));
    out
}

/// The HTML part.
pub fn html(message: &Message, public_url: Option<&Url>) -> String {
    let page: Markup = html! {
        (DOCTYPE)
        html {
            head { meta charset="utf-8"; title { (message.subject()) } }
            body {
                @for n in &message.notices {
                    @let alert = &n.notice.alert;
                    h2 { (event_word(n)) " " (kind_word(n)) ": " (alert.summary) }
                    p {
                        "Subject: " code { (alert.subject) } br;
                        "Seen " (alert.count) " times, opened " (alert.opened_at) ", last seen " (alert.last_seen_at)
                        @if let Some(at) = &alert.resolved_at { br; "Resolved " (at) }
                    }
                    @if !alert.orders.is_empty() {
                        ul {
                            @for member in alert.orders.iter().take(MAX_ORDERS_SHOWN) {
                                li {
                                    @match order_link(public_url, member) {
                                        Some(link) => { a href=(link) { (member) } },
                                        None => { (member) },
                                    }
                                }
                            }
                        }
                    }
                }
                p { small { "Message " (message.id) " for merchant " (message.merchant) "." } }
            }
        }
    };
    page.into_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::message::tests::notice;
    use crate::alerts::message::{MessageId, StoredNotice};
    use crate::domain::MerchantId;

    fn message(summary: &str) -> Message {
        let merchant = MerchantId::parse("acme").unwrap();
        let notice = notice(NoticeEvent::Opened, "unknown_sku:<b>", summary);
        Message {
            id: MessageId::instant(&merchant, 1),
            merchant,
            digest_end: None,
            notices: vec![StoredNotice { at: 0, notice }],
        }
    }

    #[test]
    fn html_escapes_what_the_cart_wrote_and_links_orders() {
        let public = Url::parse("https://cartgate.example.com/").unwrap();
        let m = message("51 orders wait for SKU <script>alert(1)</script>");
        let page = html(&m, Some(&public));
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;"), "{page}");
        assert!(page.contains(r#"href="https://cartgate.example.com/admin/carts/acme-tg/orders/5706""#), "{page}");
        let plain = text(&m, Some(&public));
        assert!(plain.contains("OPENED order_error — 51 orders wait"), "{plain}");
        assert!(plain.contains("https://cartgate.example.com/admin/carts/acme-tg/orders/5707"), "{plain}");
        assert!(!text(&m, None).contains("http"), "no link without a public URL");
    }
}
