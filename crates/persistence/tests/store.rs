//! The store through its public, scoped API, on SQLite and (in CI) PostgreSQL.

mod common;

use common::{net, org, tree};

use chrono::NaiveDate;
use uuid::Uuid;
use verbund_domain::Reason;
use verbund_domain::contact::ContactInput;
use verbund_domain::mentorship::{EndReason, MentorshipInput, MentorshipStatus, TransitionError};
use verbund_domain::network::NetworkLevel;
use verbund_domain::organisation::OrganisationKind;
use verbund_domain::people::VolunteerInput;
use verbund_domain::policy::{Caller, Role};
use verbund_persistence::tables::*;
use verbund_persistence::{Conflict, PageRequest, Store, StoreError};

fn all() -> PageRequest {
    PageRequest {
        first: 500,
        after: None,
    }
}

fn volunteer(org: Uuid, reference: &str, external: Option<&str>) -> VolunteerInput {
    VolunteerInput {
        organisation_id: org,
        reference: reference.into(),
        capacity: 2,
        languages: vec!["de".into()],
        active: true,
        external_id: external.map(Into::into),
    }
}

db_test!(
    demo_seed_fills_an_empty_database_once,
    |store: Store| async move {
        let report = verbund_seed::seed_demo(&store, 7).await.expect("seed");
        assert_eq!(report.networks, 1 + 16 + 32);
        let s = store.scoped(Caller::system()).await.expect("system");
        let federal = NetworkFilter {
            level: Some(NetworkLevel::Federal),
            ..Default::default()
        };
        let states = NetworkFilter {
            level: Some(NetworkLevel::State),
            ..Default::default()
        };
        let regions = NetworkFilter {
            level: Some(NetworkLevel::Regional),
            ..Default::default()
        };
        assert_eq!(s.count::<Networks>(&federal).await.expect("count"), 1);
        assert_eq!(s.count::<Networks>(&states).await.expect("count"), 16);
        assert_eq!(s.count::<Networks>(&regions).await.expect("count"), 32);
        // Every region's parent is a state, and every state code is an ISO code.
        let page = s.list::<Networks>(&states, &all()).await.expect("list");
        for st in &page.items {
            assert!(verbund_domain::values::STATE_CODES.contains(&st.data.code.as_str()));
        }
        // Mentorships in every status.
        for &status in MentorshipStatus::ALL {
            let f = MentorshipFilter {
                status: Some(status),
                ..Default::default()
            };
            assert!(
                s.count::<Mentorships>(&f).await.expect("count") > 0,
                "{status}"
            );
        }
        assert!(
            s.count::<Cooperations>(&Default::default())
                .await
                .expect("count")
                >= 16
        );
        assert!(
            s.count::<Meetings>(&Default::default())
                .await
                .expect("count")
                >= 16
        );
        let chained = s
            .list::<Fundings>(&Default::default(), &all())
            .await
            .expect("fundings");
        assert!(
            chained
                .items
                .iter()
                .any(|f| f.data.passed_on_from_id.is_some())
        );
        // A second seed refuses and adds nothing.
        assert!(verbund_seed::seed_demo(&store, 7).await.is_err());
        assert_eq!(
            s.count::<Networks>(&Default::default())
                .await
                .expect("count"),
            49
        );
    }
);

db_test!(
    create_get_update_delete_with_versions,
    |store: Store| async move {
        let t = tree(&store).await;
        let s = store.scoped(Caller::system()).await.expect("system");
        let created = s
            .create::<Organisations>(org(
                OrganisationKind::Member,
                t.munich,
                Some(t.p),
                "Neu e. V.",
            ))
            .await
            .expect("create");
        assert_eq!(created.version, 1);
        let got = s.get::<Organisations>(created.id).await.expect("get");
        assert_eq!(got.data.name, "Neu e. V.");
        let mut input = org(
            OrganisationKind::Member,
            t.munich,
            Some(t.p),
            "Umbenannt e. V.",
        );
        input.city = Some("München".into());
        let updated = s
            .update::<Organisations>(created.id, 1, input.clone())
            .await
            .expect("update");
        assert_eq!(updated.version, 2);
        assert_eq!(
            s.get::<Organisations>(created.id)
                .await
                .expect("get")
                .data
                .name,
            "Umbenannt e. V."
        );
        // A stale version is a conflict that names both versions, and changes nothing.
        let stale = s
            .update::<Organisations>(
                created.id,
                1,
                org(OrganisationKind::Member, t.munich, Some(t.p), "Zu spät"),
            )
            .await;
        assert_eq!(
            stale.unwrap_err(),
            StoreError::Conflict(Conflict::StaleVersion {
                expected: 1,
                current: 2
            })
        );
        assert_eq!(
            s.get::<Organisations>(created.id)
                .await
                .expect("get")
                .data
                .name,
            "Umbenannt e. V."
        );
        assert!(matches!(
            s.delete::<Organisations>(created.id, 1).await,
            Err(StoreError::Conflict(_))
        ));
        s.delete::<Organisations>(created.id, 2)
            .await
            .expect("delete");
        assert_eq!(
            s.get::<Organisations>(created.id).await.unwrap_err(),
            StoreError::NotFound
        );
        assert_eq!(
            s.delete::<Organisations>(created.id, 2).await.unwrap_err(),
            StoreError::NotFound
        );
    }
);

