//! Insights and snapshots on the demo data, on SQLite and PostgreSQL: each finding checked
//! against the records it names, and each role seeing only what its scope allows.

mod common;

use common::exact_plan;

use chrono::{Datelike, Duration, NaiveDate, Utc};
use verbund_domain::mentorship::MentorshipStatus;
use verbund_domain::network::NetworkLevel;
use verbund_domain::policy::{Caller, Role};
use verbund_domain::statistics::{Dimension, Measure};
use verbund_persistence::statistics::Source;
use verbund_persistence::tables::*;
use verbund_persistence::{Scoped, Store};

async fn seeded(store: &Store) -> Scoped {
    verbund_seed::seed_demo(store, 5).await.expect("seed");
    store.scoped(Caller::system()).await.expect("system")
}

async fn as_role(store: &Store, role: Role, network: Option<uuid::Uuid>) -> Scoped {
    store
        .scoped(Caller::from_claims("t", role, network, None).expect("caller"))
        .await
        .expect("scoped")
}

db_test!(
    overlaps_are_real_parallel_structures,
    |store: Store| async move {
        let s = seeded(&store).await;
        let pairs = s.overlaps(None, 100).await.expect("overlaps");
        assert!(!pairs.is_empty(), "the demo data has parallel offerings");
        for p in &pairs {
            let a = s.get::<Offerings>(p.offering_a).await.expect("a");
            let b = s.get::<Offerings>(p.offering_b).await.expect("b");
            assert_ne!(a.data.organisation_id, b.data.organisation_id);
            assert_eq!(a.data.category, b.data.category);
            assert!(a.data.published && b.data.published);
            assert!(
                a.data.service_area.contains(&p.region) && b.data.service_area.contains(&p.region)
            );
            assert!(!p.target_groups.is_empty());
            for t in &p.target_groups {
                assert!(a.data.target_groups.iter().any(|g| g.as_str() == t));
                assert!(b.data.target_groups.iter().any(|g| g.as_str() == t));
            }
        }
        // Public data: the ministry and the public see the same pairs.
        let ministry = as_role(&store, Role::MinistryAnalyst, None).await;
        assert_eq!(ministry.overlaps(None, 100).await.expect("overlaps"), pairs);
        // Within one state's subtree, only its regions.
        let region = s.get::<Networks>(pairs[0].region).await.expect("region");
        let state = region.data.parent_id.expect("a region has a state");
        let path = s.statistics_network(state).await.expect("path").path;
        let within = s.overlaps(Some(&path), 100).await.expect("overlaps");
        assert!(within.contains(&pairs[0]));
        for p in &within {
            let r = s.get::<Networks>(p.region).await.expect("region");
            assert_eq!(r.data.parent_id, Some(state));
        }
    }
);

db_test!(
    overload_counts_what_the_scope_reads,
    |store: Store| async move {
        let s = seeded(&store).await;
        let vols = s.overloaded_volunteers(100).await.expect("volunteers");
        assert!(!vols.is_empty(), "the demo data has overloaded volunteers");
        for v in &vols {
            let mut current = 0;
            for status in [
                MentorshipStatus::Matched,
                MentorshipStatus::Active,
                MentorshipStatus::Paused,
            ] {
                current += s
                    .count::<Mentorships>(&MentorshipFilter {
                        mentor_id: Some(v.volunteer),
                        status: Some(status),
                        ..Default::default()
                    })
                    .await
                    .expect("count");
            }
            assert_eq!(v.current, current as i64);
            assert!(v.current > v.capacity);
        }
        let orgs = s.overloaded_organisations(1, 100).await.expect("orgs");
        assert!(!orgs.is_empty());
        for o in &orgs {
            let active = s
                .count::<Mentorships>(&MentorshipFilter {
                    owned: OwnedFilter {
                        organisation_id: Some(o.organisation),
                        ..Default::default()
                    },
                    status: Some(MentorshipStatus::Active),
                    ..Default::default()
                })
                .await
                .expect("count");
            assert_eq!(o.active_mentorships, active as i64);
            assert!(o.active_mentorships > o.coordinators);
        }
        assert!(
            s.overloaded_organisations(10_000, 100)
                .await
                .expect("orgs")
                .is_empty()
        );
        // The ministry reads no volunteers, mentorships or staff: nothing to report.
        let ministry = as_role(&store, Role::MinistryAnalyst, None).await;
        assert!(
            ministry
                .overloaded_volunteers(100)
                .await
                .expect("v")
                .is_empty()
        );
        assert!(
            ministry
                .overloaded_organisations(1, 100)
                .await
                .expect("o")
                .is_empty()
        );
        // A state coordinator sees only its state's part.
        let states = s
            .all::<Networks>(&NetworkFilter {
                level: Some(NetworkLevel::State),
                ..Default::default()
            })
            .await
            .expect("states");
        let mut seen = 0;
        for st in &states {
            let c = as_role(&store, Role::StateCoordinator, Some(st.id)).await;
            let mine = c.overloaded_volunteers(100).await.expect("v");
            for v in &mine {
                assert!(vols.contains(v));
                c.get::<Organisations>(v.organisation)
                    .await
                    .expect("own organisation");
            }
            seen += mine.len();
        }
        assert_eq!(
            seen,
            vols.len(),
            "every overloaded volunteer belongs to one state"
        );
    }
);

