//! Bounds on a GraphQL request, checked before any recursive walk: the query text is
//! scanned once, linearly, for its size, nesting and token count before the (recursive)
//! parser sees it; the parsed document is then walked with an explicit stack — fragments
//! expanded — to count fields, aliases and directives against their limits. Depth and
//! complexity after that are the engine's own limits (see `schema`); batching is off
//! because the handler takes single requests only; the body size is limited by the router.

use crate::config::GraphqlConfig;
use crate::error::{ApiError, Code};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, Value};

/// What a request holds after its fragments are expanded.
#[derive(Default, Debug, PartialEq, Eq)]
pub struct Counts {
    pub fields: usize,
    pub aliases: usize,
    pub directives: usize,
}

fn refuse(message: String, limit: String) -> ApiError {
    ApiError {
        code: Code::TooComplex,
        message,
        fields: vec![("query".into(), limit)],
        retry_after: None,
    }
}

/// `n` of `what` where at most `max` are allowed.
fn too_many(what: &str, n: impl std::fmt::Display, max: usize) -> ApiError {
    refuse(
        format!("the query has {n} {what}; at most {max} are allowed"),
        format!("at most {max} {what}"),
    )
}

/// `what` nests deeper than `max` levels.
fn too_deep(what: &str, max: usize) -> ApiError {
    refuse(
        format!("{what} more than {max} levels deep"),
        format!("at most {max} levels of nesting"),
    )
}

/// The linear pre-scan of the query text: length, bracket nesting (`{`, `[`, `(` — selection
/// sets, list and object literals, arguments), tokens and directives, with strings and
/// comments skipped. The parser recurses on nesting, so nothing deeper reaches it.
pub fn scan(query: &str, config: &GraphqlConfig) -> Result<(), ApiError> {
    if query.len() > config.max_query_bytes {
        return Err(refuse(
            format!(
                "the query is {} bytes long; at most {} are allowed",
                query.len(),
                config.max_query_bytes
            ),
            format!("at most {} bytes", config.max_query_bytes),
        ));
    }
    let b = query.as_bytes();
    let (mut i, mut depth, mut tokens, mut directives) = (0usize, 0usize, 0usize, 0usize);
    let mut in_word = false;
    while i < b.len() {
        let c = b[i];
        let word = c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.';
        if word {
            if !in_word {
                tokens += 1;
            }
            in_word = true;
            i += 1;
            continue;
        }
        in_word = false;
        match c {
            b'#' => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'"' => {
                tokens += 1;
                if b[i..].starts_with(b"\"\"\"") {
                    i += 3;
                    while i < b.len() && !b[i..].starts_with(b"\"\"\"") {
                        // An escaped triple quote stays inside the block string.
                        i += if b[i..].starts_with(b"\\\"\"\"") {
                            4
                        } else {
                            1
                        };
                    }
                    i += 3;
                } else {
                    i += 1;
                    while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                        i += if b[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                }
                continue;
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                tokens += 1;
                if depth > config.max_nesting {
                    return Err(too_deep("the query nests brackets", config.max_nesting));
                }
            }
            b'}' | b']' | b')' => {
                depth = depth.saturating_sub(1);
                tokens += 1;
            }
            b'@' => {
                directives += 1;
                tokens += 1;
            }
            c if c.is_ascii_whitespace() || c == b',' => {}
            _ => tokens += 1,
        }
        i += 1;
    }
    if tokens > config.max_tokens {
        return Err(too_many("tokens", tokens, config.max_tokens));
    }
    if directives > config.max_directives {
        return Err(too_many("directives", directives, config.max_directives));
    }
    Ok(())
}

/// Counts fields, aliases and directives with every fragment spread expanded where it is
/// used, walking with an explicit stack. Stops as soon as a limit is passed (so a fragment
/// that spreads another many times over cannot make the walk itself expensive) or the
/// expansion nests deeper than twice the depth limit (a fragment chain or cycle).
pub fn count(doc: &ExecutableDocument, config: &GraphqlConfig) -> Result<Counts, ApiError> {
    let mut c = Counts::default();
    let max_depth = config.max_depth * 2;
    let mut stack: Vec<(&SelectionSet, usize)> = doc
        .operations
        .iter()
        .map(|(_, op)| {
            c.directives += op.node.directives.len();
            (&op.node.selection_set.node, 0)
        })
        .collect();
    while let Some((set, depth)) = stack.pop() {
        if depth > max_depth {
            return Err(too_deep("the query nests fields and fragments", max_depth));
        }
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    c.fields += 1;
                    c.directives += f.node.directives.len();
                    if f.node.alias.is_some() {
                        c.aliases += 1;
                    }
                    stack.push((&f.node.selection_set.node, depth + 1));
                }
                Selection::InlineFragment(fr) => {
                    c.directives += fr.node.directives.len();
                    stack.push((&fr.node.selection_set.node, depth + 1));
                }
                Selection::FragmentSpread(sp) => {
                    c.directives += sp.node.directives.len();
                    if let Some(fr) = doc.fragments.get(&sp.node.fragment_name.node) {
                        c.directives += fr.node.directives.len();
                        stack.push((&fr.node.selection_set.node, depth + 1));
                    }
                }
            }
        }
        check_counts(&c, config)?;
    }
    Ok(c)
}

