//! The aggregate table against a full recount from the base tables, after the demo seed
//! and after every batch of random writes (create, update, transition, delete, import),
//! on SQLite and PostgreSQL.

mod common;

use common::exact_plan;

use chrono::{Datelike, NaiveDate};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use verbund_domain::Record;
use verbund_domain::mentorship::{Mentorship, MentorshipInput, MentorshipStatus};
use verbund_domain::offering::{Offering, TargetGroup};
use verbund_domain::organisation::{Organisation, OrganisationInput, OrganisationKind};
use verbund_domain::policy::Caller;
use verbund_domain::statistics::{Dimension, Measure, Query};
use verbund_persistence::statistics::Source;
use verbund_persistence::tables::*;
use verbund_persistence::{ImportRow, Scoped, Store};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn mentorship_input(m: &Mentorship) -> MentorshipInput {
    MentorshipInput {
        organisation_id: m.organisation_id,
        offering_id: m.offering_id,
        mentor_id: m.mentor_id,
        mentee_ref: m.mentee_ref.clone(),
        format: m.format.as_str().into(),
        target_group: m.target_group.as_str().into(),
        status: Some(m.status.as_str().into()),
        requested_on: Some(m.requested_on),
        matched_on: m.matched_on,
        started_on: m.started_on,
        ended_on: m.ended_on,
        end_reason: m.end_reason.map(|r| r.as_str().into()),
        external_id: m.external_id.clone(),
    }
}

async fn assert_exact(store: &Store, s: &Scoped, when: &str) {
    let drift = store.statistics_drift().await.expect("drift");
    assert!(
        drift.is_empty(),
        "{when}: {} cells differ: {drift:#?}",
        drift.cells
    );
    // And the headline figure against a plain count, independently of the recount SQL.
    let plan = exact_plan(Measure::Mentorships, &[]);
    let cells = s.statistic_cells(&plan, Source::Live).await.expect("cells");
    let total: i64 = cells.iter().map(|c| c.1).sum();
    let counted = s
        .count::<Mentorships>(&MentorshipFilter::default())
        .await
        .expect("count");
    assert_eq!(total, counted as i64, "{when}: total mentorships");
}

