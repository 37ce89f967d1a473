//! The GraphQL operations cartgate sends to Shopify (UPSTREAMS-shopify.md §2–§5), each with
//! the cost reserved for it until Shopify has reported its own figure.
//!
//! Page sizes keep every query under Shopify's 1,000-point single-query limit (a connection
//! costs `2 + first × node`, an object 1): the order's 100 line items with their variants are
//! ~305 points; fulfillment orders are read 8 at a time with 50 lines each (~842), where §4's
//! 20 × 100 would be refused as too expensive.

use crate::upstream::{Operation, OperationKind};

/// The fields an import reads of an order (§3), shared by the order query.
macro_rules! order_fields {
    () => {
        "id name createdAt updatedAt cancelledAt displayFinancialStatus displayFulfillmentStatus tags \
         shippingAddress { name company address1 address2 city provinceCode zip countryCodeV2 phone } \
         shippingLine { title code source } \
         lineItems(first: 100) { nodes { id sku quantity variant { id sku barcode inventoryItem { id } } } }"
    };
}

/// A variant's codes and its `available` stock at `$locationId` (§5).
macro_rules! variant_fields {
    () => {
        "id sku barcode inventoryItem { id inventoryLevel(locationId: $locationId) \
         { quantities(names: [\"available\"]) { name quantity } } }"
    };
}

const fn query(name: &'static str, query: &'static str, estimate: f64) -> Operation {
    Operation { name, query, kind: OperationKind::Query, estimate }
}

const fn mutation(name: &'static str, query: &'static str, estimate: f64) -> Operation {
    Operation { name, query, kind: OperationKind::Mutation, estimate }
}

pub(super) const ORDER: Operation =
    query("order", concat!("query Order($id: ID!) { order(id: $id) { ", order_fields!(), " } }"), 305.0);

/// Orders changed since a time, ids only: 250 a page (~253 points).
pub(super) const ORDERS_UPDATED: Operation = query(
    "orders",
    "query OrdersUpdated($first: Int!, $after: String, $q: String) { \
     orders(first: $first, after: $after, query: $q, sortKey: UPDATED_AT) { \
     pageInfo { hasNextPage endCursor } nodes { id updatedAt } } }",
    253.0,
);
pub(super) const ORDERS_PER_PAGE: u32 = 250;

/// Variants by id with their stock: [`VARIANTS_PER_CALL`] at a time (~5 points each).
pub(super) const ITEMS: Operation = query(
    "items",
    concat!(
        "query Items($ids: [ID!]!, $locationId: ID!) { nodes(ids: $ids) { ... on ProductVariant { ",
        variant_fields!(),
        " } } }"
    ),
    250.0,
);
pub(super) const VARIANTS_PER_CALL: usize = 50;

/// Every variant, paged by [`VARIANTS_PER_CALL`].
pub(super) const VARIANTS: Operation = query(
    "variants",
    concat!(
        "query Variants($first: Int!, $after: String, $locationId: ID!) { ",
        "productVariants(first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { ",
        variant_fields!(),
        " } } }"
    ),
    252.0,
);

pub(super) const FULFILLMENTS: Operation = query(
    "fulfillments",
    "query Fulfillments($id: ID!) { order(id: $id) { fulfillments(first: 50) { id trackingInfo { number } } } }",
    103.0,
);

pub(super) const FULFILLMENT_ORDERS: Operation = query(
    "fulfillment_orders",
    "query FulfillmentOrders($id: ID!) { order(id: $id) { fulfillmentOrders(first: 8) { nodes { \
     id status assignedLocation { name location { id } } \
     lineItems(first: 50) { nodes { id remainingQuantity totalQuantity sku lineItem { id } } } } } } }",
    843.0,
);

pub(super) const FULFILLMENT_CREATE: Operation = mutation(
    "fulfillment_create",
    "mutation FulfillmentCreate($fulfillment: FulfillmentInput!) { fulfillmentCreate(fulfillment: $fulfillment) { \
     fulfillment { id status } userErrors { field message } } }",
    10.0,
);

pub(super) const INVENTORY_SET: Operation = mutation(
    "inventory_set",
    "mutation InventorySet($input: InventorySetQuantitiesInput!, $key: String!) { \
     inventorySetQuantities(input: $input) @idempotent(key: $key) { \
     inventoryAdjustmentGroup { createdAt reason changes { name delta } } userErrors { code field message } } }",
    10.0,
);

pub(super) const WEBHOOKS: Operation =
    query("webhooks", "query Webhooks { webhookSubscriptions(first: 250) { nodes { id topic uri } } }", 252.0);

pub(super) const WEBHOOK_CREATE: Operation = mutation(
    "webhook_create",
    "mutation WebhookCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) { \
     webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) { \
     webhookSubscription { id } userErrors { field message } } }",
    10.0,
);

pub(super) const SHOP: Operation = query("shop", "query Shop { shop { name } }", 1.0);