db_test!(
    validation_errors_reach_the_caller_and_write_nothing,
    |store: Store| async move {
        let t = tree(&store).await;
        let s = store.scoped(Caller::system()).await.expect("system");
        let before = s
            .count::<Networks>(&Default::default())
            .await
            .expect("count");
        // A region under a region.
        let e = s
            .create::<Networks>(net(
                NetworkLevel::Regional,
                Some(t.munich),
                "Unterregion",
                "09163",
            ))
            .await
            .unwrap_err();
        let StoreError::Invalid(errors) = e else {
            panic!("expected validation error, got {e:?}")
        };
        assert_eq!(
            errors.reason("parentId"),
            Some(&Reason::Rule("a region's parent must be a state"))
        );
        // An unknown state code.
        let e = s
            .create::<Networks>(net(
                NetworkLevel::State,
                Some(t.federal),
                "Atlantis",
                "DE-AT",
            ))
            .await
            .unwrap_err();
        assert!(
            matches!(e, StoreError::Invalid(ref v) if v.has("code")),
            "{e:?}"
        );
        assert_eq!(
            s.count::<Networks>(&Default::default())
                .await
                .expect("count"),
            before
        );
        // An owner that does not exist.
        let e = s
            .create::<Volunteers>(volunteer(Uuid::now_v7(), "EA-1", None))
            .await
            .unwrap_err();
        assert!(
            matches!(e, StoreError::Invalid(ref v) if v.has("organisationId")),
            "{e:?}"
        );
    }
);

db_test!(
    external_id_is_unique_per_organisation,
    |store: Store| async move {
        let t = tree(&store).await;
        let s = store.scoped(Caller::system()).await.expect("system");
        s.create::<Volunteers>(volunteer(t.x, "EA-1", Some("CRM-1")))
            .await
            .expect("first");
        let dup = s
            .create::<Volunteers>(volunteer(t.x, "EA-2", Some("CRM-1")))
            .await
            .unwrap_err();
        assert_eq!(
            dup,
            StoreError::Conflict(Conflict::Duplicate("external_id"))
        );
        // A network's code is unique too, and the conflict names it.
        let again = s
            .create::<Networks>(net(
                NetworkLevel::Regional,
                Some(t.bavaria),
                "München II",
                "09162",
            ))
            .await
            .unwrap_err();
        assert_eq!(again, StoreError::Conflict(Conflict::Duplicate("code")));
        // The same key in another organisation is another record.
        s.create::<Volunteers>(volunteer(t.y, "EA-1", Some("CRM-1")))
            .await
            .expect("other org");
        let f = OwnedFilter {
            organisation_id: Some(t.x),
            ..Default::default()
        };
        assert_eq!(s.count::<Volunteers>(&f).await.expect("count"), 1);
    }
);

db_test!(
    cursor_pages_are_stable_and_complete,
    |store: Store| async move {
        let t = tree(&store).await;
        let s = store.scoped(Caller::system()).await.expect("system");
        let mut ids = Vec::new();
        for i in 0..7 {
            ids.push(
                s.create::<Volunteers>(volunteer(t.x, &format!("EA-{i}"), None))
                    .await
                    .expect("create")
                    .id,
            );
        }
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = s
                .list::<Volunteers>(
                    &OwnedFilter::default(),
                    &PageRequest {
                        first: 3,
                        after: after.clone(),
                    },
                )
                .await
                .expect("page");
            seen.extend(page.items.iter().map(|r| r.id));
            if !page.has_next {
                break;
            }
            after = page.end_cursor();
        }
        assert_eq!(seen, ids, "every record once, in creation order");
        let bad = s
            .list::<Volunteers>(
                &OwnedFilter::default(),
                &PageRequest {
                    first: 3,
                    after: Some("not-a-cursor".into()),
                },
            )
            .await;
        assert!(matches!(bad, Err(StoreError::Invalid(ref v)) if v.has("after")));
    }
);

