//! Alias uploads: `workflows::aliases::{parse_csv, parse_json}` must turn any bytes into rows
//! or a line-numbered error, never panic, and every accepted row must pass the row rules.
#![no_main]

use cartgate::ledger::Alias;
use cartgate::workflows::aliases::{parse_csv, parse_json};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for rows in [parse_csv(data), parse_json(data)].into_iter().flatten() {
        rows.iter().for_each(assert_valid);
    }
});

fn assert_valid(row: &Alias) {
    for field in [&row.sku, &row.barcode] {
        assert!(!field.is_empty() && field.len() <= 128, "bad length: {row:?}");
        assert_eq!(field.trim(), field.as_str(), "untrimmed: {row:?}");
    }
    assert!(!row.sku.contains(['\n', '\r']), "multi-line sku: {row:?}");
    assert!(!row.barcode.chars().any(char::is_whitespace), "whitespace in barcode: {row:?}");
}