/// Checked while counting, so a count can stop short of the request's whole size: the
/// figure named is how far the count got ("or more").
fn check_counts(c: &Counts, config: &GraphqlConfig) -> Result<(), ApiError> {
    if c.aliases > config.max_aliases {
        return Err(too_many(
            "aliases",
            format!("{} or more", c.aliases),
            config.max_aliases,
        ));
    }
    if c.fields > config.max_fields {
        return Err(too_many(
            "fields",
            format!("{} or more", c.fields),
            config.max_fields,
        ));
    }
    if c.directives > config.max_directives {
        return Err(too_many(
            "directives",
            format!("{} or more", c.directives),
            config.max_directives,
        ));
    }
    Ok(())
}

/// How deeply the request's variables nest (lists and objects), walked with an explicit
/// stack.
pub fn variables_depth<'a>(vars: impl Iterator<Item = (&'a Name, &'a Value)>) -> usize {
    let mut deepest = 0;
    let mut stack: Vec<(&Value, usize)> = vars.map(|(_, v)| (v, 1)).collect();
    while let Some((v, d)) = stack.pop() {
        deepest = deepest.max(d);
        match v {
            Value::List(items) => stack.extend(items.iter().map(|x| (x, d + 1))),
            Value::Object(m) => stack.extend(m.values().map(|x| (x, d + 1))),
            _ => {}
        }
    }
    deepest
}

