//! Runs each database test on in-memory SQLite and, when `VERBUND_TEST_DATABASE_URL` names
//! a PostgreSQL server, again on a fresh PostgreSQL database that is dropped afterwards.
//! Both start from the real migrations. Also the small network tree most tests start from.

#![allow(dead_code)]

use futures::FutureExt;
use sea_orm::{ConnectionTrait, Database};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use uuid::Uuid;
use verbund_domain::network::{NetworkInput, NetworkLevel};
use verbund_domain::organisation::{OrganisationInput, OrganisationKind};
use verbund_domain::policy::Caller;
use verbund_domain::statistics::{Dimension, Measure, Plan, Query};
use verbund_persistence::tables::{Networks, Organisations};
use verbund_persistence::{Scoped, Store, Table};

pub async fn sqlite<F, Fut>(body: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let store = Store::connect("sqlite::memory:").await.expect("sqlite");
    store.migrate().await.expect("migrate");
    body(store).await;
}

/// Replaces the database name in a PostgreSQL URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

pub async fn postgres<F, Fut>(body: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    postgres_url(|url| async move {
        let store = Store::connect(&url).await.expect("connect test database");
        store.migrate().await.expect("migrate");
        body(store).await;
    })
    .await
}

/// Declares a test that runs on both databases: `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! db_test {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                $crate::common::sqlite($body).await
            }

            #[tokio::test]
            async fn postgres() {
                $crate::common::postgres($body).await
            }
        }
    };
}

#[test]
fn database_name_is_replaced() {
    assert_eq!(
        with_database("postgres://u@h:5432/test", "x"),
        "postgres://u@h:5432/x"
    );
    assert_eq!(
        with_database("postgres://h/test?sslmode=disable", "x"),
        "postgres://h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
}

// Used by the test crates that reopen a database; the others include this module too.
#[allow(dead_code)]
/// Like [`sqlite`], but on a database file whose URL the body gets (to open it twice, as a
/// restarted server would).
pub async fn sqlite_url<F, Fut>(body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let path =
        std::env::temp_dir().join(format!("verbund_test_{}.db", uuid::Uuid::now_v7().simple()));
    let url = format!("sqlite://{}", path.display());
    let outcome = AssertUnwindSafe(body(url)).catch_unwind().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Like [`postgres`], but the body gets the fresh database's URL.
pub async fn postgres_url<F, Fut>(body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let Ok(url) = std::env::var("VERBUND_TEST_DATABASE_URL") else {
        eprintln!(
            "VERBUND_TEST_DATABASE_URL is not set: this PostgreSQL variant has nothing to run against"
        );
        return;
    };
    let name = format!("verbund_test_{}", uuid::Uuid::now_v7().simple());
    let admin = Database::connect(url.as_str())
        .await
        .expect("connect to PostgreSQL admin database");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    let outcome = AssertUnwindSafe(body(with_database(&url, &name)))
        .catch_unwind()
        .await;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .expect("drop test database");
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// A small tree: federal → Bayern → München, federal → Sachsen → Leipzig; a programme
/// partner P at federal level, member X in München and member Y in Leipzig.
pub struct Tree {
    pub federal: Uuid,
    pub bavaria: Uuid,
    pub munich: Uuid,
    pub saxony: Uuid,
    pub leipzig: Uuid,
    pub p: Uuid,
    pub x: Uuid,
    pub y: Uuid,
}

pub fn net(level: NetworkLevel, parent: Option<Uuid>, name: &str, code: &str) -> NetworkInput {
    NetworkInput {
        level: level.as_str().into(),
        parent_id: parent,
        name: name.into(),
        code: Some(code.into()),
    }
}

pub fn org(
    kind: OrganisationKind,
    network: Uuid,
    parent: Option<Uuid>,
    name: &str,
) -> OrganisationInput {
    OrganisationInput {
        kind: kind.as_str().into(),
        sector: "civil_society".into(),
        network_id: network,
        parent_organisation_id: parent,
        name: name.into(),
        ..Default::default()
    }
}

/// Creates a record as the system: its id.
pub async fn put<T: Table>(s: &Scoped, input: T::Input) -> Uuid {
    s.create::<T>(input).await.expect("fixture record").id
}

pub async fn tree(store: &Store) -> Tree {
    use NetworkLevel::{Federal, Regional, State};
    use OrganisationKind::{Member, ProgrammePartner};
    let s = store.scoped(Caller::system()).await.expect("system");
    let network =
        |level, parent, name: &str, code: &str| put::<Networks>(&s, net(level, parent, name, code));
    let federal = network(Federal, None, "Dachverband", "DE").await;
    let bavaria = network(State, Some(federal), "Bayern", "DE-BY").await;
    let munich = network(Regional, Some(bavaria), "München", "09162").await;
    let saxony = network(State, Some(federal), "Sachsen", "DE-SN").await;
    let leipzig = network(Regional, Some(saxony), "Leipzig", "14713").await;
    let organisation =
        |kind, home, parent, name: &str| put::<Organisations>(&s, org(kind, home, parent, name));
    let p = organisation(ProgrammePartner, federal, None, "Partner").await;
    let x = organisation(Member, munich, Some(p), "X München").await;
    let y = organisation(Member, leipzig, Some(p), "Y Leipzig").await;
    Tree {
        federal,
        bavaria,
        munich,
        saxony,
        leipzig,
        p,
        x,
        y,
    }
}

/// The exact view's plan of `measure` by `groups`.
pub fn exact_plan(measure: Measure, groups: &[Dimension]) -> Plan {
    let query = Query {
        measure: Some(measure),
        groups: groups.to_vec(),
        ..Query::default()
    };
    query.plan(false).expect("plan")
}
