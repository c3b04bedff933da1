//! Limits async-graphql does not have: the number of fields and of aliases in one request.
//! Depth and complexity are the engine's own limits (see `schema`); batching is off because
//! the handler takes single requests only; the body size is limited by the router.

use crate::config::GraphqlConfig;
use crate::error::{ApiError, Code};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

#[derive(Default, Debug, PartialEq, Eq)]
pub struct Counts {
    pub fields: usize,
    pub aliases: usize,
}

fn walk(set: &SelectionSet, c: &mut Counts) {
    for item in &set.items {
        match &item.node {
            Selection::Field(f) => {
                c.fields += 1;
                if f.node.alias.is_some() {
                    c.aliases += 1;
                }
                walk(&f.node.selection_set.node, c);
            }
            Selection::InlineFragment(fr) => walk(&fr.node.selection_set.node, c),
            // Named fragments are counted where they are defined, once per definition.
            Selection::FragmentSpread(_) => {}
        }
    }
}

pub fn count(doc: &ExecutableDocument) -> Counts {
    let mut c = Counts::default();
    for (_, op) in doc.operations.iter() {
        walk(&op.node.selection_set.node, &mut c);
    }
    for fragment in doc.fragments.values() {
        walk(&fragment.node.selection_set.node, &mut c);
    }
    c
}

/// Refuses a query with too many fields or aliases. A query that does not parse passes here
/// and is refused by the engine with its parse error.
pub fn check(query: &str, config: &GraphqlConfig) -> Result<(), ApiError> {
    let Ok(doc) = async_graphql::parser::parse_query(query) else {
        return Ok(());
    };
    let c = count(&doc);
    let refuse = |what: &str, n: usize, max: usize| {
        Err(ApiError {
            code: Code::Validation,
            message: format!("the query has {n} {what}; at most {max} are allowed"),
            fields: vec![("query".into(), format!("at most {max} {what}"))],
        })
    };
    if c.aliases > config.max_aliases {
        return refuse("aliases", c.aliases, config.max_aliases);
    }
    if c.fields > config.max_fields {
        return refuse("fields", c.fields, config.max_fields);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_fields_aliases_and_fragments() {
        let doc = async_graphql::parser::parse_query("{ a: __typename b: __typename networks { totalCount ...F } } fragment F on NetworkConnection { totalCount }").expect("parse");
        assert_eq!(
            count(&doc),
            Counts {
                fields: 5,
                aliases: 2
            }
        );
    }

    #[test]
    fn refuses_many_aliases() {
        let q = format!(
            "{{ {} }}",
            (0..31)
                .map(|i| format!("a{i}: __typename"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let e = check(&q, &GraphqlConfig::default()).expect_err("refused");
        assert_eq!(e.code, Code::Validation);
        assert!(e.message.contains("31 aliases"));
        assert!(check("{ __typename }", &GraphqlConfig::default()).is_ok());
    }
}
