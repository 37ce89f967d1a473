//! Order statuses and the one state machine every status change goes through (invariant 8).
//!
//! ```text
//!  new ──send──► at_wms ──ship──► shipped ──upload──► confirmed
//!   │ ▲            │                 ▲  │                 │
//!   │ └─resend─┐   └─cancel─► canceled └──(more picks)◄───┘
//!   ├─► on_hold ─send─► at_wms | on_hold | error
//!   ├─► error   ─fix/resend─► new
//!   └─► cancel_sending ─resend─► new
//! ```
//! `on_hold`, `error` and `cancel_sending` may also be cancelled (void in the cart, or the
//! merchant's "Cancelled Sending To WMS"), and a held order is sent straight from `on_hold`.
//!
//! `skipped` sits beside the unsent statuses: an order the cart's filters leave out (stock
//! location, tags, creation date, only skipped items) goes there from `new`, `on_hold` or
//! `error` and is never sent; when the order changes in the cart and passes, it goes back to
//! `new`. A new reason for the skip is a transition of its own (`skipped → skipped`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// An order's status (API values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    New,
    OnHold,
    Error,
    CancelSending,
    AtWms,
    Shipped,
    Confirmed,
    Canceled,
    /// Filtered out by the cart's settings; the reason says which filter.
    Skipped,
}

/// A status change the state machine does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an order cannot go from {from} to {to}")]
pub struct IllegalTransition {
    pub from: OrderStatus,
    pub to: OrderStatus,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 9] = [
        Self::New,
        Self::OnHold,
        Self::Error,
        Self::CancelSending,
        Self::AtWms,
        Self::Shipped,
        Self::Confirmed,
        Self::Canceled,
        Self::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::OnHold => "on_hold",
            Self::Error => "error",
            Self::CancelSending => "cancel_sending",
            Self::AtWms => "at_wms",
            Self::Shipped => "shipped",
            Self::Confirmed => "confirmed",
            Self::Canceled => "canceled",
            Self::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether the order may still be sent to the warehouse (it is not there yet).
    pub fn is_unsent(self) -> bool {
        matches!(self, Self::New | Self::OnHold | Self::Error | Self::CancelSending)
    }

    /// Whether the order is done with (confirmed, canceled or skipped): what retention removes
    /// once it has been so for `ledger.keep_finished_days`.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Confirmed | Self::Canceled | Self::Skipped)
    }

    /// Checks a transition; staying in the same status is not a transition.
    pub fn transition(self, to: OrderStatus) -> Result<OrderStatus, IllegalTransition> {
        use OrderStatus::*;
        let ok = matches!(
            (self, to),
            (New | OnHold, AtWms | OnHold | Error | CancelSending)
                | (Error | CancelSending, New | CancelSending)
                | (Error, Error)
                | (OnHold, New)
                | (AtWms, Shipped | Canceled)
                | (Shipped, Shipped | Confirmed)
                | (Confirmed, Shipped)
                | (New | OnHold | Error | Skipped, Skipped)
                | (Skipped, New)
        );
        if ok && (self != to || matches!(to, OnHold | Error | Shipped | Skipped)) {
            Ok(to)
        } else {
            Err(IllegalTransition { from: self, to })
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::*;
    use super::*;

    #[test]
    fn the_documented_paths_are_allowed() {
        for (from, to) in [
            (New, AtWms),
            (New, OnHold),
            (New, Error),
            (New, CancelSending),
            (OnHold, AtWms),
            (OnHold, OnHold),
            (OnHold, New),
            (Error, New),
            (CancelSending, New),
            (AtWms, Shipped),
            (AtWms, Canceled),
            (Shipped, Confirmed),
            (Confirmed, Shipped),
            (New, Skipped),
            (OnHold, Skipped),
            (Error, Skipped),
            (Skipped, Skipped),
            (Skipped, New),
        ] {
            assert_eq!(from.transition(to), Ok(to), "{from} -> {to}");
        }
    }

    #[test]
    fn finals_and_skips_are_rejected() {
        for (from, to) in [
            (Canceled, New),
            (Canceled, AtWms),
            (Confirmed, New),
            (AtWms, New),
            (AtWms, CancelSending),
            (New, Shipped),
            (New, Confirmed),
            (CancelSending, AtWms),
            (New, New),
            (AtWms, AtWms),
            (Skipped, AtWms),
            (Skipped, OnHold),
            (Skipped, CancelSending),
            (AtWms, Skipped),
            (CancelSending, Skipped),
            (Shipped, Skipped),
        ] {
            assert_eq!(from.transition(to), Err(IllegalTransition { from, to }), "{from} -> {to}");
        }
    }

    #[test]
    fn api_values_round_trip() {
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }
}
