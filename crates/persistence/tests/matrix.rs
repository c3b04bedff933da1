//! The permission matrix: every entity × operation (list, get, create, update, delete) ×
//! role × in-scope / out-of-scope, asserting the exact outcome, on SQLite and PostgreSQL.
//!
//! The tree: federal → Bayern → München and federal → Sachsen → Leipzig; a programme
//! partner P at federal level with member X in München and member Y in Leipzig. "In scope"
//! is X's side (München), "out of scope" is Y's side (Leipzig). The expectations below are
//! written out by hand from DESIGN.md's access table, not derived from the policy code.

mod common;

use common::{Tree, put, tree};

use chrono::NaiveDate;
use std::sync::atomic::{AtomicU32, Ordering};
use uuid::Uuid;
use verbund_domain::committee::{CommitteeInput, MeetingInput};
use verbund_domain::contact::ContactInput;
use verbund_domain::cooperation::CooperationInput;
use verbund_domain::funding::FundingInput;
use verbund_domain::mentorship::MentorshipInput;
use verbund_domain::network::NetworkInput;
use verbund_domain::offering::OfferingInput;
use verbund_domain::organisation::OrganisationInput;
use verbund_domain::people::{StaffInput, VolunteerInput};
use verbund_domain::policy::{Caller, Role};
use verbund_persistence::tables::*;
use verbund_persistence::{PageRequest, Scoped, Store, StoreError, Table};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    In,
    Out,
}

/// The tree (`common::tree`) and a committee on each side.
struct Fx {
    tree: Tree,
    committee_x: Uuid,
    committee_y: Uuid,
}

impl std::ops::Deref for Fx {
    type Target = Tree;
    fn deref(&self) -> &Tree {
        &self.tree
    }
}

impl Fx {
    fn org(&self, side: Side) -> Uuid {
        if side == Side::In { self.x } else { self.y }
    }
    fn region(&self, side: Side) -> Uuid {
        if side == Side::In {
            self.munich
        } else {
            self.leipzig
        }
    }
}

static N: AtomicU32 = AtomicU32::new(100);

fn next() -> u32 {
    N.fetch_add(1, Ordering::Relaxed)
}

/// Region codes have three digits of their own, taken from a counter of their own that
/// stays clear of the fixture's regions (09162, 14713): the shared counter above, taken
/// modulo 1000, met them now and then, and the matrix failed with a duplicate code.
static CODES: AtomicU32 = AtomicU32::new(800);

fn next_code() -> u32 {
    let code = CODES.fetch_add(1, Ordering::Relaxed);
    assert!(code < 1000, "region codes run out");
    code
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 1).expect("date")
}

/// An entity of the matrix: how to make a record on either side.
trait Case: Table {
    const NAME: &'static str;
    fn input(fx: &Fx, side: Side) -> Self::Input;
    /// The record updated in the update cell (default: a fresh one).
    fn update_target(_fx: &Fx, _side: Side) -> Option<Uuid> {
        None
    }
}

impl Case for Networks {
    const NAME: &'static str = "network";
    fn input(fx: &Fx, side: Side) -> NetworkInput {
        let (parent, state) = if side == Side::In {
            (fx.bavaria, "09")
        } else {
            (fx.saxony, "14")
        };
        NetworkInput {
            level: "regional".into(),
            parent_id: Some(parent),
            name: format!("Region {}", next()),
            code: Some(format!("{state}{:03}", next_code())),
        }
    }
}

impl Case for Organisations {
    const NAME: &'static str = "organisation";
    fn input(fx: &Fx, side: Side) -> OrganisationInput {
        OrganisationInput {
            kind: "member".into(),
            sector: "civil_society".into(),
            network_id: fx.region(side),
            parent_organisation_id: Some(fx.p),
            name: if side == Side::In {
                "X München".into()
            } else {
                "Y Leipzig".into()
            },
            ..Default::default()
        }
    }
    fn update_target(fx: &Fx, side: Side) -> Option<Uuid> {
        Some(fx.org(side))
    }
}

