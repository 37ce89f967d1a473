//! A GraphQL request as the simulator reads it: the document parsed by `graphql-parser`, the
//! chosen operation's selections flattened into [`Sel`] trees whose arguments already hold the
//! request's variables (JSON values), fragments inlined with their type conditions, and the
//! query's requested cost.
//!
//! Cost, as Shopify documents it: a scalar costs 0, an object 1, a connection (a field with
//! `first`) 2 plus `first` times the cost of one of its nodes; a mutation costs 10. Shopify's
//! exact weights per field are not published; these are the documented rules.

use std::collections::HashMap;

use graphql_parser::query::{
    Definition, Document, OperationDefinition, Selection, SelectionSet, TypeCondition, Value as GValue,
};
use serde_json::{Map, Value};

/// A GraphQL error: the `errors[]` entry of an answer.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub(crate) struct GqlError {
    pub message: String,
    /// `extensions.code`, when Shopify gives one.
    pub code: Option<&'static str>,
}

impl GqlError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), code: None }
    }

    pub(crate) fn coded(message: impl Into<String>, code: &'static str) -> Self {
        Self { message: message.into(), code: Some(code) }
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut e = serde_json::json!({"message": self.message, "locations": [], "path": []});
        if let Some(code) = self.code {
            e["extensions"] = serde_json::json!({ "code": code });
        }
        e
    }
}

/// Query or mutation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OpKind {
    Query,
    Mutation,
}

impl OpKind {
    pub(crate) fn root_type(self) -> &'static str {
        match self {
            Self::Query => "QueryRoot",
            Self::Mutation => "Mutation",
        }
    }
}

/// One selected field: its answer key (alias or name), name, resolved arguments and directives,
/// its own selections, and the type its fragment applies to (`None`: any).
#[derive(Clone, Debug, Default)]
pub(crate) struct Sel {
    pub key: String,
    pub name: String,
    pub args: Map<String, Value>,
    pub directives: Vec<(String, Map<String, Value>)>,
    pub children: Vec<Sel>,
    pub on: Option<String>,
}

impl Sel {
    pub(crate) fn arg(&self, name: &str) -> &Value {
        self.args.get(name).unwrap_or(&Value::Null)
    }

    /// The arguments of directive `name` (`@idempotent(key:)`), if it is there.
    pub(crate) fn directive(&self, name: &str) -> Option<&Map<String, Value>> {
        self.directives.iter().find(|(n, _)| n == name).map(|(_, a)| a)
    }

    fn first(&self) -> Option<u64> {
        self.args.get("first").and_then(Value::as_u64)
    }
}

/// The operation to run.
#[derive(Debug)]
pub(crate) struct Operation {
    pub kind: OpKind,
    pub fields: Vec<Sel>,
}

type Fragments<'a> = HashMap<&'a str, (&'a str, &'a SelectionSet<'a, &'a str>)>;

/// Parses `query` and picks the operation (`operation_name`, else the only one).
pub(crate) fn parse(query: &str, variables: &Map<String, Value>, name: Option<&str>) -> Result<Operation, GqlError> {
    let doc: Document<'_, &str> = graphql_parser::parse_query(query)
        .map_err(|e| GqlError::new(format!("syntax error: {}", e.to_string().lines().next().unwrap_or_default())))?;
    let mut fragments: Fragments<'_> = HashMap::new();
    let mut ops = Vec::new();
    for d in &doc.definitions {
        match d {
            Definition::Fragment(f) => {
                let TypeCondition::On(t) = &f.type_condition;
                fragments.insert(f.name, (t, &f.selection_set));
            }
            Definition::Operation(op) => ops.push(op),
        }
    }
    let chosen = match name {
        Some(n) => ops.into_iter().find(|op| op_name(op) == Some(n)),
        None if ops.len() == 1 => ops.pop(),
        None => return Err(GqlError::new("An operation name is required")),
    }
    .ok_or_else(|| GqlError::new("No operation named in the document"))?;
    let (kind, set, defaults) = match chosen {
        OperationDefinition::SelectionSet(s) => (OpKind::Query, s, Vec::new()),
        OperationDefinition::Query(q) => (OpKind::Query, &q.selection_set, defaults_of(&q.variable_definitions)),
        OperationDefinition::Mutation(m) => (OpKind::Mutation, &m.selection_set, defaults_of(&m.variable_definitions)),
        OperationDefinition::Subscription(_) => return Err(GqlError::new("Subscriptions are not supported")),
    };
    let mut vars = variables.clone();
    for (k, v) in defaults {
        vars.entry(k).or_insert(v);
    }
    let fields = flatten(set, &vars, &fragments, None, 0)?;
    Ok(Operation { kind, fields })
}

fn op_name<'a>(op: &OperationDefinition<'a, &'a str>) -> Option<&'a str> {
    match op {
        OperationDefinition::Query(q) => q.name,
        OperationDefinition::Mutation(m) => m.name,
        OperationDefinition::Subscription(s) => s.name,
        OperationDefinition::SelectionSet(_) => None,
    }
}

fn defaults_of<'a>(defs: &[graphql_parser::query::VariableDefinition<'a, &'a str>]) -> Vec<(String, Value)> {
    let none = Map::new();
    defs.iter().filter_map(|d| Some((d.name.to_owned(), to_json(d.default_value.as_ref()?, &none)))).collect()
}