/// Checks a request before the engine sees it: the text scan, then (parsing once, the
/// engine reuses the document) the expanded counts, then the variables' nesting. A query
/// that does not parse passes here and is refused by the engine with its parse error.
pub fn check(req: &mut async_graphql::Request, config: &GraphqlConfig) -> Result<(), ApiError> {
    scan(&req.query, config)?;
    let depth = variables_depth(req.variables.iter());
    if depth > config.max_nesting {
        return Err(too_deep("the variables nest", config.max_nesting));
    }
    if let Ok(doc) = req.parsed_query() {
        count(doc, config)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn checked(query: &str) -> Result<(), ApiError> {
        let mut req = async_graphql::Request::new(query);
        check(&mut req, &GraphqlConfig::default())
    }

    #[test]
    fn counts_fields_aliases_and_fragments_where_they_are_spread() {
        let doc = async_graphql::parser::parse_query(
            "{ a: __typename b: __typename networks { totalCount ...F ...F } } \
             fragment F on NetworkConnection { totalCount x: totalCount @skip(if: false) }",
        )
        .expect("parse");
        assert_eq!(
            count(&doc, &GraphqlConfig::default()).expect("within limits"),
            Counts {
                fields: 8,
                aliases: 4,
                directives: 2,
            }
        );
    }

    #[test]
    fn refuses_many_aliases_directly_and_through_fragments() {
        let aliases = |n: usize| {
            (0..n)
                .map(|i| format!("a{i}: __typename"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let e = checked(&format!("{{ {} }}", aliases(31))).expect_err("refused");
        assert_eq!(e.code, Code::TooComplex);
        assert!(e.message.contains("aliases"), "{}", e.message);
        assert!(checked("{ __typename }").is_ok());
        // 15 aliases in a fragment spread 15 times: 225 aliases.
        let spread = (0..15).map(|_| "...F").collect::<Vec<_>>().join(" ");
        let q = format!("{{ {spread} }} fragment F on Query {{ {} }}", aliases(15));
        let e = checked(&q).expect_err("refused");
        assert_eq!(e.code, Code::TooComplex);
        // Fields multiplied through a chain of fragments (10^4 fields from 40 tokens).
        let q = "{ ...A } fragment A on Query { ...B ...B ...B ...B ...B ...B ...B ...B ...B ...B } \
                 fragment B on Query { ...C ...C ...C ...C ...C ...C ...C ...C ...C ...C } \
                 fragment C on Query { ...D ...D ...D ...D ...D ...D ...D ...D ...D ...D } \
                 fragment D on Query { __typename __typename __typename __typename __typename \
                 __typename __typename __typename __typename __typename }";
        let e = checked(q).expect_err("refused");
        assert!(e.message.contains("fields"), "{}", e.message);
    }

    #[test]
    fn fragment_cycles_and_chains_end() {
        let e = checked("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }")
            .expect_err("refused");
        assert_eq!(e.code, Code::TooComplex);
        let chain: String = (0..200)
            .map(|i| format!("fragment F{i} on Query {{ ...F{} }} ", i + 1))
            .collect();
        let e = checked(&format!(
            "{{ ...F0 }} {chain} fragment F200 on Query {{ __typename }}"
        ))
        .expect_err("refused");
        assert_eq!(e.code, Code::TooComplex);
    }

    #[test]
    fn deep_literals_and_variables_are_refused_before_parsing() {
        for (open, close) in [("[", "]"), ("{a:", "}"), ("(", ")")] {
            let q = format!(
                "{{ networks(filter: {}1{}) {{ totalCount }} }}",
                open.repeat(5000),
                close.repeat(5000)
            );
            let e = checked(&q).expect_err("refused");
            assert_eq!(e.code, Code::TooComplex, "{open}");
        }
        // Brackets inside strings and comments are not nesting.
        let s = format!("{{ __typename # {}\n }}", "[".repeat(5000));
        assert!(checked(&s).is_ok());
        let s = format!(
            "{{ a: __typename @include(if: true) }} # \"{}\"",
            "{".repeat(500)
        );
        assert!(checked(&s).is_ok());
        let mut deep = serde_json::json!(1);
        for _ in 0..100 {
            deep = serde_json::json!([deep]);
        }
        let mut req = async_graphql::Request::new("query($v: Int) { __typename }").variables(
            async_graphql::Variables::from_json(serde_json::json!({ "v": deep })),
        );
        let e = check(&mut req, &GraphqlConfig::default()).expect_err("refused");
        assert_eq!(e.code, Code::TooComplex);
    }

    /// The deepest nesting the scan lets through parses on a thread with the stack of a
    /// tokio worker (2 MiB), in the build being tested.
    #[test]
    fn the_deepest_accepted_query_parses_on_a_worker_stack() {
        let n = GraphqlConfig::default().max_nesting - 2;
        let q = format!(
            "{{ networks(filter: {{ a: {}1{} }}) {{ totalCount }} }}",
            "[".repeat(n - 2),
            "]".repeat(n - 2)
        );
        assert!(checked(&q).is_ok());
        assert!(
            parses_on_a_worker_stack(q),
            "parsed without overflowing the stack"
        );
    }

    /// Parses `q` on a thread with a tokio worker's stack (2 MiB); false if it overflowed.
    fn parses_on_a_worker_stack(q: String) -> bool {
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                let mut req = async_graphql::Request::new(q);
                let _ = req.parsed_query();
            })
            .expect("thread")
            .join()
            .is_ok()
    }

    proptest! {
        /// Any mix of brackets, strings, comments and words either passes the scan or is
        /// refused with TOO_COMPLEX; what passes parses on a worker stack.
        #[test]
        fn scan_bounds_whatever_it_passes(parts in proptest::collection::vec(
            prop_oneof![
                Just("{".to_owned()), Just("}".to_owned()), Just("[".to_owned()),
                Just("]".to_owned()), Just("(".to_owned()), Just(")".to_owned()),
                Just("\"".to_owned()), Just("\"\"\"".to_owned()), Just("#".to_owned()),
                Just("\n".to_owned()), Just("a:".to_owned()), Just("...F".to_owned()),
                Just("@x".to_owned()), Just("1".to_owned()), Just("\\".to_owned()),
            ],
            0..3000,
        )) {
            let q: String = parts.concat();
            match checked(&q) {
                Ok(()) => prop_assert!(parses_on_a_worker_stack(q)),
                Err(e) => prop_assert_eq!(e.code, Code::TooComplex),
            }
        }
    }
}
