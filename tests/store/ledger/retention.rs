//! Retention: finished orders go with every entry that names them; orders in flight stay.

use std::sync::Arc;

use cartgate::domain::{CartId, OrderStatus, Shipment};
use cartgate::ledger::{Kv, Ledger, OrderFilter};
use chrono::{Duration, Utc};

use super::{acme, beta, cluster_kv, order, redis_kv};

both_stores!(finished_orders_past_the_limit_go_with_their_entries_and_orders_in_flight_stay);

fn shipment(code: &str) -> Shipment {
    Shipment {
        pick_id: format!("pick_{code}"),
        tracking_code: code.into(),
        carrier: Some("USPS".into()),
        public_url: None,
        tracking_status: "delivered".into(),
        tracking_updated_at: None,
        items: vec![("0001".parse().unwrap(), 1)],
        shipped_at: Utc::now(),
        fulfillment_id: None,
    }
}

async fn finished_orders_past_the_limit_go_with_their_entries_and_orders_in_flight_stay(kv: Arc<dyn Kv>) {
    let ledger = Ledger::new(kv);
    let cart = CartId::parse("acme-tg").unwrap();
    let now = Utc::now();
    // 1..=6 confirmed, 7 canceled, 8 skipped; 9 shipped, 10 at_wms, 11 new: in flight.
    for id in 1..=11u64 {
        ledger.orders.create(&order("acme-tg", id, 60)).await.unwrap();
        ledger
            .orders
            .update(&acme(), &cart, id, |o| {
                let path: &[OrderStatus] = match id {
                    1..=6 | 9 => &[OrderStatus::AtWms, OrderStatus::Shipped, OrderStatus::Confirmed],
                    7 => &[OrderStatus::AtWms, OrderStatus::Canceled],
                    8 => &[OrderStatus::Skipped],
                    10 => &[OrderStatus::AtWms],
                    _ => &[],
                };
                for s in path.iter().take(if id == 9 { 2 } else { 3 }) {
                    if *s == OrderStatus::AtWms {
                        o.wms_order_id = Some(format!("order_{id}"));
                    }
                    if *s == OrderStatus::Shipped {
                        o.shipments.push(shipment(&format!("9400{id}")));
                    }
                    o.transition(*s, "test", now).unwrap();
                }
            })
            .await
            .unwrap();
    }
    ledger.ship_watch.add(&acme(), &["acme-tg:1".into(), "acme-tg:10".into()]).await.unwrap();
    ledger.orders.create(&order("beta-tg", 1, 60)).await.unwrap();

    // Not yet: nothing finished 90 days ago.
    assert_eq!(ledger.orders.remove_finished(&acme(), now - Duration::days(90), 500).await.unwrap(), 0);
    // The clock moved 91 days on: the cut-off (now - 90 days) is past every finished order.
    let later = now + Duration::days(91);
    assert_eq!(ledger.orders.remove_finished(&acme(), later - Duration::days(90), 3).await.unwrap(), 3, "bounded");
    assert_eq!(ledger.orders.remove_finished(&acme(), later - Duration::days(90), 500).await.unwrap(), 5);
    assert_eq!(ledger.orders.remove_finished(&acme(), later - Duration::days(90), 500).await.unwrap(), 0);

    for id in 1..=8u64 {
        assert_eq!(ledger.orders.get(&acme(), &cart, id).await.unwrap(), None, "order {id} removed");
        assert_eq!(ledger.orders.by_wms_order("acme", &format!("order_{id}")).await.unwrap(), None);
        assert_eq!(ledger.orders.by_tracking_code("acme", &format!("9400{id}")).await.unwrap(), None);
    }
    for (id, status) in [(9, OrderStatus::Shipped), (10, OrderStatus::AtWms), (11, OrderStatus::New)] {
        let o = ledger.orders.get(&acme(), &cart, id).await.unwrap().expect("in flight: untouched");
        assert_eq!(o.status(), status);
    }
    assert_eq!(ledger.orders.by_tracking_code("acme", "94009").await.unwrap(), Some((cart.clone(), 9)));
    assert_eq!(ledger.orders.by_wms_order("acme", "order_10").await.unwrap(), Some((cart.clone(), 10)));
    for status in OrderStatus::ALL {
        let members = ledger.orders.with_status(&acme(), status, 0, 100).await.unwrap();
        assert!(
            members.iter().all(|m| ["acme-tg:9", "acme-tg:10", "acme-tg:11"].contains(&m.as_str())),
            "{status}: {members:?}"
        );
    }
    let (listed, _) = ledger.orders.list(&[acme(), beta()], &OrderFilter::default(), 100, None).await.unwrap();
    let listed: Vec<String> = listed.iter().map(|o| format!("{}:{}", o.cart, o.cart_order_id)).collect();
    assert_eq!(listed.len(), 4, "{listed:?}");
    assert_eq!(ledger.ship_watch.all(&acme()).await.unwrap().keys().collect::<Vec<_>>(), ["acme-tg:10"]);
}