async fn random_writes(store: &Store, s: &Scoped, rng: &mut StdRng, n: usize) {
    let orgs: Vec<Record<Organisation>> = s
        .all::<Organisations>(&OrganisationFilter::default())
        .await
        .expect("orgs");
    let regions: Vec<_> = s
        .all::<Networks>(&NetworkFilter {
            level: Some(verbund_domain::network::NetworkLevel::Regional),
            ..Default::default()
        })
        .await
        .expect("regions");
    let today = chrono::Utc::now().date_naive();
    for _ in 0..n {
        let mentorships: Vec<Record<Mentorship>> = s
            .all::<Mentorships>(&MentorshipFilter::default())
            .await
            .expect("mentorships");
        let offerings: Vec<Record<Offering>> = s
            .all::<Offerings>(&OfferingFilter::default())
            .await
            .expect("offerings");
        match rng.random_range(0..8) {
            0 | 1 => {
                let org = orgs.choose(rng).expect("org");
                let offering = offerings
                    .iter()
                    .filter(|o| o.data.organisation_id == org.id)
                    .map(|o| o.id)
                    .collect::<Vec<_>>()
                    .choose(rng)
                    .copied();
                let tg = TargetGroup::ALL.choose(rng).expect("tg");
                s.create::<Mentorships>(MentorshipInput {
                    organisation_id: org.id,
                    offering_id: offering,
                    mentor_id: None,
                    mentee_ref: Some(format!("R-{}", rng.random_range(0..10_000))),
                    format: "one_to_one".into(),
                    target_group: tg.as_str().into(),
                    status: None,
                    requested_on: Some(day(
                        rng.random_range(2019..2026),
                        rng.random_range(1..13),
                        1,
                    )),
                    matched_on: None,
                    started_on: None,
                    ended_on: None,
                    end_reason: None,
                    external_id: None,
                })
                .await
                .expect("create mentorship");
            }
            2 | 3 => {
                let m = mentorships.choose(rng).expect("mentorship");
                let next: Vec<MentorshipStatus> = MentorshipStatus::ALL
                    .iter()
                    .copied()
                    .filter(|t| m.data.status.can_move_to(*t))
                    .collect();
                if let Some(to) = next.choose(rng) {
                    let reason = matches!(to, MentorshipStatus::Ended)
                        .then_some(verbund_domain::mentorship::EndReason::GoalReached);
                    let on = today.max(m.data.requested_on);
                    let _ = s
                        .transition_mentorship(m.id, m.version, *to, on, reason)
                        .await
                        .expect("transition");
                }
            }
            4 => {
                // Move a mentorship to another organisation (without its offering).
                let m = mentorships.choose(rng).expect("mentorship");
                let mut input = mentorship_input(&m.data);
                if m.data.status == MentorshipStatus::Requested {
                    input.organisation_id = orgs.choose(rng).expect("org").id;
                    input.offering_id = None;
                    input.mentor_id = None;
                    input.external_id = None;
                } else {
                    input.target_group = TargetGroup::ALL.choose(rng).expect("tg").as_str().into();
                }
                s.update::<Mentorships>(m.id, m.version, input)
                    .await
                    .expect("move or change mentorship");
            }
            5 => {
                let m = mentorships.choose(rng).expect("mentorship");
                s.delete::<Mentorships>(m.id, m.version)
                    .await
                    .expect("delete mentorship");
            }
            6 => {
                // An organisation changes kind or region: all it contributes moves.
                let o = orgs.choose(rng).expect("org");
                let current = s.get::<Organisations>(o.id).await.expect("org");
                let mut input = OrganisationInput::from(&current.data);
                if current.data.kind == OrganisationKind::Member {
                    input.kind = if rng.random_bool(0.5) {
                        "other"
                    } else {
                        "member"
                    }
                    .into();
                }
                if let Some(r) = regions.choose(rng) {
                    input.network_id = r.id;
                }
                let _ = s
                    .update::<Organisations>(o.id, current.version, input)
                    .await;
            }
            _ => {
                // Delete an offering some mentorships point to: they lose its category.
                if let Some(f) = offerings
                    .iter()
                    .find(|f| mentorships.iter().any(|m| m.data.offering_id == Some(f.id)))
                {
                    s.delete::<Offerings>(f.id, f.version)
                        .await
                        .expect("delete offering");
                }
            }
        }
    }
    // An import: two new rows and one changed row, all in one transaction.
    let mentorships = s
        .all::<Mentorships>(&MentorshipFilter::default())
        .await
        .expect("mentorships");
    let mut rows = Vec::new();
    for (i, m) in mentorships.iter().take(2).enumerate() {
        let mut input = mentorship_input(&m.data);
        input.external_id = Some(format!("stat-import-{i}"));
        input.mentee_ref = Some(format!("I-{i}"));
        rows.push(Mentorship::parse(input, today).expect("valid row"));
    }
    let mut changed = mentorships[2].data.clone();
    changed.target_group = TargetGroup::Children;
    changed.external_id = Some("stat-import-x".into());
    rows.push(changed);
    s.import::<Mentorships>(rows.into_iter().map(ImportRow::new).collect(), false)
        .await
        .expect("import");
    let _ = store;
}

db_test!(
    aggregate_equals_recount_after_random_writes,
    |store: Store| async move {
        verbund_seed::seed_demo(&store, 11).await.expect("seed");
        let s = store.scoped(Caller::system()).await.expect("system");
        assert_exact(&store, &s, "after the demo seed").await;
        let mut rng = StdRng::seed_from_u64(6);
        for batch in 0..4 {
            random_writes(&store, &s, &mut rng, 12).await;
            assert_exact(&store, &s, &format!("after batch {batch}")).await;
        }
        // A rebuild from the base tables gives the same cells.
        store.rebuild_statistics().await.expect("rebuild");
        assert_exact(&store, &s, "after a rebuild").await;
    }
);

