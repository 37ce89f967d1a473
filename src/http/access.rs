//! Who may use which admin route: one pure decision, [`decide`], and the [`Principal`] helpers
//! every handler goes through.
//!
//! | route class | operator | merchant token, own merchant | merchant token, another merchant |
//! |---|---|---|---|
//! | [`Scope::OperatorOnly`]: queues, dead letters, redrive, config, creating or deleting merchants, `/admin/tenants/*` | allow | **403** | **403** |
//! | [`Scope::Merchant`]: a merchant, its carts, orders, actions, aliases, holds, tests, syncs, tokens, audit, alerts | allow | allow | **404**, as if it did not exist |
//! | [`Scope::Listing`]: `GET /admin/orders` | allow | allow, narrowed to its merchant | — |
//!
//! Another merchant's resource answers exactly what a missing one does (same status, code and
//! message), so a token cannot learn which merchants or carts exist. An unknown or a revoked
//! token never gets this far: the extractor answers 401 (`http/admin.rs`).

use super::{ApiError, admin::Principal};
use crate::domain::MerchantId;
use crate::ledger::OrderFilter;
use crate::ops::audit::Actor;
use crate::ops::{CartOps, MerchantOps, OpError, Ops};

/// What a route acts on, as far as access goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// Operator-only routes.
    OperatorOnly,
    /// One merchant's resources (a cart's are its merchant's).
    Merchant(&'a str),
    /// A listing across merchants, which a merchant sees narrowed to its own.
    Listing,
}

/// The answer of [`decide`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Allow,
    /// 403: the principal is known, the route is not for it.
    Forbidden,
    /// 404: answered as if the resource did not exist.
    Hidden,
}

/// The access rule (the table in the module header).
pub fn decide(principal: &Principal, scope: Scope<'_>) -> Access {
    match (principal, scope) {
        (Principal::Operator, _) => Access::Allow,
        (Principal::Merchant { .. }, Scope::OperatorOnly) => Access::Forbidden,
        (Principal::Merchant { merchant, .. }, Scope::Merchant(id)) if merchant.as_str() == id => Access::Allow,
        (Principal::Merchant { .. }, Scope::Merchant(_)) => Access::Hidden,
        (Principal::Merchant { .. }, Scope::Listing) => Access::Allow,
    }
}

impl Principal {
    /// Who to name in the audit log.
    pub fn actor(&self) -> Actor {
        match self {
            Self::Operator => Actor::Operator,
            Self::Merchant { token_id, .. } => Actor::Token(token_id.clone()),
        }
    }

    /// 403 unless this is the operator (queues, config, creating or deleting merchants, …).
    pub fn operator_only(&self) -> Result<(), ApiError> {
        match decide(self, Scope::OperatorOnly) {
            Access::Allow => Ok(()),
            _ => Err(ApiError::Forbidden("this route is for the operator only".into())),
        }
    }

    /// Whether this principal may see merchant `id` (and its carts); when not, answer what a
    /// missing merchant answers.
    pub fn may_see_merchant(&self, id: &str) -> bool {
        decide(self, Scope::Merchant(id)) == Access::Allow
    }

    /// Merchant `id`, if it exists and this principal may act on it; another merchant's is as
    /// unknown as a missing one (404).
    pub fn merchant<'a>(&self, ops: &'a Ops, id: &str) -> Result<MerchantOps<'a>, ApiError> {
        if !self.may_see_merchant(id) {
            return Err(OpError::UnknownMerchant(id.to_owned()).into());
        }
        Ok(ops.merchant(id)?)
    }

    /// Cart `id`, if it exists and this principal may act on its merchant; else 404 as unknown.
    pub fn cart<'a>(&self, ops: &'a Ops, id: &str) -> Result<CartOps<'a>, ApiError> {
        let cart = ops.cart(id)?;
        if !self.may_see_merchant(cart.merchant_id().as_str()) {
            return Err(OpError::UnknownCart(id.to_owned()).into());
        }
        Ok(cart)
    }

    /// An order listing's filter as this principal may run it: a merchant's narrowed to its own
    /// merchant; `None` when it asked for another merchant's (the listing is then empty).
    pub fn narrow(&self, mut filter: OrderFilter) -> Option<OrderFilter> {
        let Self::Merchant { merchant, .. } = self else { return Some(filter) };
        debug_assert_eq!(decide(self, Scope::Listing), Access::Allow);
        if filter.merchant.as_deref().is_some_and(|m| m != merchant.as_str()) {
            return None;
        }
        filter.merchant = Some(merchant.to_string());
        Some(filter)
    }

    /// The merchant a merchant token belongs to (`None` for the operator).
    pub fn own_merchant(&self) -> Option<&MerchantId> {
        match self {
            Self::Operator => None,
            Self::Merchant { merchant, .. } => Some(merchant),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token_of(m: &str) -> Principal {
        Principal::Merchant { merchant: MerchantId::parse(m).unwrap(), token_id: "t1".into() }
    }

    #[test]
    fn the_operator_may_use_every_route() {
        for scope in [Scope::OperatorOnly, Scope::Merchant("acme"), Scope::Listing] {
            assert_eq!(decide(&Principal::Operator, scope), Access::Allow, "{scope:?}");
        }
    }

    #[test]
    fn a_merchant_token_sees_its_own_merchant_is_refused_operator_routes_and_never_sees_others() {
        let acme = token_of("acme");
        assert_eq!(decide(&acme, Scope::Merchant("acme")), Access::Allow);
        assert_eq!(decide(&acme, Scope::Listing), Access::Allow);
        assert_eq!(decide(&acme, Scope::OperatorOnly), Access::Forbidden);
        assert_eq!(decide(&acme, Scope::Merchant("beta")), Access::Hidden);
        assert_eq!(decide(&acme, Scope::Merchant("acme-2")), Access::Hidden, "no prefix match");
    }

    #[test]
    fn a_merchant_listing_is_narrowed_to_its_merchant() {
        let acme = token_of("acme");
        let narrowed = acme.narrow(OrderFilter::default()).unwrap();
        assert_eq!(narrowed.merchant.as_deref(), Some("acme"));
        let beta = OrderFilter { merchant: Some("beta".into()), ..OrderFilter::default() };
        assert!(acme.narrow(beta.clone()).is_none());
        assert_eq!(Principal::Operator.narrow(beta).unwrap().merchant.as_deref(), Some("beta"));
    }
}
