//! TradeGecko notification bodies: `intake::tradegecko::parse` must turn any bytes into a
//! notification or an error, never panic, and anything it accepts must honour its contract
//! (positive object id, `resource_url` on the configured host). `Event::parse` is also fed the
//! raw input as a string: a known event's canonical name must parse back to the same event.
#![no_main]

use std::sync::LazyLock;

use cartgate::intake::tradegecko::{Event, parse};
use libfuzzer_sys::fuzz_target;
use url::Url;

/// The production host and a local one with a port and a path prefix (the simulator's shape).
static BASES: LazyLock<[Url; 2]> = LazyLock::new(|| {
    ["https://api.tradegecko.com", "http://127.0.0.1:9000/tg/"]
        .map(|b| Url::parse(b).unwrap_or_else(|e| panic!("fixed base URL {b}: {e}")))
});

fuzz_target!(|data: &[u8]| {
    for base in BASES.iter() {
        if let Ok(n) = parse(data, base) {
            assert!(n.object_id > 0, "accepted object_id 0");
            assert_round_trips(&n.event);
        }
    }
    let raw = String::from_utf8_lossy(data);
    assert_round_trips(&Event::parse(&raw));
});

fn assert_round_trips(event: &Event) {
    match event {
        Event::Unknown(raw) => assert_eq!(Event::parse(raw), *event, "Unknown({raw:?}) does not re-parse"),
        known => assert_eq!(Event::parse(known.name()), *known, "{} does not re-parse", known.name()),
    }
}