db_test!(
    grouped_counts_match_the_base_tables,
    |store: Store| async move {
        verbund_seed::seed_demo(&store, 3).await.expect("seed");
        let s = store.scoped(Caller::system()).await.expect("system");
        let plan = exact_plan(Measure::Mentorships, &[Dimension::Status]);
        let cells = s.statistic_cells(&plan, Source::Live).await.expect("cells");
        for &status in MentorshipStatus::ALL {
            let counted = s
                .count::<Mentorships>(&MentorshipFilter {
                    status: Some(status),
                    ..Default::default()
                })
                .await
                .expect("count");
            let cell = cells
                .iter()
                .find(|c| c.0 == vec![status.as_str().to_owned()])
                .map_or(0, |c| c.1);
            assert_eq!(cell, counted as i64, "{status}");
        }
        // Organisations by state: the sum is every organisation.
        let plan = exact_plan(Measure::Organisations, &[Dimension::State]);
        let cells = s.statistic_cells(&plan, Source::Live).await.expect("cells");
        let orgs = s
            .count::<Organisations>(&OrganisationFilter::default())
            .await
            .expect("count");
        assert_eq!(cells.iter().map(|c| c.1).sum::<i64>(), orgs as i64);
        assert!(
            cells.len() >= 16,
            "one row per state at least: {}",
            cells.len()
        );
        // Every group expression runs on this database, and each grouping adds up.
        let all = s
            .count::<Mentorships>(&MentorshipFilter::default())
            .await
            .expect("count") as i64;
        for groups in [
            vec![Dimension::Quarter, Dimension::Level],
            vec![Dimension::Region, Dimension::ProgrammePartner],
            vec![
                Dimension::Month,
                Dimension::Category,
                Dimension::TargetGroup,
            ],
            vec![
                Dimension::Year,
                Dimension::OrganisationKind,
                Dimension::EndReason,
            ],
        ] {
            // The protected view's canonical table is read sealed (only the domain's
            // protection opens it); its figures are checked through the API.
            let sealed = Query {
                measure: Some(Measure::Mentorships),
                groups: groups.clone(),
                ..Query::default()
            }
            .plan(true)
            .expect("plan");
            let limit = std::time::Duration::from_secs(30);
            let read = s.statistic_cells_to_protect(&sealed, Source::Live, limit);
            assert!(!read.await.expect("sealed").expect("in time").is_empty());
            {
                let plan = Query {
                    measure: Some(Measure::Mentorships),
                    groups: groups.clone(),
                    ..Query::default()
                }
                .plan(false)
                .expect("plan");
                let cells = s.statistic_cells(&plan, Source::Live).await.expect("cells");
                assert_eq!(cells.iter().map(|c| c.1).sum::<i64>(), all, "{groups:?}");
                if groups[0] == Dimension::Quarter {
                    let quarter = plan
                        .axes
                        .iter()
                        .position(|(a, _)| *a == verbund_domain::statistics::Axis::Period)
                        .expect("period");
                    assert!(
                        cells
                            .iter()
                            .all(|c| c.0[quarter].len() == 7 && c.0[quarter].contains("-Q")),
                        "{cells:?}"
                    );
                }
            }
        }
        // Stocks: active at the end of last month = started before minus ended before.
        let today = chrono::Utc::now().date_naive();
        let month_end = NaiveDate::from_ymd_opt(today.year(), today.month(), 1)
            .and_then(|d| d.pred_opt())
            .expect("date");
        let plan = Query {
            measure: Some(Measure::MentorshipsActive),
            active_at: Some(month_end),
            ..Query::default()
        }
        .plan(false)
        .expect("plan");
        let active = s.statistic_cells(&plan, Source::Live).await.expect("cells");
        let expected = s
            .all::<Mentorships>(&MentorshipFilter::default())
            .await
            .expect("all")
            .iter()
            .filter(|m| {
                m.data.started_on.is_some_and(|d| d <= month_end)
                    && m.data.ended_on.is_none_or(|d| d > month_end)
            })
            .count() as i64;
        assert_eq!(active.iter().map(|c| c.1).sum::<i64>(), expected);
    }
);

