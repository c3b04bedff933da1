//! The large data set: the whole programme with ten years of history (1 federal network,
//! 16 states, 400 regions, 25,000 organisations, 100,000 contacts, 60,000 offerings,
//! 150,000 volunteers, 50,000 staff, 3,000,000 mentorships in every status, 50,000
//! fundings in chains, cooperations, committees with meetings), for benchmarks.
//!
//! Every record is built by the domain's `parse` from an input, as the API would build it,
//! and stored by the bulk loader ([`BulkLoad`]) through the same table mappings as every
//! other write; the aggregate tables are rebuilt from the base tables at the end.
//! Everything, ids included, follows from the seed and the day (dates run up to today): the
//! same seed on the same day gives the same records (timestamps aside).

use chrono::{Datelike, Duration, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;
use verbund_domain::committee::{Committee, CommitteeInput, Meeting, MeetingInput};
use verbund_domain::contact::{Contact, ContactInput};
use verbund_domain::cooperation::{Cooperation, CooperationInput, CooperationStatus, PartnerInput};
use verbund_domain::funding::{Funding, FundingInput, SourceGrant};
use verbund_domain::mentorship::{EndReason, Mentorship, MentorshipInput, MentorshipStatus};
use verbund_domain::network::{Network, NetworkInput, NetworkLevel, child_path};
use verbund_domain::offering::{Category, Offering, OfferingInput, TargetGroup};
use verbund_domain::organisation::{Organisation, OrganisationInput, OrganisationKind};
use verbund_domain::people::{Staff, StaffInput, Volunteer, VolunteerInput};
use verbund_domain::policy::Location;
use verbund_persistence::rights::DEFAULT_MENTEE_RETENTION_DAYS;
use verbund_persistence::tables::*;
use verbund_persistence::{BulkLoad, Store, StoreError, Table};

/// How many of each; [`Scale::large`] is the size, tests use a small one.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub regions_per_state: usize,
    pub partners: usize,
    pub organisations: usize,
    pub mentorships_per_organisation: usize,
    pub years: i32,
}

impl Scale {
    pub fn large() -> Scale {
        Scale {
            regions_per_state: 25,
            partners: 100,
            organisations: 25_000,
            mentorships_per_organisation: 120,
            years: 10,
        }
    }
}

/// Reports progress: (what, done, of).
pub type Progress<'a> = &'a (dyn Fn(&str, u64, u64) + Sync);

/// The 16 states: ISO code, name, and the state's key in the official district keys.
const STATES: [(&str, &str, &str); 16] = [
    ("DE-BW", "Baden-Württemberg", "08"),
    ("DE-BY", "Bayern", "09"),
    ("DE-BE", "Berlin", "11"),
    ("DE-BB", "Brandenburg", "12"),
    ("DE-HB", "Bremen", "04"),
    ("DE-HH", "Hamburg", "02"),
    ("DE-HE", "Hessen", "06"),
    ("DE-MV", "Mecklenburg-Vorpommern", "13"),
    ("DE-NI", "Niedersachsen", "03"),
    ("DE-NW", "Nordrhein-Westfalen", "05"),
    ("DE-RP", "Rheinland-Pfalz", "07"),
    ("DE-SL", "Saarland", "10"),
    ("DE-SN", "Sachsen", "14"),
    ("DE-ST", "Sachsen-Anhalt", "15"),
    ("DE-SH", "Schleswig-Holstein", "01"),
    ("DE-TH", "Thüringen", "16"),
];

/// Deterministic, time-ordered ids (UUIDv7 layout with a synthetic clock).
struct Ids {
    rng: StdRng,
    millis: u64,
}

impl Ids {
    fn next(&mut self) -> Uuid {
        self.millis += 1;
        let mut random = [0u8; 10];
        self.rng.fill(&mut random);
        uuid::Builder::from_unix_timestamp_millis(self.millis, &random).into_uuid()
    }
}

/// Where a record lives: its network's path and its organisation.
fn at(path: &str, organisation: Option<Uuid>) -> Location {
    Location {
        network_path: path.to_owned(),
        organisation_id: organisation,
    }
}

/// The bulk load with its id source: each record gets the next id.
struct Loader {
    bulk: BulkLoad,
    ids: Ids,
}

impl Loader {
    async fn put<T: Table>(&mut self, data: T::Data, at: &Location) -> Result<Uuid, StoreError> {
        let id = self.ids.next();
        self.put_as::<T>(id, data, at).await?;
        Ok(id)
    }