/// Cases whose input is one value over the fixture and the side.
macro_rules! cases {
    ($($table:ident $name:literal |$fx:ident, $side:ident| $input:expr;)*) => {$(
        impl Case for $table {
            const NAME: &'static str = $name;
            fn input($fx: &Fx, $side: Side) -> Self::Input {
                $input
            }
        }
    )*};
}

cases! {
    Contacts "contact" |fx, side| ContactInput {
        organisation_id: fx.org(side), name: format!("Kontakt {}", next()), ..Default::default()
    };
    Offerings "offering" |fx, side| OfferingInput {
        organisation_id: fx.org(side), title: format!("Angebot {}", next()),
        category: "mentorship".into(), target_groups: vec!["children".into()],
        languages: vec!["de".into()], service_area: vec![fx.region(side)],
        starts_on: Some(day()), published: true, ..Default::default()
    };
    Volunteers "volunteer" |fx, side| VolunteerInput {
        organisation_id: fx.org(side), reference: format!("EA-{}", next()), capacity: 1,
        active: true, ..Default::default()
    };
    StaffMembers "staff" |fx, side| StaffInput {
        organisation_id: fx.org(side), reference: format!("HA-{}", next()), weekly_hours: 20,
        ..Default::default()
    };
    Mentorships "mentorship" |fx, side| MentorshipInput {
        organisation_id: fx.org(side), mentee_ref: Some(format!("T-{}", next())),
        format: "one_to_one".into(), target_group: "refugees".into(),
        requested_on: Some(day()), ..Default::default()
    };
    Fundings "funding" |fx, side| FundingInput {
        organisation_id: fx.org(side), funder_kind: "municipal".into(),
        funder_name: "Stadt".into(), programme: format!("Programm {}", next()),
        amount_cents: 100_000, starts_on: day(), ..Default::default()
    };
    Cooperations "cooperation" |fx, side| CooperationInput {
        title: format!("Kooperation {}", next()), goal: "Gemeinsam mehr Tandems".into(),
        lead_organisation_id: Some(fx.org(side)), network_id: fx.region(side),
        status: "active".into(), starts_on: day(), ..Default::default()
    };
    Committees "committee" |fx, side| CommitteeInput {
        network_id: fx.region(side), name: format!("Gremium {}", next()),
        member_organisations: vec![fx.org(side)], ..Default::default()
    };
}

impl Case for Meetings {
    const NAME: &'static str = "meeting";
    fn input(fx: &Fx, side: Side) -> MeetingInput {
        let committee_id = if side == Side::In {
            fx.committee_x
        } else {
            fx.committee_y
        };
        MeetingInput {
            committee_id,
            held_on: Some(day()),
            topic: format!("Sitzung {}", next()),
            outcome: None,
        }
    }
}

/// Y: allowed / visible. N: not found. F: forbidden. I: refused because the owner named in
/// the input is not visible (a validation error on the owner field, like a missing one).
fn outcome<T>(r: &Result<T, StoreError>) -> char {
    match r {
        Ok(_) => 'Y',
        Err(StoreError::NotFound) => 'N',
        Err(StoreError::Forbidden) => 'F',
        Err(StoreError::Invalid(_)) => 'I',
        Err(e) => panic!("unexpected outcome {e:?}"),
    }
}

