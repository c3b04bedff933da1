//! GraphQL answers in the order of the selection (spec §7.2.2 "Serialized Map Ordering").
//! async-graphql resolves the fields of a query concurrently and inserts each as it
//! completes, so two identical requests could answer their fields in different orders.
//! The answer's objects are put back into the order in which the document selects their
//! fields (fragments and inline fragments flattened where they stand).

use async_graphql::Value;
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, SelectionSet};
use async_graphql::{Name, Positioned};

/// Deeper than any query the limits admit; a bound on the walk, not a rule.
const MAX_DEPTH: usize = 64;

/// Reorders `data`, the answer to `query` (operation `operation`), into selection order.
/// A query that does not parse, or names no known operation, leaves it as it is.
pub fn in_selection_order(query: &str, operation: Option<&str>, data: &mut Value) {
    let Ok(doc) = async_graphql::parser::parse_query(query) else {
        return;
    };
    let op = match (&doc.operations, operation) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(&Name::new(name)),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        _ => None,
    };
    if let Some(op) = op {
        reorder(&doc, &[&op.node.selection_set], data, 0);
    }
}

fn reorder(
    doc: &ExecutableDocument,
    sets: &[&Positioned<SelectionSet>],
    value: &mut Value,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    match value {
        Value::List(items) => {
            for item in items {
                reorder(doc, sets, item, depth + 1);
            }
        }
        Value::Object(map) => {
            let mut keys: Vec<(Name, Vec<&Positioned<SelectionSet>>)> = Vec::new();
            collect(doc, sets, &mut keys, depth);
            let mut old = std::mem::take(map);
            for (key, subs) in &keys {
                if let Some(mut v) = old.shift_remove(key) {
                    reorder(doc, subs, &mut v, depth + 1);
                    map.insert(key.clone(), v);
                }
            }
            // Anything the document does not name (none in practice) keeps its place after.
            map.extend(old);
        }
        _ => {}
    }
}

/// The response keys of `sets` in document order, each with its sub-selections.
fn collect<'a>(
    doc: &'a ExecutableDocument,
    sets: &[&'a Positioned<SelectionSet>],
    keys: &mut Vec<(Name, Vec<&'a Positioned<SelectionSet>>)>,
    depth: usize,
) {
    use async_graphql::parser::types::Selection;
    if depth > MAX_DEPTH {
        return;
    }
    for set in sets {
        for selection in &set.node.items {
            match &selection.node {
                Selection::Field(f) => {
                    let key = f.node.response_key().node.clone();
                    let sub = &f.node.selection_set;
                    match keys.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, subs)) => subs.push(sub),
                        None => keys.push((key, vec![sub])),
                    }
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = doc.fragments.get(&spread.node.fragment_name.node) {
                        collect(doc, &[&fragment.node.selection_set], keys, depth + 1);
                    }
                }
                Selection::InlineFragment(inline) => {
                    collect(doc, &[&inline.node.selection_set], keys, depth + 1);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_follow_the_selection_through_fragments() {
        let query =
            "query Q { b: me { z y } ...F a { ... on T { d c } } } fragment F on Query { c x }";
        let mut data = Value::from_json(serde_json::json!({
            "a": { "c": 1, "d": 2 },
            "x": [{ "q": 1 }],
            "c": 3,
            "b": { "y": 1, "z": 2 },
        }))
        .expect("value");
        in_selection_order(query, Some("Q"), &mut data);
        fn keys(v: &Value) -> Vec<String> {
            match v {
                Value::Object(m) => m.keys().map(|k| k.to_string()).collect(),
                _ => Vec::new(),
            }
        }
        assert_eq!(keys(&data), ["b", "c", "x", "a"]);
        let Value::Object(top) = &data else {
            panic!("object")
        };
        assert_eq!(keys(&top["b"]), ["z", "y"]);
        assert_eq!(keys(&top["a"]), ["d", "c"]);
    }
}