/// A literal or variable as JSON (an absent variable is `null`).
fn to_json<'a>(v: &GValue<'a, &'a str>, vars: &Map<String, Value>) -> Value {
    match v {
        GValue::Variable(name) => vars.get(*name).cloned().unwrap_or(Value::Null),
        GValue::Int(n) => n.as_i64().map_or(Value::Null, Value::from),
        GValue::Float(f) => Value::from(*f),
        GValue::String(s) => Value::String(s.clone()),
        GValue::Boolean(b) => Value::Bool(*b),
        GValue::Null => Value::Null,
        GValue::Enum(e) => Value::String((*e).to_owned()),
        GValue::List(items) => Value::Array(items.iter().map(|i| to_json(i, vars)).collect()),
        GValue::Object(m) => Value::Object(m.iter().map(|(k, v)| ((*k).to_owned(), to_json(v, vars))).collect()),
    }
}

fn flatten<'a>(
    set: &SelectionSet<'a, &'a str>,
    vars: &Map<String, Value>,
    fragments: &Fragments<'a>,
    on: Option<&str>,
    depth: usize,
) -> Result<Vec<Sel>, GqlError> {
    if depth > 32 {
        return Err(GqlError::new("Query is nested too deeply"));
    }
    let mut out = Vec::new();
    for item in &set.items {
        match item {
            Selection::Field(f) => {
                let args = f.arguments.iter().map(|(k, v)| ((*k).to_owned(), to_json(v, vars))).collect();
                let directives = f
                    .directives
                    .iter()
                    .map(|d| {
                        (
                            d.name.to_owned(),
                            d.arguments.iter().map(|(k, v)| ((*k).to_owned(), to_json(v, vars))).collect(),
                        )
                    })
                    .collect();
                out.push(Sel {
                    key: f.alias.unwrap_or(f.name).to_owned(),
                    name: f.name.to_owned(),
                    args,
                    directives,
                    children: flatten(&f.selection_set, vars, fragments, None, depth + 1)?,
                    on: on.map(str::to_owned),
                });
            }
            Selection::InlineFragment(i) => {
                let t = i.type_condition.as_ref().map(|TypeCondition::On(t)| *t).or(on);
                out.extend(flatten(&i.selection_set, vars, fragments, t, depth + 1)?);
            }
            Selection::FragmentSpread(s) => {
                let (t, fset) = fragments
                    .get(s.fragment_name)
                    .ok_or_else(|| GqlError::new(format!("Fragment {} was used, but not defined", s.fragment_name)))?;
                out.extend(flatten(fset, vars, fragments, Some(t), depth + 1)?);
            }
        }
    }
    Ok(out)
}

/// The requested cost of an operation.
pub(crate) fn requested_cost(op: &Operation) -> u64 {
    match op.kind {
        OpKind::Mutation => 10 * op.fields.len() as u64,
        OpKind::Query => op.fields.iter().map(root_cost).sum(),
    }
}

fn root_cost(s: &Sel) -> u64 {
    if s.name == "nodes" {
        let n = s.arg("ids").as_array().map_or(0, Vec::len) as u64;
        return n * (1 + s.children.iter().map(cost).sum::<u64>());
    }
    cost(s)
}

fn cost(s: &Sel) -> u64 {
    if s.children.is_empty() {
        return 0;
    }
    match s.first() {
        Some(n) => 2 + n * s.children.iter().map(per_node).sum::<u64>(),
        None => 1 + s.children.iter().map(cost).sum::<u64>(),
    }
}

/// What one node of a connection costs through `s` (`nodes`, `edges { node }`; `pageInfo` is free).
fn per_node(s: &Sel) -> u64 {
    match s.name.as_str() {
        "nodes" => cost(s),
        "edges" => s.children.iter().filter(|c| c.name == "node").map(cost).sum(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost_of(query: &str, variables: serde_json::Value) -> u64 {
        let vars = variables.as_object().cloned().unwrap_or_default();
        parse(query, &vars, None).map(|op| requested_cost(&op)).unwrap_or(u64::MAX)
    }

    #[test]
    fn scalars_are_free_objects_cost_one_and_connections_multiply() {
        assert_eq!(cost_of("{ shop { name } }", serde_json::json!({})), 1);
        assert_eq!(
            cost_of("{ orders(first: 10) { pageInfo { hasNextPage } nodes { id } } }", serde_json::json!({})),
            12
        );
        let nested = "query($n: Int!) { orders(first: $n) { edges { node { shippingAddress { zip }
            lineItems(first: 5) { nodes { variant { sku } } } } } } }";
        // 2 + 3 × (order 1 + address 1 + lineItems (2 + 5 × (line 1 + variant 1)))
        assert_eq!(cost_of(nested, serde_json::json!({"n": 3})), 2 + 3 * (1 + 1 + 2 + 5 * 2));
        assert_eq!(
            cost_of("mutation { a: webhookSubscriptionCreate { userErrors { message } } }", serde_json::json!({})),
            10
        );
    }

    #[test]
    fn fragments_are_inlined_with_their_type_and_variables_resolved() {
        let q = "query($ids: [ID!]!) { nodes(ids: $ids) { ...V } } fragment V on ProductVariant { sku }";
        let vars = serde_json::json!({"ids": ["a", "b"]});
        let op = parse(q, vars.as_object().unwrap_or(&Map::new()), None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(op.fields[0].arg("ids"), &vars["ids"]);
        assert_eq!(op.fields[0].children[0].on.as_deref(), Some("ProductVariant"));
        assert_eq!(requested_cost(&op), 2);
    }
}