/// Runs one entity's cells for one role; returns "read create update delete" per side,
/// e.g. "YYYY/NINN", where read covers both get and list.
async fn cells<T: Case>(system: &Scoped, s: &Scoped, fx: &Fx) -> String
where
    T::Input: Clone,
{
    let mut out = String::new();
    for side in [Side::In, Side::Out] {
        let existing = match T::update_target(fx, side) {
            Some(id) => id,
            None => put::<T>(system, T::input(fx, side)).await,
        };
        let get = outcome(&s.get::<T>(existing).await);
        let listed = s
            .list::<T>(
                &Default::default(),
                &PageRequest {
                    first: 500,
                    after: None,
                },
            )
            .await
            .expect("list");
        let in_list = listed.items.iter().any(|r| r.id == existing);
        assert_eq!(
            in_list,
            get == 'Y',
            "{}: list and get disagree for {:?}",
            T::NAME,
            side
        );
        out.push(get);
        out.push(outcome(&s.create::<T>(T::input(fx, side)).await));
        let (id, version) = match T::update_target(fx, side) {
            Some(id) => (id, system.get::<T>(id).await.expect("target").version),
            None => (put::<T>(system, T::input(fx, side)).await, 1),
        };
        out.push(outcome(
            &s.update::<T>(id, version, T::input(fx, side)).await,
        ));
        let fresh = match T::NAME {
            // A fresh organisation for deletion, not X or Y themselves (they own records).
            "organisation" => {
                let mut i = OrganisationInput {
                    name: format!("Neu {}", next()),
                    ..Organisations::input(fx, side)
                };
                i.external_id = None;
                put::<Organisations>(system, i).await
            }
            _ => put::<T>(system, T::input(fx, side)).await,
        };
        out.push(outcome(&s.delete::<T>(fresh, 1).await));
        if side == Side::In {
            out.push('/');
        }
    }
    out
}

async fn fixture(store: &Store) -> Fx {
    let s = store.scoped(Caller::system()).await.expect("system");
    let mut fx = Fx {
        tree: tree(store).await,
        committee_x: Uuid::nil(),
        committee_y: Uuid::nil(),
    };
    fx.committee_x = put::<Committees>(&s, Committees::input(&fx, Side::In)).await;
    fx.committee_y = put::<Committees>(&s, Committees::input(&fx, Side::Out)).await;
    fx
}

/// Expected cells per role, in the order of `ENTITIES`.
const ENTITIES: [&str; 11] = [
    "network",
    "organisation",
    "contact",
    "offering",
    "volunteer",
    "staff",
    "mentorship",
    "funding",
    "cooperation",
    "committee",
    "meeting",
];

/// Organisations and offerings are in the public directory for every role (issue 13): a
/// caller reads those outside its scope (Y) and may not write them (F), and a record for an
/// organisation outside its scope is forbidden (F) rather than an unknown owner (I).
fn expected(role: &str) -> [&'static str; 11] {
    match role {
        "federal_admin" => ["YYYY/YYYY"; 11],
        "state_coordinator" => [
            "YYYY/YFFF", // networks are public; writes only in Bayern
            "YYYY/YFFF",
            "YYYY/NFNN",
            "YYYY/YFFF",
            "YYYY/NFNN",
            "YYYY/NFNN",
            "YYYY/NFNN",
            "YYYY/NFNN",
            "YYYY/NFNN", // cooperation: lead Y is invisible
            "YYYY/NFNN", // committee: Leipzig is visible as a network, but outside the subtree
            "YYYY/NINN", // meeting: Leipzig's committee is invisible
        ],
        // München cannot create or change regions of Bayern beside it; the rest as Bayern.
        "regional_coordinator" => [
            "YFFF/YFFF",
            "YYYY/YFFF",
            "YYYY/NFNN",
            "YYYY/YFFF",
            "YYYY/NFNN",
            "YYYY/NFNN",
            "YYYY/NFNN",
            "YYYY/NFNN",
            "YYYY/NFNN",
            "YYYY/NFNN",
            "YYYY/NINN",
        ],
        "org_admin" => [
            "YFFF/YFFF",
            "YFYF/YFFF", // may update itself, not create organisations; the fresh one is not its member
            "YYYY/NFNN",
            "YYYY/YFFF",
            "YYYY/NFNN",
            "YYYY/NFNN",
            "YYYY/NFNN",
            "YYYY/NFNN",
            "YYYY/NFNN", // cooperations it leads
            "YFFF/NFNN", // committees it sits on: read, not written
            "YFFF/NINN",
        ],
        "org_member" => [
            "YFFF/YFFF",
            "YFFF/YFFF",
            "YFFF/NFNN",
            "YFFF/YFFF",
            "YYYY/NFNN", // volunteers
            "YFFF/NFNN",
            "YYYY/NFNN", // mentorships
            "YFFF/NFNN",
            "YFFF/NFNN",
            "YFFF/NFNN",
            "YFFF/NINN",
        ],
        // The programme partner reads its members' records on both sides, writes none.
        "partner_admin" => [
            "YFFF/YFFF",
            "YFFF/YFFF",
            "YFFF/YFFF",
            "YFFF/YFFF",
            "YFFF/YFFF",
            "YFFF/YFFF",
            "YFFF/YFFF",
            "YFFF/YFFF",
            "YFFF/YFFF",
            "YFFF/YFFF",
            "YFFF/YFFF",
        ],
        // The public directory only; no person, no write.
        "ministry_analyst" | "anonymous" => [
            "YFFF/YFFF",
            "YFFF/YFFF",
            "NFFF/NFFF",
            "YFFF/YFFF",
            "NFFF/NFFF",
            "NFFF/NFFF",
            "NFFF/NFFF",
            "NFFF/NFFF",
            "NFFF/NFFF",
            "NFFF/NFFF",
            "NFFF/NFFF",
        ],
        other => panic!("no expectations for {other}"),
    }
}