db_test!(
    large_seed_is_deterministic_valid_and_its_aggregate_exact,
    |store: Store| async move {
        let scale = verbund_seed::Scale {
            regions_per_state: 2,
            partners: 3,
            organisations: 60,
            mentorships_per_organisation: 20,
            years: 3,
        };
        verbund_seed::seed_large(&store, 9, scale, &|_, _, _| {})
            .await
            .expect("seed");
        let s = store.scoped(Caller::system()).await.expect("system");
        assert_exact(&store, &s, "after the large seed").await;
        assert_eq!(
            s.count::<Mentorships>(&MentorshipFilter::default())
                .await
                .expect("count"),
            60 * 20
        );
        // Every row reads back through the domain types, so every value is valid.
        let all = s
            .all::<Mentorships>(&MentorshipFilter::default())
            .await
            .expect("mentorships");
        for &status in MentorshipStatus::ALL {
            assert!(all.iter().any(|m| m.data.status == status), "{status}");
        }
        for &group in verbund_domain::offering::TargetGroup::ALL {
            assert!(all.iter().any(|m| m.data.target_group == group), "{group}");
        }
        for m in &all {
            let input = mentorship_input(&m.data);
            Mentorship::parse(input, chrono::Utc::now().date_naive())
                .unwrap_or_else(|e| panic!("{e}: {:?}", m.data));
        }
        s.all::<Organisations>(&OrganisationFilter::default())
            .await
            .expect("organisations");
        // Child rows go through the same mapping as the write path's.
        let offerings = s
            .all::<Offerings>(&OfferingFilter::default())
            .await
            .expect("offerings");
        assert!(offerings.iter().all(|o| o.data.service_area.len() == 1));
        s.all::<Fundings>(&OwnedFilter::default())
            .await
            .expect("fundings");
        let committees = s
            .all::<Committees>(&CommitteeFilter::default())
            .await
            .expect("committees");
        assert_eq!(committees.len(), 16 * 2);
        assert!(committees.iter().any(|c| !c.data.members.is_empty()));
        // A second load refuses the filled database.
        assert!(
            verbund_seed::seed_large(&store, 9, scale, &|_, _, _| {})
                .await
                .is_err()
        );
    }
);