db_test!(funding_risks_and_contingents, |store: Store| async move {
    let s = seeded(&store).await;
    let today = Utc::now().date_naive();
    let ending = s.fundings_ending(today, 60, 100).await.expect("ending");
    assert!(!ending.is_empty(), "some state funding ends in 45 days");
    for f in &ending {
        let end = f.data.period.end.expect("an end");
        assert!(end >= today && end <= today + Duration::days(60));
    }
    assert!(
        s.fundings_ending(today, 10, 100)
            .await
            .expect("ending")
            .len()
            < ending.len()
    );
    let contingents = s.contingents(100).await.expect("contingents");
    assert!(contingents.iter().any(|c| c.depth == 0));
    assert!(contingents.iter().any(|c| c.depth == 1));
    for c in &contingents {
        if c.depth == 1 {
            let parent = c.funding.data.passed_on_from_id.expect("passed on");
            let p = contingents
                .iter()
                .find(|p| p.funding.id == parent)
                .expect("parent");
            assert!(
                p.started >= c.started,
                "the chain above counts the member's too"
            );
        }
    }
    assert!(contingents.iter().any(|c| c.started > 0));
    let ministry = as_role(&store, Role::MinistryAnalyst, None).await;
    assert!(
        ministry
            .fundings_ending(today, 60, 100)
            .await
            .expect("e")
            .is_empty()
    );
    assert!(ministry.contingents(100).await.expect("c").is_empty());
});

db_test!(snapshots_freeze_the_cells, |store: Store| async move {
    let s = seeded(&store).await;
    let first = today_month_start();
    let as_of = first.pred_opt().expect("last month's end");
    let snap = s.create_snapshot(as_of, "test").await.expect("snapshot");
    let again = s.create_snapshot(as_of, "test").await;
    assert!(
        matches!(again, Err(verbund_persistence::StoreError::Conflict(_))),
        "{again:?}"
    );
    let plan = exact_plan(Measure::Organisations, &[Dimension::State]);
    let live = s.statistic_cells(&plan, Source::Live).await.expect("live");
    let frozen = s
        .statistic_cells(&plan, Source::Snapshot(snap.id))
        .await
        .expect("frozen");
    assert_eq!(live, frozen);
    assert_eq!(s.snapshots().await.expect("list")[0].as_of, as_of);
    // Flows after the deadline are not in it.
    let plan = exact_plan(Measure::Mentorships, &[Dimension::Month]);
    let frozen = s
        .statistic_cells(&plan, Source::Snapshot(snap.id))
        .await
        .expect("frozen");
    let deadline = format!("{:04}-{:02}", as_of.year(), as_of.month());
    assert!(frozen.iter().all(|c| c.0[0] <= deadline));
    assert!(!frozen.is_empty());
    // Only the federal admin freezes.
    let ministry = as_role(&store, Role::MinistryAnalyst, None).await;
    assert!(matches!(
        ministry.create_snapshot(as_of, "x").await,
        Err(verbund_persistence::StoreError::Forbidden)
    ));
});

fn today_month_start() -> NaiveDate {
    let t = Utc::now().date_naive();
    NaiveDate::from_ymd_opt(t.year(), t.month(), 1).expect("first")
}
