//! EasyPost event bodies: `intake::easypost::parse` must turn any bytes into an event or an
//! error, never panic, and an accepted event must carry a usable dedupe id and, for tracker
//! events, a tracking code.
#![no_main]

use cartgate::intake::easypost::{Action, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(event) = parse(data) else { return };
    assert!(!event.id.is_empty() && event.id.len() <= 128, "bad id length: {:?}", event.id);
    assert!(event.id.bytes().all(|b| b.is_ascii_graphic()), "unprintable id: {:?}", event.id);
    match &event.action {
        Action::Tracker(t) => {
            assert!(event.description.starts_with("tracker."));
            assert!(!t.tracking_code.trim().is_empty(), "empty tracking code");
        }
        Action::CheckOrder(order) => assert!(order.starts_with("order_"), "not an order id: {order:?}"),
        Action::None => {}
    }
});