    async fn put_as<T: Table>(
        &mut self,
        id: Uuid,
        data: T::Data,
        at: &Location,
    ) -> Result<(), StoreError> {
        self.bulk.put::<T>(id, &data, at).await
    }
}

struct Org {
    id: Uuid,
    region: Uuid,
    path: String,
    partner: Option<usize>,
    volunteers: Vec<Uuid>,
    offerings: Vec<Uuid>,
}

fn organisation(
    kind: OrganisationKind,
    network: Uuid,
    parent: Option<Uuid>,
    name: String,
    n: usize,
) -> OrganisationInput {
    OrganisationInput {
        kind: kind.as_str().into(),
        sector: if kind == OrganisationKind::WelcomeCentre {
            "public"
        } else {
            "civil_society"
        }
        .into(),
        network_id: network,
        parent_organisation_id: parent,
        name,
        street: Some(format!("Hauptstraße {}", n % 200 + 1)),
        postcode: Some(format!("{:05}", 1_000 + (n * 37) % 98_000)),
        city: Some(format!("Ort {}", n % 4_000)),
        email: Some(format!("kontakt{n}@example.org")),
        phone: Some(format!("+49 30 {n:07}")),
        website: Some(format!("https://org{n}.example.org")),
        description: Some("Patenschaften und Begleitung vor Ort.".into()),
        external_id: Some(format!("org-{n}")),
        ..Default::default()
    }
}

