use chrono::{Duration, TimeZone, Utc};

use super::*;
use crate::alerts::model::NoticeEvent;

fn merchant() -> MerchantId {
    MerchantId::parse("acme").unwrap()
}

fn sku(order: Option<&str>) -> Raise {
    Raise {
        kind: AlertKind::OrderError,
        subject: "unknown_sku:WIDGET-9".into(),
        summary: "no warehouse barcode for SKU WIDGET-9".into(),
        order: order.map(str::to_owned),
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap()
}

#[test]
fn an_alert_lists_its_first_hundred_orders_and_counts_them_all() {
    let mut book = AlertBook::default();
    for n in 0..150 {
        book.raise(&merchant(), &sku(Some(&format!("acme-tg:{n}"))), t0());
    }
    book.raise(&merchant(), &sku(Some("acme-tg:3")), t0());
    let a = book.open(AlertKind::OrderError, "unknown_sku:WIDGET-9").unwrap();
    assert_eq!((a.count, a.orders.len()), (150, MAX_LISTED));
    // Every waiting order is still known: it resolves only when the last one left.
    for n in 0..149 {
        assert_eq!(book.clear_order(&format!("acme-tg:{n}"), t0()), vec![]);
    }
    let resolved = book.clear_order("acme-tg:149", t0());
    assert!(matches!(&resolved[..], [Change::Resolved(a)] if a.state == AlertState::Resolved));
}

#[test]
fn resolved_alerts_are_kept_thirty_days_and_at_most_a_bounded_number() {
    let mut book = AlertBook::default();
    for n in 0..(MAX_RESOLVED + 20) {
        let r = Raise { kind: AlertKind::JobsDead, subject: format!("job{n}"), summary: "x".into(), order: None };
        let at = t0() + Duration::seconds(n as i64);
        book.raise(&merchant(), &r, at);
        book.clear(AlertKind::JobsDead, &r.subject, None, at);
    }
    book.raise(&merchant(), &sku(None), t0());
    book.prune(t0() + Duration::days(1));
    assert_eq!(book.list(StateFilter::Only(AlertState::Resolved), 10_000).len(), MAX_RESOLVED);
    assert!(book.get(&book.list(StateFilter::Any, 1_000)[0].id).is_some());
    assert!(book.open(AlertKind::JobsDead, "job0").is_none());
    book.prune(t0() + Duration::days(KEEP_RESOLVED_DAYS + 1));
    assert_eq!(book.list(StateFilter::Any, 10_000).len(), 1, "only the open alert stays");
}

#[test]
fn ack_is_idempotent_and_keeps_the_first_time() {
    let mut book = AlertBook::default();
    let Some(Change::Opened(a)) = book.raise(&merchant(), &sku(None), t0()) else { panic!("not opened") };
    let first = book.ack(&a.id, t0()).unwrap();
    let again = book.ack(&a.id, t0() + Duration::minutes(5)).unwrap();
    assert_eq!(first.acked_at, again.acked_at);
    assert!(book.ack("al_nope", t0()).is_none());
}

#[test]
fn a_notice_the_sink_never_took_is_told_again_after_a_minute_until_it_is() {
    let mut book = AlertBook::default();
    let Some(Change::Opened(a)) = book.raise(&merchant(), &sku(Some("acme-tg:1")), t0()) else { panic!("not opened") };
    assert_eq!(book.overdue(t0() + Duration::seconds(30)), vec![], "the writer may still be telling it");
    assert_eq!(book.overdue(t0() + Duration::seconds(61)), vec![Change::Opened(a.clone())]);
    book.told(&a.id, NoticeEvent::Opened);
    assert_eq!(book.overdue(t0() + Duration::seconds(61)), vec![]);
    let resolved = book.clear_order("acme-tg:1", t0());
    assert!(matches!(&resolved[..], [Change::Resolved(_)]));
    assert!(matches!(&book.overdue(t0() + Duration::minutes(2))[..], [Change::Resolved(r)] if r.id == a.id));
    book.told(&a.id, NoticeEvent::Opened);
    assert_eq!(book.overdue(t0() + Duration::minutes(2)).len(), 1, "told for another event: still untold");
}
