//! Alias table maintenance: parsing uploads (JSON or CSV) and re-queuing the orders that were
//! stopped for want of an alias.
//!
//! An upload is validated whole before anything is written: a bad row is reported with its
//! line number and nothing is applied.

use super::Deps;
use crate::domain::{MerchantId, OrderStatus};
use crate::jobs::SendOrder;
use crate::ledger::orders::parse_member;
use crate::ledger::{Alias, LedgerError};
use crate::store::{OnExisting, When};

/// Longest SKU or barcode accepted.
const MAX_FIELD: usize = 128;

/// A rejected upload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct RowError {
    pub line: usize,
    pub message: String,
}

fn check(line: usize, sku: &str, barcode: &str) -> Result<Alias, RowError> {
    let (sku, barcode) = (sku.trim(), barcode.trim());
    let bad = |message: String| RowError { line, message };
    if sku.is_empty() || barcode.is_empty() {
        return Err(bad("sku and barcode must both be non-empty".into()));
    }
    if sku.len() > MAX_FIELD || barcode.len() > MAX_FIELD {
        return Err(bad(format!("sku and barcode are limited to {MAX_FIELD} characters")));
    }
    if sku.contains(['\n', '\r']) || barcode.chars().any(char::is_whitespace) {
        return Err(bad("barcode must not contain spaces; sku must be one line".into()));
    }
    Ok(Alias { sku: sku.to_owned(), barcode: barcode.to_owned() })
}

/// Parses a JSON array `[{"sku","barcode"}]` (line = 1-based array position).
pub fn parse_json(body: &[u8]) -> Result<Vec<Alias>, RowError> {
    let rows: Vec<serde_json::Value> = serde_json::from_slice(body).map_err(|e| RowError {
        line: e.line(),
        message: format!("expected a JSON array of {{\"sku\",\"barcode\"}}: {e}"),
    })?;
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            let field = |k: &str| row.get(k).and_then(serde_json::Value::as_str).unwrap_or("");
            check(i + 1, field("sku"), field("barcode"))
        })
        .collect()
}

/// Parses CSV with a `sku,barcode` header (line = line in the file).
pub fn parse_csv(body: &[u8]) -> Result<Vec<Alias>, RowError> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(false).from_reader(body);
    let headers = reader.headers().map_err(|e| RowError { line: 1, message: e.to_string() })?.clone();
    let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(sku_col), Some(barcode_col)) = (col("sku"), col("barcode")) else {
        return Err(RowError { line: 1, message: "the header must name the columns sku and barcode".into() });
    };
    let mut out = Vec::new();
    for record in reader.records() {
        // The file's own line numbers: blank lines and quoted fields spanning lines count.
        let record = record.map_err(|e| {
            let line = e.position().map(|p| line_at(body, p.byte())).unwrap_or(0);
            RowError { line, message: e.to_string() }
        })?;
        let line = record.position().map(|p| line_at(body, p.byte())).unwrap_or(0);
        out.push(check(line, record.get(sku_col).unwrap_or(""), record.get(barcode_col).unwrap_or(""))?);
    }
    Ok(out)
}

/// The 1-based line of the record starting at `byte` (the reader reports the start before any
/// blank lines it skipped).
fn line_at(body: &[u8], byte: u64) -> usize {
    let mut at = usize::try_from(byte).unwrap_or(usize::MAX).min(body.len());
    while at < body.len() && matches!(body[at], b'\n' | b'\r') {
        at += 1;
    }
    1 + body[..at].iter().filter(|b| **b == b'\n').count()
}

/// Stores the aliases and re-queues every `error` order of the merchant waiting for one of
/// them. Returns how many orders were re-queued.
pub async fn apply(deps: &Deps, merchant: &MerchantId, rows: &[Alias]) -> Result<usize, LedgerError> {
    deps.ledger.aliases.upsert(merchant.as_str(), rows).await?;
    let mut requeued = 0;
    for (member, skus) in deps.ledger.aliases.awaiting(merchant.as_str()).await? {
        if !skus.iter().any(|s| rows.iter().any(|r| &r.sku == s)) {
            continue;
        }
        let Some((cart, order_id)) = parse_member(&member) else { continue };
        let now = deps.now();
        let reason = "alias added: sending again";
        let moved = deps
            .ledger
            .orders
            .update(merchant, &cart, order_id, |o| {
                o.status() == OrderStatus::Error && o.transition(OrderStatus::New, reason, now).is_ok()
            })
            .await?;
        if matches!(moved, Some((_, true))) {
            let job = SendOrder { cart, order_id }.job();
            deps.jobs.enqueue(&job, When::Now, OnExisting::MoveEarlier).await?;
            requeued += 1;
        }
        deps.ledger.aliases.done_waiting(merchant.as_str(), &member).await?;
    }
    Ok(requeued)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_header_parses_and_a_bad_row_names_its_line() {
        let ok = parse_csv(b"sku,barcode\nA-1, 0001\nB-2,0002\n").unwrap();
        assert_eq!(
            ok,
            [Alias { sku: "A-1".into(), barcode: "0001".into() }, Alias { sku: "B-2".into(), barcode: "0002".into() }]
        );
        let err = parse_csv(b"sku,barcode\nA-1,0001\nB-2,\n").unwrap_err();
        assert_eq!(err.line, 3);
        assert_eq!(parse_csv(b"code,ean\nA,1\n").unwrap_err().line, 1);
    }

    #[test]
    fn csv_errors_name_the_file_line_past_blank_lines_and_multi_line_fields() {
        assert_eq!(parse_csv(b"sku,barcode\n\nA,1\n\nB,\n").unwrap_err().line, 5);
        assert_eq!(parse_csv(b"sku,barcode\n\"A\nB\",1\n").unwrap_err().line, 2, "a two-line SKU is refused");
        assert_eq!(parse_csv(b"sku,barcode,note\nA,1,\"x\ny\"\nC,,z\n").unwrap_err().line, 4);
    }

    #[test]
    fn json_rows_are_checked_one_by_one() {
        assert_eq!(parse_json(br#"[{"sku":"A","barcode":"1"}]"#).unwrap().len(), 1);
        assert_eq!(parse_json(br#"[{"sku":"A","barcode":"1"},{"sku":"B"}]"#).unwrap_err().line, 2);
        assert!(parse_json(b"{}").is_err());
    }
}
