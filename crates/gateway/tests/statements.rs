//! No N+1: a page of organisations with their contacts, offerings and count of active
//! mentorships costs the same number of SQL statements for 10 organisations as for 100,
//! on SQLite and (in CI) PostgreSQL.

#[path = "../../persistence/tests/common/mod.rs"]
mod common;

use std::sync::atomic::Ordering;
use verbund_domain::contact::ContactInput;
use verbund_domain::organisation::OrganisationInput;
use verbund_domain::policy::Caller;
use verbund_gateway::config::Config;
use verbund_persistence::Store;
use verbund_persistence::tables::{Contacts, Networks, Organisations};

const QUERY: &str = r#"query($n: Int) { organisations(first: $n) { totalCount edges { node {
    name network { name } parentOrganisation { name }
    contacts { totalCount edges { node { name email } } }
    offerings { totalCount edges { node { title serviceArea { name } } } }
    mentorshipCount(status: "active")
} } } }"#;

async fn statements_for(
    schema: &verbund_gateway::graphql::VerbundSchema,
    store: &Store,
    counter: &std::sync::atomic::AtomicU64,
    n: i32,
) -> (u64, usize) {
    let scoped = store.scoped(Caller::system()).await.expect("scoped");
    let before = counter.load(Ordering::SeqCst);
    let req = async_graphql::Request::new(QUERY)
        .variables(async_graphql::Variables::from_json(
            serde_json::json!({ "n": n }),
        ))
        .data(verbund_gateway::graphql::types::Loaders::new(&scoped))
        .data(scoped);
    let res = schema.execute(req).await;
    assert!(res.errors.is_empty(), "{:?}", res.errors);
    let json = res.data.into_json().expect("json");
    let edges = json["organisations"]["edges"]
        .as_array()
        .expect("edges")
        .len();
    (counter.load(Ordering::SeqCst) - before, edges)
}

async fn same_statements_for_10_and_100(mut store: Store) {
    verbund_seed::seed_demo(&store, 5).await.expect("seed");
    let s = store.scoped(Caller::system()).await.expect("system");
    let region = s
        .list::<Networks>(
            &Default::default(),
            &verbund_persistence::PageRequest {
                first: 500,
                after: None,
            },
        )
        .await
        .expect("networks")
        .items
        .into_iter()
        .find(|n| n.data.code == "14713")
        .expect("Leipzig")
        .id;
    for i in 0..50 {
        let org = OrganisationInput {
            kind: "member".into(),
            sector: "civil_society".into(),
            network_id: region,
            name: format!("Zusatz {i}"),
            ..Default::default()
        };
        let id = s.create::<Organisations>(org).await.expect("org").id;
        s.create::<Contacts>(ContactInput {
            organisation_id: id,
            name: format!("Kontakt {i}"),
            ..Default::default()
        })
        .await
        .expect("contact");
    }
    let counter = store.count_statements();
    let config = Config::default();
    let schema = verbund_gateway::graphql::schema(&config.graphql);
    let (ten, n10) = statements_for(&schema, &store, &counter, 10).await;
    let (hundred, n100) = statements_for(&schema, &store, &counter, 100).await;
    assert_eq!((n10, n100), (10, 100));
    assert_eq!(ten, hundred, "statements for 10 organisations vs 100");
    assert!(
        hundred <= 12,
        "a small, fixed number of statements: {hundred}"
    );
    eprintln!("statements per page: {hundred}");
}

db_test!(nested_fields_do_not_multiply_statements, |store: Store| {
    same_statements_for_10_and_100(store)
});

async fn run(
    schema: &verbund_gateway::graphql::VerbundSchema,
    store: &Store,
    query: &str,
) -> serde_json::Value {
    let scoped = store.scoped(Caller::system()).await.expect("scoped");
    let req = async_graphql::Request::new(query)
        .data(verbund_gateway::graphql::types::Loaders::new(&scoped))
        .data(scoped);
    let res = schema.execute(req).await;
    assert!(res.errors.is_empty(), "{:?}", res.errors);
    res.data.into_json().expect("json")
}

/// The three counts of a page come from one statement, and agree with the lists.
async fn counts_together(mut store: Store) {
    verbund_seed::seed_demo(&store, 5).await.expect("seed");
    let counter = store.count_statements();
    let schema = verbund_gateway::graphql::schema(&Config::default().graphql);
    let before = counter.load(Ordering::SeqCst);
    let counts = run(
        &schema,
        &store,
        "{ organisations(first: 60) { edges { node { name contactCount offeringCount mentorshipCount } } } }",
    )
    .await;
    let statements = counter.load(Ordering::SeqCst) - before;
    assert!(statements <= 2, "page and counts: {statements} statements");
    let lists = run(
        &schema,
        &store,
        "{ organisations(first: 60) { edges { node { name contacts { totalCount } offerings { totalCount } mentorshipCount(status: \"active\") } } } }",
    )
    .await;
    let a = counts["organisations"]["edges"].as_array().expect("edges");
    let b = lists["organisations"]["edges"].as_array().expect("edges");
    assert_eq!(a.len(), 60);
    let mut nonzero = 0;
    for (x, y) in a.iter().zip(b) {
        assert_eq!(
            x["node"]["contactCount"],
            y["node"]["contacts"]["totalCount"]
        );
        assert_eq!(
            x["node"]["offeringCount"],
            y["node"]["offerings"]["totalCount"]
        );
        assert_eq!(x["node"]["mentorshipCount"], y["node"]["mentorshipCount"]);
        nonzero += usize::from(x["node"]["mentorshipCount"].as_u64() > Some(0));
    }
    assert!(nonzero > 0);
}

db_test!(organisation_counts_come_together, |store: Store| {
    counts_together(store)
});