/// Fills an empty database with the large data set.
pub async fn seed_large(
    store: &Store,
    seed: u64,
    scale: Scale,
    progress: Progress<'_>,
) -> Result<(), StoreError> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut l = Loader {
        bulk: store.bulk_load().await?,
        ids: Ids {
            rng: StdRng::seed_from_u64(seed ^ 0x5eed),
            millis: 1_700_000_000_000,
        },
    };
    let today = chrono::Utc::now().date_naive();
    let first_year = today.year() - scale.years + 1;
    let day = |rng: &mut StdRng, from: NaiveDate, to: NaiveDate| -> NaiveDate {
        let span = (to - from).num_days().max(0);
        from + Duration::days(rng.random_range(0..=span))
    };
    let start = NaiveDate::from_ymd_opt(first_year, 1, 1).unwrap_or(today);

    // Networks.
    let network = |level: NetworkLevel, parent: Option<Uuid>, name: String, code: String| {
        let parent_level = match level {
            NetworkLevel::Federal => None,
            NetworkLevel::State => Some(NetworkLevel::Federal),
            NetworkLevel::Regional => Some(NetworkLevel::State),
        };
        let input = NetworkInput {
            level: level.as_str().into(),
            parent_id: parent,
            name,
            code: Some(code),
        };
        Network::parse(input, parent_level)
    };
    let federal = l.ids.next();
    let federal_path = child_path(None, federal);
    let n = network(
        NetworkLevel::Federal,
        None,
        "Bundesnetzwerk Menschen stärken Menschen".into(),
        "DE".into(),
    )?;
    l.put_as::<Networks>(federal, n, &at(&federal_path, None))
        .await?;
    let mut states = Vec::new();
    let mut regions: Vec<(Uuid, String)> = Vec::new();
    for (code, name, key) in STATES {
        let id = l.ids.next();
        let path = child_path(Some(&federal_path), id);
        let n = network(
            NetworkLevel::State,
            Some(federal),
            format!("Landesnetzwerk {name}"),
            code.into(),
        )?;
        l.put_as::<Networks>(id, n, &at(&path, None)).await?;
        states.push((id, path.clone()));
        for r in 0..scale.regions_per_state {
            let rid = l.ids.next();
            let rpath = child_path(Some(&path), rid);
            let n = network(
                NetworkLevel::Regional,
                Some(id),
                format!("Region {name} {}", r + 1),
                format!("{key}{:03}", r + 1),
            )?;
            l.put_as::<Networks>(rid, n, &at(&rpath, None)).await?;
            regions.push((rid, rpath));
        }
    }
    progress("networks", l.bulk.written(), l.bulk.written());

    // Organisations: programme partners at the federal level, a coordination office per
    // state, members (with a partner) and welcome centres in the regions.
    let mut orgs: Vec<Org> = Vec::with_capacity(scale.organisations);
    let total_orgs = scale.organisations as u64;
    let add = async |l: &mut Loader,
                     orgs: &mut Vec<Org>,
                     kind: OrganisationKind,
                     (region, path): (Uuid, &str),
                     parent: Option<(usize, Uuid)>,
                     name: String|
           -> Result<(), StoreError> {
        let id = l.ids.next();
        let input = organisation(kind, region, parent.map(|p| p.1), name, orgs.len());
        let parent_kind = parent.map(|_| OrganisationKind::ProgrammePartner);
        let o = Organisation::parse(input, parent_kind)?;
        l.put_as::<Organisations>(id, o, &at(path, Some(id)))
            .await?;
        orgs.push(Org {
            id,
            region,
            path: path.to_owned(),
            partner: parent.map(|p| p.0),
            volunteers: Vec::new(),
            offerings: Vec::new(),
        });
        Ok(())
    };
    for p in 0..scale.partners {
        let name = format!("Programmpartner {}", p + 1);
        let home = (federal, federal_path.as_str());
        add(
            &mut l,
            &mut orgs,
            OrganisationKind::ProgrammePartner,
            home,
            None,
            name,
        )
        .await?;
    }
    for (si, (sid, spath)) in states.iter().enumerate() {
        let name = format!("Landeskoordination {}", STATES[si].1);
        let kind = OrganisationKind::CoordinationOffice;
        add(&mut l, &mut orgs, kind, (*sid, spath), None, name).await?;
    }
    let partner_ids: Vec<Uuid> = orgs[..scale.partners].iter().map(|o| o.id).collect();
    while orgs.len() < scale.organisations {
        let n = orgs.len();
        let (rid, rpath) = &regions[n % regions.len()];
        let (kind, partner) = if n % 20 == 0 {
            (OrganisationKind::WelcomeCentre, None)
        } else {
            let p = rng.random_range(0..scale.partners);
            (OrganisationKind::Member, Some((p, partner_ids[p])))
        };
        let name = format!("Patenschaftsprojekt {n}");
        add(&mut l, &mut orgs, kind, (*rid, rpath), partner, name).await?;
        if n % 1_000 == 0 {
            progress("organisations", n as u64, total_orgs);
        }
    }
    progress("organisations", total_orgs, total_orgs);

    // Contacts (4), volunteers (6), staff (2) and offerings (2, every fifth 4) per organisation.
    for (n, org) in orgs.iter_mut().enumerate() {
        let here = at(&org.path, Some(org.id));
        for c in 0..4 {
            let contact = Contact::parse(ContactInput {
                organisation_id: org.id,
                name: format!("Kontakt {n}-{c}"),
                function: Some("Koordination".into()),
                email: Some(format!("person{n}.{c}@example.org")),
                phone: Some(format!("+49 40 {:07}", n * 4 + c)),
                primary: c == 0,
                topics: vec!["patenschaften".into()],
                external_id: Some(format!("c-{n}-{c}")),
            })?;
            l.put::<Contacts>(contact, &here).await?;
        }
        for k in 0..6 {
            let volunteer = Volunteer::parse(VolunteerInput {
                organisation_id: org.id,
                reference: format!("E-{n}-{k}"),
                capacity: rng.random_range(1..=3),
                languages: vec!["de".into()],
                active: k != 5,
                external_id: Some(format!("v-{n}-{k}")),
            })?;
            org.volunteers
                .push(l.put::<Volunteers>(volunteer, &here).await?);
        }
        for k in 0..2 {
            let staff = Staff::parse(StaffInput {
                organisation_id: org.id,
                reference: format!("HA-{n}-{k}"),
                function: Some("Koordination".into()),
                weekly_hours: if k == 0 { 30 } else { 19 },
                external_id: Some(format!("s-{n}-{k}")),
            })?;
            l.put::<StaffMembers>(staff, &here).await?;
        }
        let count = if n % 5 == 0 { 4 } else { 2 };
        for k in 0..count {
            let category = if k == 0 {
                Category::Mentorship
            } else {
                Category::ALL[rng.random_range(0..Category::ALL.len())]
            };
            let t1 = TargetGroup::ALL[rng.random_range(0..TargetGroup::ALL.len())];
            let t2 = TargetGroup::ALL[rng.random_range(0..TargetGroup::ALL.len())];
            let mut groups = vec![t1.as_str().to_owned()];
            if t2 != t1 {
                groups.push(t2.as_str().to_owned());
            }
            let starts = day(&mut rng, start, today);
            let ends = (rng.random_range(0..3) == 0)
                .then(|| starts + Duration::days(rng.random_range(90..1_500)));
            let offering = Offering::parse(
                OfferingInput {
                    organisation_id: org.id,
                    title: format!("Angebot {category} {n}-{k}"),
                    description: Some("Begleitung im Alltag.".into()),
                    category: category.as_str().into(),
                    target_groups: groups,
                    languages: vec!["de".into(), "en".into()],
                    service_area: vec![org.region],
                    postcode: Some(format!("{:05}", 1_000 + (n * 37) % 98_000)),
                    city: Some(format!("Ort {}", n % 4_000)),
                    capacity: Some(rng.random_range(5..60)),
                    starts_on: Some(starts),
                    ends_on: ends,
                    published: rng.random_range(0..5) != 0,
                    external_id: Some(format!("o-{n}-{k}")),
                },
                today,
            )?;
            org.offerings
                .push(l.put::<Offerings>(offering, &here).await?);
        }
        if n % 1_000 == 0 {
            let what = "contacts, volunteers, staff, offerings";
            progress(what, n as u64, total_orgs);
        }
    }
    progress(
        "contacts, volunteers, staff, offerings",
        total_orgs,
        total_orgs,
    );

    // Mentorships: ten years, every status, dates that fit the status.
    let total_ms = (orgs.len() * scale.mentorships_per_organisation) as u64;
    let retained_from = today - Duration::days(i64::from(DEFAULT_MENTEE_RETENTION_DAYS));
    let mut written = 0u64;
    for (n, org) in orgs.iter().enumerate() {
        let here = at(&org.path, Some(org.id));
        for k in 0..scale.mentorships_per_organisation {
            use MentorshipStatus::*;
            let requested = day(&mut rng, start, today);
            let status = match rng.random_range(0..100) {
                0..45 => Ended,
                45..55 => Cancelled,
                55..80 => Active,
                80..85 => Paused,
                85..93 => Matched,
                _ => Requested,
            };
            let bounded = |d: NaiveDate| d.min(today);
            let matched = bounded(requested + Duration::days(rng.random_range(0..60)));
            let started = bounded(matched + Duration::days(rng.random_range(0..30)));
            let ended = bounded(started + Duration::days(rng.random_range(30..720)));
            let (m_on, s_on, e_on, reason) = match status {
                Ended => {
                    let reason = EndReason::ALL[rng.random_range(0..EndReason::ALL.len())];
                    (Some(matched), Some(started), Some(ended), Some(reason))
                }
                Cancelled => (None, None, Some(matched), None),
                Active | Paused => (Some(matched), Some(started), None, None),
                Matched => (Some(matched), None, None, None),
                Requested => (None, None, None, None),
            };
            let group = TargetGroup::ALL[rng.random_range(0..TargetGroup::ALL.len())];
            let mentorship = Mentorship::parse(
                MentorshipInput {
                    organisation_id: org.id,
                    offering_id: (k % 3 != 0).then(|| org.offerings[k % org.offerings.len()]),
                    mentor_id: m_on.map(|_| org.volunteers[k % org.volunteers.len()]),
                    // As the retention leaves them: no reference long after the end.
                    mentee_ref: e_on
                        .is_none_or(|e| e >= retained_from)
                        .then(|| format!("T-{n}-{k}")),
                    format: if k % 10 == 0 { "group" } else { "one_to_one" }.into(),
                    target_group: group.as_str().into(),
                    status: Some(status.as_str().into()),
                    requested_on: Some(requested),
                    matched_on: m_on,
                    started_on: s_on,
                    ended_on: e_on,
                    end_reason: reason.map(|r| r.as_str().into()),
                    external_id: Some(format!("m-{n}-{k}")),
                },
                today,
            )?;
            l.put::<Mentorships>(mentorship, &here).await?;
            written += 1;
        }
        if n % 250 == 0 {
            progress("mentorships", written, total_ms);
        }
    }
    progress("mentorships", total_ms, total_ms);

    // Fundings: the ministry funds each programme partner (a contingent); each partner
    // passes a contingent on to each member; states and municipalities fund the others,
    // some ending within three months.
    let before = l.bulk.written();
    let grant_start = NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today);
    let grant_end = NaiveDate::from_ymd_opt(today.year(), 12, 31).unwrap_or(today);
    let federal_funding =
        |organisation_id, amount_cents, contingent, passed_on_from_id| FundingInput {
            organisation_id,
            funder_kind: "federal".into(),
            funder_name: "Bundesministerium".into(),
            programme: "Menschen stärken Menschen".into(),
            amount_cents,
            starts_on: grant_start,
            ends_on: Some(grant_end),
            passed_on_from_id,
            contingent_mentorships: Some(contingent),
            external_id: Some(if passed_on_from_id.is_some() {
                "weitergabe".into()
            } else {
                "bmfsfj".into()
            }),
        };
    let mut grants = Vec::new();
    for org in orgs.iter().take(scale.partners) {
        let grant = Funding::parse(federal_funding(org.id, 50_000_000, 5_000, None), None)?;
        let source = SourceGrant {
            organisation_id: org.id,
            amount_cents: grant.amount_cents,
            period: grant.period,
        };
        let id = l
            .put::<Fundings>(grant, &at(&org.path, Some(org.id)))
            .await?;
        grants.push((id, source));
    }
    for (n, org) in orgs.iter().enumerate() {
        let here = at(&org.path, Some(org.id));
        if let Some(p) = org.partner {
            let (grant, source) = grants[p];
            let input = federal_funding(org.id, 400_000, 40, Some(grant));
            let passed_on = Funding::parse(input, Some(source))?;
            l.put::<Fundings>(passed_on, &here).await?;
        }
        let own = if org.partner.is_some() { 1 } else { 2 };
        for k in 0..own {
            let s = day(&mut rng, start, today);
            let e = if n % 40 == 0 && k == 0 {
                today + Duration::days(rng.random_range(1..90))
            } else {
                s + Duration::days(rng.random_range(365..1_460))
            };
            let funding = Funding::parse(
                FundingInput {
                    organisation_id: org.id,
                    funder_kind: if k == 0 { "state" } else { "municipal" }.into(),
                    funder_name: format!("Förderer {}", n % 300),
                    programme: format!("Programm {}", k + 1),
                    amount_cents: rng.random_range(100_000..5_000_000),
                    starts_on: s,
                    ends_on: Some(e),
                    external_id: Some(format!("f-{n}-{k}")),
                    ..Default::default()
                },
                None,
            )?;
            l.put::<Fundings>(funding, &here).await?;
        }
    }
    let fundings = l.bulk.written() - before;
    progress("fundings", fundings, fundings);

    // Cooperations (one per 5 organisations, with two partners) and committees (one per
    // region, with members and two meetings).
    let before = l.bulk.written();
    for i in (0..orgs.len()).step_by(5) {
        let lead = &orgs[i];
        let mut partners: Vec<PartnerInput> = Vec::new();
        for j in 1..=2 {
            let other = &orgs[(i + j * 7) % orgs.len()];
            if other.id != lead.id && partners.iter().all(|p| p.organisation_id != other.id) {
                partners.push(PartnerInput {
                    organisation_id: other.id,
                    role: "Partner".into(),
                    resources: Some("Räume".into()),
                });
            }
        }
        let status = CooperationStatus::ALL[i % CooperationStatus::ALL.len()];
        let cooperation = Cooperation::parse(CooperationInput {
            title: format!("Kooperation {i}"),
            goal: "Gemeinsam mehr Patenschaften.".into(),
            lead_organisation_id: Some(lead.id),
            network_id: lead.region,
            status: status.as_str().into(),
            starts_on: day(&mut rng, start, today),
            ends_on: None,
            partners,
        })?;
        l.put::<Cooperations>(cooperation, &at(&lead.path, None))
            .await?;
    }
    let mut by_region: std::collections::HashMap<Uuid, Vec<Uuid>> =
        std::collections::HashMap::new();
    for o in &orgs {
        by_region.entry(o.region).or_default().push(o.id);
    }
    for (rid, rpath) in &regions {
        let here = at(rpath, None);
        let members = by_region.get(rid).map_or(&[][..], |v| &v[..]);
        let committee = Committee::parse(CommitteeInput {
            network_id: *rid,
            name: "Regionaler Runder Tisch".into(),
            purpose: Some("Abstimmung der Angebote".into()),
            member_organisations: members.iter().take(4).copied().collect(),
            member_contacts: Vec::new(),
        })?;
        let committee_id = l.put::<Committees>(committee, &here).await?;
        for k in 0..2 {
            let meeting = Meeting::parse(MeetingInput {
                committee_id,
                held_on: Some(day(&mut rng, start, today)),
                topic: format!("Sitzung {}", k + 1),
                outcome: Some("Protokoll liegt vor.".into()),
            })?;
            l.put::<Meetings>(meeting, &here).await?;
        }
    }
    let rest = l.bulk.written() - before;
    progress("cooperations, committees", rest, rest);

    // The aggregate tables, from the base tables, in the database.
    progress("statistics", 0, 1);
    l.bulk.finish(store).await?;
    progress("statistics", 1, 1);
    Ok(())
}