/// A database whose cells were counted by an earlier definition of the measures (here:
/// before money passed on was told apart, so `funding_passed_on` has no cells and no
/// definitions version is recorded) is recounted when it is next migrated.
async fn recounted_when_redefined(url: String) {
    use sea_orm::ConnectionTrait;
    let store = Store::connect(&url).await.expect("connect");
    store.migrate().await.expect("migrate");
    verbund_seed::seed_demo(&store, 3).await.expect("seed");
    assert!(store.statistics_drift().await.expect("drift").is_empty());
    drop(store);
    let raw = sea_orm::Database::connect(url.as_str()).await.expect("raw");
    // One stored cell off by 7: exactly that cell is named, with both figures.
    let dims = "grain, measure, network_path, organisation_kind, programme_partner, category, \
                target_group, status, end_reason, period, organisation_id";
    let nudge = |by: i64| {
        format!(
            "UPDATE statistic_cells SET count = count + ({by}) WHERE ({dims}) IN \
             (SELECT {dims} FROM statistic_cells WHERE measure = 'mentorships' AND count > 0 \
              ORDER BY {dims} LIMIT 1)"
        )
    };
    raw.execute_unprepared(&nudge(7))
        .await
        .expect("nudge a cell");
    let store = Store::connect(&url).await.expect("connect");
    let off = store.statistics_drift().await.expect("drift");
    assert_eq!(off.cells, 1, "{off:?}");
    let line = &off.examples[0];
    let figures = |word: &str| -> i64 {
        let at = line.find(word).expect("figure") + word.len();
        line[at..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|n| n.parse().ok())
            .expect("a count")
    };
    assert!(line.contains("|mentorships|"), "{line}");
    assert_eq!(
        figures("stored Some(("),
        figures("recounted Some((") + 7,
        "{line}"
    );
    drop(store);
    raw.execute_unprepared(&nudge(-7))
        .await
        .expect("restore the cell");
    for sql in [
        "DELETE FROM statistic_cells WHERE measure = 'funding_passed_on'",
        "DELETE FROM statistic_rollups WHERE measure = 'funding_passed_on'",
        "DELETE FROM settings WHERE key = 'statistics_definitions'",
    ] {
        raw.execute_unprepared(sql).await.expect("age the database");
    }
    drop(raw);
    let store = Store::connect(&url).await.expect("connect again");
    let aged = store.statistics_drift().await.expect("drift");
    assert!(!aged.is_empty(), "the aged cells differ from a recount");
    // Exactly the deleted cells are named: stored nothing, recounted their figures.
    assert!(aged.cells as usize >= aged.examples.len() && !aged.examples.is_empty());
    for line in &aged.examples {
        assert!(
            line.contains("|funding_passed_on|") && line.contains("stored None, recounted Some("),
            "{line}"
        );
    }
    store.migrate().await.expect("migrate again");
    let drift = store.statistics_drift().await.expect("drift");
    assert!(drift.is_empty(), "recounted at start: {drift:?}");
}

mod recounted_when_the_definitions_change {
    #[tokio::test]
    async fn sqlite() {
        crate::common::sqlite_url(super::recounted_when_redefined).await
    }

    #[tokio::test]
    async fn postgres() {
        crate::common::postgres_url(super::recounted_when_redefined).await
    }
}

/// A database from before the cells kept their owner (six migrations, one snapshot frozen):
/// the seventh migration keeps the snapshot's cells (with no owner) and the live cells are
/// recounted, with owners, when the store is migrated.
async fn owners_added_to_an_existing_database(url: String) {
    use sea_orm::{ConnectionTrait, Statement};
    let store = Store::connect(&url).await.expect("connect");
    store.migrate_first(6).await.expect("six migrations");
    let raw = sea_orm::Database::connect(url.as_str()).await.expect("raw");
    let backend = raw.get_database_backend();
    let snapshot = uuid::Uuid::now_v7();
    let p = |i: usize| match backend {
        sea_orm::DbBackend::Postgres => format!("${i}"),
        _ => "?".to_owned(),
    };
    for (sql, values) in [
        (
            format!(
                "INSERT INTO statistic_snapshots (id, as_of, label, created_by, created_at) VALUES ({}, {}, 'old', 'test', {})",
                p(1),
                p(2),
                p(3)
            ),
            vec![
                sea_orm::Value::from(snapshot),
                day(2025, 12, 31).into(),
                chrono::Utc::now().into(),
            ],
        ),
        (
            format!(
                "INSERT INTO statistic_snapshot_cells (snapshot_id, grain, measure, network_path, organisation_kind, \
                 programme_partner, category, target_group, status, end_reason, period, count, amount) \
                 VALUES ({}, 0, 'mentorships', 'x', 'member_organisation', {}, '', 'refugees', 'active', '', '2025-03', 7, 0)",
                p(1),
                p(2)
            ),
            vec![sea_orm::Value::from(snapshot), uuid::Uuid::nil().into()],
        ),
    ] {
        raw.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await
            .expect("an old release's rows");
    }
    store.migrate().await.expect("the seventh migration");
    let row = raw
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT count, organisation_id FROM statistic_snapshot_cells WHERE period = '2025-03'",
        ))
        .await
        .expect("read")
        .expect("the frozen cell is kept");
    assert_eq!(row.try_get_by_index::<i64>(0).expect("count"), 7);
    assert!(
        row.try_get_by_index::<uuid::Uuid>(1)
            .expect("owner")
            .is_nil()
    );
    verbund_seed::seed_demo(&store, 3).await.expect("seed");
    assert!(store.statistics_drift().await.expect("drift").is_empty());
}