db_test!(
    subtree_filter_is_one_query_over_the_path,
    |store: Store| async move {
        let t = tree(&store).await;
        let s = store.scoped(Caller::system()).await.expect("system");
        let in_bavaria = OrganisationFilter {
            within: Some(t.bavaria),
            ..Default::default()
        };
        let page = s
            .list::<Organisations>(&in_bavaria, &all())
            .await
            .expect("list");
        assert_eq!(
            page.items.iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![t.x]
        );
        let everything = OrganisationFilter {
            within: Some(t.federal),
            ..Default::default()
        };
        assert_eq!(
            s.count::<Organisations>(&everything).await.expect("count"),
            3
        );
        let in_leipzig = OwnedFilter {
            within: Some(t.leipzig),
            ..Default::default()
        };
        s.create::<Volunteers>(volunteer(t.y, "EA-L1", None))
            .await
            .expect("create");
        s.create::<Volunteers>(volunteer(t.x, "EA-M1", None))
            .await
            .expect("create");
        let vols = s
            .list::<Volunteers>(&in_leipzig, &all())
            .await
            .expect("list");
        assert_eq!(vols.items.len(), 1);
        assert_eq!(vols.items[0].data.reference, "EA-L1");
        let _ = t.saxony;
    }
);

db_test!(scope_hides_records_outside_it, |store: Store| async move {
    let t = tree(&store).await;
    let munich = store
        .scoped(
            Caller::from_claims("k", Role::RegionalCoordinator, Some(t.munich), None)
                .expect("caller"),
        )
        .await
        .expect("scoped");
    // Y is in the public directory, as for everyone; its records are not.
    assert!(munich.get::<Organisations>(t.y).await.is_ok());
    assert!(munich.get::<Organisations>(t.x).await.is_ok());
    let listed = munich
        .list::<Organisations>(&Default::default(), &all())
        .await
        .expect("list");
    let ids: Vec<Uuid> = listed.items.iter().map(|r| r.id).collect();
    assert!(ids.contains(&t.x) && ids.contains(&t.y), "{ids:?}");
    // Writing under Y is forbidden; under X it works.
    let e = munich
        .create::<Volunteers>(volunteer(t.y, "EA-1", None))
        .await
        .unwrap_err();
    assert_eq!(e, StoreError::Forbidden);
    munich
        .create::<Volunteers>(volunteer(t.x, "EA-1", None))
        .await
        .expect("in scope");
    // A token anchored at a network of the wrong level does not make a caller.
    let wrong = store
        .scoped(
            Caller::from_claims("k", Role::StateCoordinator, Some(t.munich), None).expect("caller"),
        )
        .await;
    assert_eq!(wrong.unwrap_err(), StoreError::UnknownAnchor("network"));
    let anon = store.scoped(Caller::anonymous()).await.expect("anon");
    assert_eq!(
        anon.count::<Volunteers>(&Default::default())
            .await
            .expect("count"),
        0
    );
    assert_eq!(
        anon.create::<Volunteers>(volunteer(t.x, "EA-2", None))
            .await
            .unwrap_err(),
        StoreError::Forbidden
    );
});