async fn matrix(store: Store) {
    let fx = fixture(&store).await;
    let system = store.scoped(Caller::system()).await.expect("system");
    let callers: Vec<(&str, Caller)> = vec![
        (
            "federal_admin",
            Caller::from_claims("a", Role::FederalAdmin, None, None).expect("c"),
        ),
        (
            "state_coordinator",
            Caller::from_claims("b", Role::StateCoordinator, Some(fx.bavaria), None).expect("c"),
        ),
        (
            "regional_coordinator",
            Caller::from_claims("c", Role::RegionalCoordinator, Some(fx.munich), None).expect("c"),
        ),
        (
            "org_admin",
            Caller::from_claims("d", Role::OrgAdmin, None, Some(fx.x)).expect("c"),
        ),
        (
            "org_member",
            Caller::from_claims("e", Role::OrgMember, None, Some(fx.x)).expect("c"),
        ),
        (
            "partner_admin",
            Caller::from_claims("f", Role::OrgAdmin, None, Some(fx.p)).expect("c"),
        ),
        (
            "ministry_analyst",
            Caller::from_claims("g", Role::MinistryAnalyst, None, None).expect("c"),
        ),
        ("anonymous", Caller::anonymous()),
    ];
    let mut mismatches = Vec::new();
    let mut cells_checked = 0;
    for (name, caller) in callers {
        let s = store.scoped(caller).await.expect("scoped");
        let got = [
            cells::<Networks>(&system, &s, &fx).await,
            cells::<Organisations>(&system, &s, &fx).await,
            cells::<Contacts>(&system, &s, &fx).await,
            cells::<Offerings>(&system, &s, &fx).await,
            cells::<Volunteers>(&system, &s, &fx).await,
            cells::<StaffMembers>(&system, &s, &fx).await,
            cells::<Mentorships>(&system, &s, &fx).await,
            cells::<Fundings>(&system, &s, &fx).await,
            cells::<Cooperations>(&system, &s, &fx).await,
            cells::<Committees>(&system, &s, &fx).await,
            cells::<Meetings>(&system, &s, &fx).await,
        ];
        for ((entity, want), got) in ENTITIES.iter().zip(expected(name)).zip(got) {
            cells_checked += 10;
            if want != got {
                mismatches.push(format!("{name} × {entity}: expected {want}, got {got}"));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "permission matrix mismatches (read create update delete, in/out):\n{}",
        mismatches.join("\n")
    );
    assert_eq!(cells_checked, 8 * 11 * 10);
}

db_test!(permission_matrix, |store: Store| matrix(store));