mod owners_are_added_to_an_existing_database {
    #[tokio::test]
    async fn sqlite() {
        crate::common::sqlite_url(super::owners_added_to_an_existing_database).await
    }

    #[tokio::test]
    async fn postgres() {
        crate::common::postgres_url(super::owners_added_to_an_existing_database).await
    }
}

db_test!(
    exact_cells_only_where_the_policy_allows,
    |store: Store| async move {
        use verbund_domain::network::NetworkLevel;
        use verbund_domain::policy::Role;
        use verbund_persistence::StoreError;
        verbund_seed::seed_demo(&store, 3).await.expect("seed");
        let system = store.scoped(Caller::system()).await.expect("system");
        let states = system
            .all::<Networks>(&NetworkFilter {
                level: Some(NetworkLevel::State),
                ..Default::default()
            })
            .await
            .expect("states");
        let (a, b) = (states[0].id, states[1].id);
        let plan_for = |s: &Scoped, measure, network| {
            let s = s.clone();
            async move {
                let network = match network {
                    Some(id) => Some(s.statistics_network(id).await.expect("network")),
                    None => None,
                };
                Query {
                    measure: Some(measure),
                    groups: vec![Dimension::Status],
                    network,
                    ..Query::default()
                }
                .plan(false)
                .expect("plan")
            }
        };
        let coordinator = store
            .scoped(
                Caller::from_claims("c", Role::StateCoordinator, Some(a), None).expect("caller"),
            )
            .await
            .expect("coordinator");
        let ministry = store
            .scoped(Caller::from_claims("m", Role::MinistryAnalyst, None, None).expect("caller"))
            .await
            .expect("ministry");
        let forbidden = |r: Result<Vec<verbund_persistence::statistics::Row>, StoreError>| {
            matches!(r, Err(StoreError::Forbidden))
        };
        // A coordinator reads its own state exactly, nothing else.
        let own = plan_for(&coordinator, Measure::Mentorships, Some(a)).await;
        let cells = coordinator
            .statistic_cells(&own, Source::Live)
            .await
            .expect("own");
        assert!(!cells.is_empty(), "the demo state has mentorships");
        let other = plan_for(&coordinator, Measure::Mentorships, Some(b)).await;
        assert!(forbidden(
            coordinator.statistic_cells(&other, Source::Live).await
        ));
        let whole = plan_for(&coordinator, Measure::Mentorships, None).await;
        assert!(forbidden(
            coordinator.statistic_cells(&whole, Source::Live).await
        ));
        // The ministry: money exactly, people never.
        let people = plan_for(&ministry, Measure::Mentorships, None).await;
        assert!(forbidden(
            ministry.statistic_cells(&people, Source::Live).await
        ));
        let money = exact_plan(Measure::Funding, &[]);
        assert!(ministry.statistic_cells(&money, Source::Live).await.is_ok());
        // A protected plan's canonical table is never handed out open, not even to the
        // federal view; sealed, it is, and an exact plan cannot be read sealed.
        let protected = Query {
            measure: Some(Measure::Mentorships),
            groups: vec![Dimension::Status],
            ..Query::default()
        }
        .plan(true)
        .expect("plan");
        assert!(forbidden(
            system.statistic_cells(&protected, Source::Live).await
        ));
        let limit = std::time::Duration::from_secs(10);
        let sealed = ministry
            .statistic_cells_to_protect(&protected, Source::Live, limit)
            .await
            .expect("sealed")
            .expect("in time");
        assert!(!sealed.is_empty());
        assert!(matches!(
            ministry
                .statistic_cells_to_protect(&people, Source::Live, limit)
                .await,
            Err(StoreError::Forbidden)
        ));
    }
);