db_test!(
    every_write_is_audited_in_its_transaction,
    |store: Store| async move {
        let t = tree(&store).await;
        let s = store.scoped(Caller::system()).await.expect("system");
        let c = s
            .create::<Contacts>(ContactInput {
                organisation_id: t.x,
                name: "Renate Albrecht".into(),
                email: Some("r@x.example".into()),
                ..Default::default()
            })
            .await
            .expect("create");
        let updated = s
            .update::<Contacts>(
                c.id,
                1,
                ContactInput {
                    organisation_id: t.x,
                    name: "Renate Albrecht".into(),
                    email: Some("renate@x.example".into()),
                    ..Default::default()
                },
            )
            .await
            .expect("update");
        let events = s.audit_events(Some(c.id), &all()).await.expect("audit");
        assert_eq!(events.items.len(), 2);
        let last = &events.items[0].data;
        assert_eq!(last.action.as_str(), "update");
        assert_eq!(
            last.fields,
            vec!["email".to_owned()],
            "names the changed field only"
        );
        assert_eq!(last.actor, "system");
        // A refused write leaves no event.
        let _ = s
            .update::<Contacts>(
                c.id,
                1,
                ContactInput {
                    organisation_id: t.x,
                    name: "X".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        let _ = s
            .create::<Contacts>(ContactInput {
                organisation_id: t.x,
                name: "".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(
            s.audit_events(Some(c.id), &all())
                .await
                .expect("audit")
                .items
                .len(),
            2
        );
        assert_eq!(updated.version, 2);
    }
);

db_test!(
    mentorships_move_only_along_the_arrows,
    |store: Store| async move {
        let t = tree(&store).await;
        let s = store.scoped(Caller::system()).await.expect("system");
        let mentor = s
            .create::<Volunteers>(volunteer(t.x, "EA-1", None))
            .await
            .expect("mentor")
            .id;
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        let m = s
            .create::<Mentorships>(MentorshipInput {
                organisation_id: t.x,
                mentor_id: Some(mentor),
                mentee_ref: Some("T-1".into()),
                format: "one_to_one".into(),
                target_group: "refugees".into(),
                requested_on: Some(d("2024-01-01")),
                ..Default::default()
            })
            .await
            .expect("create");
        let e = s
            .transition_mentorship(m.id, 1, MentorshipStatus::Ended, d("2024-02-01"), None)
            .await
            .unwrap_err();
        assert_eq!(
            e,
            StoreError::Transition(TransitionError::NotAllowed {
                from: MentorshipStatus::Requested,
                to: MentorshipStatus::Ended
            })
        );
        let m = s
            .transition_mentorship(m.id, 1, MentorshipStatus::Matched, d("2024-01-10"), None)
            .await
            .expect("match");
        let m = s
            .transition_mentorship(m.id, 2, MentorshipStatus::Active, d("2024-01-20"), None)
            .await
            .expect("start");
        let stale = s
            .transition_mentorship(m.id, 2, MentorshipStatus::Paused, d("2024-03-01"), None)
            .await
            .unwrap_err();
        assert!(matches!(
            stale,
            StoreError::Conflict(Conflict::StaleVersion { .. })
        ));
        let m = s
            .transition_mentorship(
                m.id,
                3,
                MentorshipStatus::Ended,
                d("2024-06-01"),
                Some(EndReason::GoalReached),
            )
            .await
            .expect("end");
        let stored = s.get::<Mentorships>(m.id).await.expect("get");
        assert_eq!(stored.data.status, MentorshipStatus::Ended);
        assert_eq!(stored.data.end_reason, Some(EndReason::GoalReached));
        assert_eq!(stored.version, 4);
        // A mentor of another organisation is refused.
        let foreign = s
            .create::<Volunteers>(volunteer(t.y, "EA-Y1", None))
            .await
            .expect("y")
            .id;
        let e = s
            .create::<Mentorships>(MentorshipInput {
                organisation_id: t.x,
                mentor_id: Some(foreign),
                mentee_ref: Some("T-2".into()),
                format: "group".into(),
                target_group: "children".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Invalid(ref v) if v.has("mentorId")));
    }
);

db_test!(
    deleting_a_referenced_record_is_a_conflict,
    |store: Store| async move {
        let t = tree(&store).await;
        let s = store.scoped(Caller::system()).await.expect("system");
        s.create::<Volunteers>(volunteer(t.x, "EA-1", None))
            .await
            .expect("v");
        let e = s.delete::<Organisations>(t.x, 1).await.unwrap_err();
        assert_eq!(e, StoreError::Conflict(Conflict::InUse));
        assert!(s.get::<Organisations>(t.x).await.is_ok(), "nothing deleted");
    }
);

/// A database from before one primary contact per organisation was a rule: the eighth
/// migration keeps each organisation's earliest primary contact and makes the others
/// ordinary contacts; from then on a second primary is a conflict.
async fn primaries_from_before_the_rule(url: String) {
    let store = Store::connect(&url).await.expect("connect");
    store.migrate().await.expect("migrations");
    let t = tree(&store).await;
    // Back to before the rule (later migrations change other tables, which the tree needs):
    // without the index and without the eighth migration's entry.
    let raw = sea_orm::Database::connect(&url)
        .await
        .expect("second connection");
    for sql in [
        "DROP INDEX contacts_one_primary",
        "DELETE FROM seaql_migrations WHERE version = 'm20261206_000008_one_primary_contact'",
    ] {
        sea_orm::ConnectionTrait::execute_unprepared(&raw, sql)
            .await
            .expect(sql);
    }
    let s = store.scoped(Caller::system()).await.expect("system");
    let mut ids = Vec::new();
    for name in ["Erste", "Zweite"] {
        let input = ContactInput {
            organisation_id: t.x,
            name: name.into(),
            primary: true,
            ..Default::default()
        };
        ids.push(
            s.create::<Contacts>(input)
                .await
                .expect("allowed before")
                .id,
        );
    }
    store.migrate().await.expect("the eighth migration, again");
    assert!(s.get::<Contacts>(ids[0]).await.expect("first").data.primary);
    assert!(
        !s.get::<Contacts>(ids[1])
            .await
            .expect("second")
            .data
            .primary
    );
    let third = ContactInput {
        organisation_id: t.x,
        name: "Dritte".into(),
        primary: true,
        ..Default::default()
    };
    assert_eq!(
        s.create::<Contacts>(third)
            .await
            .expect_err("a second primary"),
        StoreError::Conflict(Conflict::SecondPrimary)
    );
}

mod primaries_from_before_the_rule {
    #[tokio::test]
    async fn sqlite() {
        crate::common::sqlite_url(super::primaries_from_before_the_rule).await
    }

    #[tokio::test]
    async fn postgres() {
        crate::common::postgres_url(super::primaries_from_before_the_rule).await
    }
}
