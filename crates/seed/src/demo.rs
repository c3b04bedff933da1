//! Demo data: the federal network, the 16 states with two real districts each, programme
//! partners with member organisations, contact persons, offerings, volunteers, staff,
//! mentorships in every status over several years, cooperations, committees with meetings
//! and funding chains. Names are plausible and fictional; the same `seed` gives the same
//! data (ids aside, which are time-ordered).
//!
//! Every record goes through the domain's validation and the store's normal write path in
//! one transaction, so the demo data obeys every rule the API enforces, and a failed seed
//! leaves the database empty.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;
use verbund_domain::committee::{Committee, CommitteeInput, Meeting, MeetingInput};
use verbund_domain::contact::{Contact, ContactInput};
use verbund_domain::cooperation::{Cooperation, CooperationInput, PartnerInput};
use verbund_domain::funding::{Funding, FundingInput, SourceGrant};
use verbund_domain::mentorship::{Mentorship, MentorshipInput, MentorshipStatus};
use verbund_domain::network::{Network, NetworkInput, NetworkLevel};
use verbund_domain::offering::{Category, Offering, OfferingInput, TargetGroup};
use verbund_domain::organisation::{Organisation, OrganisationInput, OrganisationKind};
use verbund_domain::people::{Staff, StaffInput, Volunteer, VolunteerInput};
use verbund_domain::policy::Caller;
use verbund_persistence::tables::*;
use verbund_persistence::{Conflict, Store, StoreError, Table, WriteBatch};

/// The 16 states (ISO 3166-2) with two districts each (official district key; for the
/// city-states Berlin and Hamburg, the borough number under the state key).
/// A state: ISO code, name, and two districts as (key, name).
pub type State = (
    &'static str,
    &'static str,
    [(&'static str, &'static str); 2],
);

pub const STATES: &[State] = &[
    (
        "DE-BW",
        "Baden-Württemberg",
        [("08111", "Stuttgart"), ("08212", "Karlsruhe")],
    ),
    (
        "DE-BY",
        "Bayern",
        [("09162", "München"), ("09564", "Nürnberg")],
    ),
    (
        "DE-BE",
        "Berlin",
        [
            ("11001", "Berlin-Mitte"),
            ("11002", "Friedrichshain-Kreuzberg"),
        ],
    ),
    (
        "DE-BB",
        "Brandenburg",
        [("12054", "Potsdam"), ("12052", "Cottbus")],
    ),
    (
        "DE-HB",
        "Bremen",
        [("04011", "Bremen"), ("04012", "Bremerhaven")],
    ),
    (
        "DE-HH",
        "Hamburg",
        [("02001", "Hamburg-Mitte"), ("02002", "Hamburg-Altona")],
    ),
    (
        "DE-HE",
        "Hessen",
        [("06412", "Frankfurt am Main"), ("06414", "Wiesbaden")],
    ),
    (
        "DE-MV",
        "Mecklenburg-Vorpommern",
        [("13003", "Rostock"), ("13004", "Schwerin")],
    ),
    (
        "DE-NI",
        "Niedersachsen",
        [("03241", "Region Hannover"), ("03403", "Oldenburg (Oldb)")],
    ),
    (
        "DE-NW",
        "Nordrhein-Westfalen",
        [("05315", "Köln"), ("05913", "Dortmund")],
    ),
    (
        "DE-RP",
        "Rheinland-Pfalz",
        [("07315", "Mainz"), ("07211", "Trier")],
    ),
    (
        "DE-SL",
        "Saarland",
        [
            ("10041", "Regionalverband Saarbrücken"),
            ("10042", "Merzig-Wadern"),
        ],
    ),
    (
        "DE-SN",
        "Sachsen",
        [("14713", "Leipzig"), ("14612", "Dresden")],
    ),
    (
        "DE-ST",
        "Sachsen-Anhalt",
        [("15003", "Magdeburg"), ("15002", "Halle (Saale)")],
    ),
    (
        "DE-SH",
        "Schleswig-Holstein",
        [("01002", "Kiel"), ("01003", "Lübeck")],
    ),
    (
        "DE-TH",
        "Thüringen",
        [("16051", "Erfurt"), ("16053", "Jena")],
    ),
];

/// A real postcode of each demo district's main town, so that a search by postcode finds
/// the offerings where a newcomer would look for them (Leipzig: 04…).
fn district_postcode(key: &str) -> &'static str {
    match key {
        "08111" => "70173",
        "08212" => "76133",
        "09162" => "80331",
        "09564" => "90403",
        "11001" => "10117",
        "11002" => "10997",
        "12054" => "14467",
        "12052" => "03046",
        "04011" => "28195",
        "04012" => "27568",
        "02001" => "20095",
        "02002" => "22765",
        "06412" => "60311",
        "06414" => "65183",
        "13003" => "18055",
        "13004" => "19053",
        "03241" => "30159",
        "03403" => "26122",
        "05315" => "50667",
        "05913" => "44137",
        "07315" => "55116",
        "07211" => "54290",
        "10041" => "66111",
        "10042" => "66663",
        "14713" => "04109",
        "14612" => "01067",
        "15003" => "39104",
        "15002" => "06108",
        "01002" => "24103",
        "01003" => "23552",
        "16051" => "99084",
        "16053" => "07743",
        _ => "10115",
    }
}

const PARTNERS: &[&str] = &[
    "Patenschaftswerk Deutschland e. V.",
    "Bundesnetzwerk Brückenbauer e. V.",
    "Zukunftspaten Bundesverband e. V.",
    "Miteinander Mentoring Deutschland e. V.",
];

const MEMBER_PATTERNS: &[&str] = &[
    "Patenschaften {} e. V.",
    "Tandem {} gGmbH",
    "Freiwilligenagentur {}",
    "Lesepaten {} e. V.",
];

const FIRST_NAMES: &[&str] = &[
    "Anke", "Bernd", "Claudia", "Dirk", "Elif", "Frank", "Gisela", "Hakan", "Ines", "Jens",
    "Katrin", "Lars", "Miriam", "Nils", "Olga", "Peter", "Rana", "Stefan", "Tanja", "Uwe",
];
const LAST_NAMES: &[&str] = &[
    "Albers", "Brandt", "Conrad", "Dietrich", "Engel", "Fuchs", "Graf", "Hartmann", "Jäger",
    "Kühn", "Lorenz", "Möller", "Neumann", "Otto", "Pohl", "Ritter", "Seidel", "Thiel", "Vogt",
    "Winkler",
];

const OFFERING_TITLES: &[(&str, Category, &[TargetGroup])] = &[
    (
        "Lesepatenschaften für Grundschulkinder",
        Category::Mentorship,
        &[TargetGroup::Children],
    ),
    (
        "Sprachtandems Deutsch im Alltag",
        Category::Language,
        &[TargetGroup::Refugees, TargetGroup::Women],
    ),
    (
        "Ausbildungspatenschaften",
        Category::Employment,
        &[TargetGroup::YoungPeople],
    ),
    (
        "Familienpatenschaften",
        Category::Mentorship,
        &[TargetGroup::Families, TargetGroup::Refugees],
    ),
    (
        "Lernpatenschaften Mathe und Deutsch",
        Category::Education,
        &[TargetGroup::Children, TargetGroup::YoungPeople],
    ),
    (
        "Begleitung bei Behördengängen",
        Category::Counselling,
        &[TargetGroup::Refugees],
    ),
    (
        "Gemeinsam aktiv: Freizeittandems",
        Category::Leisure,
        &[TargetGroup::OlderPeople, TargetGroup::Refugees],
    ),
];

const LANGUAGES: &[&str] = &["de", "ar", "uk", "fa", "tr", "en", "ru", "ti"];

/// What was seeded, for the log.
#[derive(Debug, Default, Clone, Copy)]
pub struct SeedReport {
    pub networks: usize,
    pub organisations: usize,
    pub mentorships: usize,
}

fn slug(name: &str) -> String {
    name.to_lowercase()
        .replace('ä', "ae")
        .replace('ö', "oe")
        .replace('ü', "ue")
        .replace('ß', "ss")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

struct Seeder<'a> {
    batch: WriteBatch<'a>,
    rng: StdRng,
    today: NaiveDate,
    report: SeedReport,
}

impl Seeder<'_> {
    async fn put<T: Table>(&mut self, data: T::Data) -> Result<Uuid, StoreError> {
        self.batch.create::<T>(data).await
    }

    async fn network(
        &mut self,
        level: NetworkLevel,
        parent: Option<(Uuid, NetworkLevel)>,
        name: &str,
        code: &str,
    ) -> Result<Uuid, StoreError> {
        let n = Network::parse(
            NetworkInput {
                level: level.as_str().into(),
                parent_id: parent.map(|p| p.0),
                name: name.into(),
                code: Some(code.into()),
            },
            parent.map(|p| p.1),
        )?;
        self.report.networks += 1;
        self.put::<Networks>(n).await
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one call site per kind; a struct would only rename the arguments"
    )]
    async fn organisation(
        &mut self,
        kind: OrganisationKind,
        sector: &str,
        network: Uuid,
        parent: Option<Uuid>,
        name: &str,
        postcode: &str,
        city: &str,
    ) -> Result<Uuid, StoreError> {
        let domain = format!("{}.example", slug(name));
        let o = Organisation::parse(
            OrganisationInput {
                kind: kind.as_str().into(),
                sector: sector.into(),
                network_id: network,
                parent_organisation_id: parent,
                name: name.into(),
                street: Some(format!(
                    "{}straße {}",
                    ["Linden", "Schul", "Bahnhof", "Garten"][self.rng.random_range(0..4)],
                    self.rng.random_range(1..120)
                )),
                postcode: Some(postcode.into()),
                city: Some(city.into()),
                email: Some(format!("kontakt@{domain}")),
                phone: Some(format!(
                    "0{} {}",
                    self.rng.random_range(30..999),
                    self.rng.random_range(100_000..9_999_999)
                )),
                website: Some(format!("https://www.{domain}")),
                description: Some(format!(
                    "{name} verbindet Menschen in Patenschaften und Tandems."
                )),
                // Associations are registered at their local court (no draw from the
                // generator, so the rest of the demo stays as it was).
                register_court: (sector == "civil_society").then(|| format!("Amtsgericht {city}")),
                register_number: (sector == "civil_society")
                    .then(|| format!("VR {}", 1001 + self.report.organisations)),
                external_id: None,
            },
            parent.map(|_| OrganisationKind::ProgrammePartner),
        )?;
        self.report.organisations += 1;
        self.put::<Organisations>(o).await
    }

    fn person(&mut self) -> (String, String) {
        let f = FIRST_NAMES[self.rng.random_range(0..FIRST_NAMES.len())];
        let l = LAST_NAMES[self.rng.random_range(0..LAST_NAMES.len())];
        (f.to_owned(), l.to_owned())
    }

    async fn contact(
        &mut self,
        org: Uuid,
        org_name: &str,
        primary: bool,
        function: &str,
    ) -> Result<Uuid, StoreError> {
        let (f, l) = self.person();
        let c = Contact::parse(ContactInput {
            organisation_id: org,
            name: format!("{f} {l}"),
            function: Some(function.into()),
            email: Some(format!(
                "{}.{}@{}.example",
                slug(&f),
                slug(&l),
                slug(org_name)
            )),
            phone: Some(format!(
                "+49 {} {}",
                self.rng.random_range(30..999),
                self.rng.random_range(100_000..9_999_999)
            )),
            primary,
            topics: vec!["Patenschaften".into()],
            external_id: None,
        })?;
        self.put::<Contacts>(c).await
    }

    fn random_date(&mut self, from_year: i32) -> NaiveDate {
        let start = day(from_year, 1, 1);
        let span = (self.today - start).num_days().max(1);
        start + Duration::days(self.rng.random_range(0..span))
    }

    fn later(&mut self, d: NaiveDate, min: i64, max: i64) -> NaiveDate {
        (d + Duration::days(self.rng.random_range(min..max))).min(self.today)
    }

    /// A mentorship in `status`, with dates that fit it.
    async fn mentorship(
        &mut self,
        org: Uuid,
        offering: Uuid,
        mentor: Uuid,
        target: TargetGroup,
        status: MentorshipStatus,
        n: usize,
    ) -> Result<(), StoreError> {
        use MentorshipStatus::*;
        let requested = self.random_date(2019);
        let matched = matches!(status, Matched | Active | Paused | Ended)
            .then(|| self.later(requested, 3, 40));
        let started = matches!(status, Active | Paused | Ended)
            .then(|| self.later(matched.unwrap_or(requested), 1, 30));
        let ended = match status {
            Ended => Some(self.later(started.unwrap_or(requested), 60, 700)),
            Cancelled => Some(self.later(requested, 1, 60)),
            _ => None,
        };
        let end_reason = (status == Ended).then(|| {
            [
                "goal_reached",
                "moved_away",
                "mismatch",
                "overload",
                "other",
            ][self.rng.random_range(0..5)]
            .to_owned()
        });
        let m = Mentorship::parse(
            MentorshipInput {
                organisation_id: org,
                offering_id: Some(offering),
                mentor_id: Some(mentor),
                mentee_ref: Some(format!("T-{}-{n:03}", requested.year())),
                format: if self.rng.random_bool(0.9) {
                    "one_to_one"
                } else {
                    "group"
                }
                .into(),
                target_group: target.as_str().into(),
                status: Some(status.as_str().into()),
                requested_on: Some(requested),
                matched_on: matched,
                started_on: started,
                ended_on: ended,
                end_reason,
                external_id: Some(format!("M-{n}")),
            },
            self.today,
        )?;
        self.report.mentorships += 1;
        self.put::<Mentorships>(m).await.map(|_| ())
    }
}

/// Seeds the demo data set in one transaction. Refuses a database that already has data.
pub async fn seed_demo(store: &Store, seed: u64) -> Result<SeedReport, StoreError> {
    if !store.is_empty().await? {
        return Err(StoreError::Conflict(Conflict::Duplicate(
            "demo data (the database is not empty)",
        )));
    }
    let s = store.scoped(Caller::system()).await?;
    let mut sd = Seeder {
        batch: s.batch().await?,
        rng: StdRng::seed_from_u64(seed),
        today: Utc::now().date_naive(),
        report: SeedReport::default(),
    };
    let today = sd.today;

    let federal = sd
        .network(
            NetworkLevel::Federal,
            None,
            "Dachverband Menschen stärken Menschen",
            "DE",
        )
        .await?;
    // Programme partners at federal level, each federally funded.
    let mut partners = Vec::new();
    let mut grants = Vec::new();
    for (i, name) in PARTNERS.iter().enumerate() {
        let org = sd
            .organisation(
                OrganisationKind::ProgrammePartner,
                "civil_society",
                federal,
                None,
                name,
                "10117",
                "Berlin",
            )
            .await?;
        sd.contact(org, name, true, "Programmleitung").await?;
        let input = FundingInput {
            organisation_id: org,
            funder_kind: "federal".into(),
            funder_name: "Bundesministerium für Familie, Senioren, Frauen und Jugend".into(),
            programme: "Menschen stärken Menschen".into(),
            amount_cents: 250_000_000 + i as i64 * 50_000_000,
            starts_on: day(today.year() - 1, 1, 1),
            ends_on: Some(day(today.year(), 12, 31)),
            contingent_mentorships: Some(2_000),
            ..Default::default()
        };
        let f = Funding::parse(input, None)?;
        let period = f.period;
        let amount = f.amount_cents;
        let id = sd.put::<Fundings>(f).await?;
        partners.push(org);
        grants.push((
            id,
            SourceGrant {
                organisation_id: org,
                amount_cents: amount,
                period,
            },
        ));
    }

    let mut n = 0usize;
    for (si, (code, state_name, districts)) in STATES.iter().enumerate() {
        let state = sd
            .network(
                NetworkLevel::State,
                Some((federal, NetworkLevel::Federal)),
                state_name,
                code,
            )
            .await?;
        let office = sd
            .organisation(
                OrganisationKind::CoordinationOffice,
                "public",
                state,
                None,
                &format!("Koordinationsstelle Ehrenamt {state_name}"),
                "10117",
                state_name,
            )
            .await?;
        let office_contact = sd
            .contact(office, state_name, true, "Landeskoordination")
            .await?;
        let state_funding = Funding::parse(
            FundingInput {
                organisation_id: office,
                funder_kind: "state".into(),
                funder_name: format!("Land {state_name}"),
                programme: "Landesprogramm Ehrenamt".into(),
                amount_cents: 8_000_000,
                starts_on: day(today.year() - 2, 1, 1),
                // Some offices' funding runs out soon: the funding-risk insight has cases.
                ends_on: Some(if si % 4 == 0 {
                    today + Duration::days(45)
                } else {
                    day(today.year() + 1, 12, 31)
                }),
                ..Default::default()
            },
            None,
        )?;
        sd.put::<Fundings>(state_funding).await?;
        let mut members = Vec::new();
        for (di, (key, district)) in districts.iter().enumerate() {
            let region = sd
                .network(
                    NetworkLevel::Regional,
                    Some((state, NetworkLevel::State)),
                    district,
                    key,
                )
                .await?;
            let pi = (si * 2 + di) % partners.len();
            let name = MEMBER_PATTERNS[(si + di) % MEMBER_PATTERNS.len()].replace("{}", district);
            let postcode = district_postcode(key).to_owned();
            let org = sd
                .organisation(
                    OrganisationKind::Member,
                    "civil_society",
                    region,
                    Some(partners[pi]),
                    &name,
                    &postcode,
                    district,
                )
                .await?;
            members.push(org);
            sd.contact(org, &name, true, "Koordination Patenschaften")
                .await?;
            sd.contact(org, &name, false, "Öffentlichkeitsarbeit")
                .await?;
            for h in [30, 19] {
                let staff = Staff::parse(StaffInput {
                    organisation_id: org,
                    reference: format!("HA-{}", sd.rng.random_range(100..999)),
                    function: Some("Koordination".into()),
                    weekly_hours: h,
                    external_id: None,
                })?;
                sd.put::<StaffMembers>(staff).await?;
            }
            // Two offerings per member; the first region of a state also gets the same kind
            // of offering from the welcome centre below, a "parallel structure".
            let mut offerings = Vec::new();
            for k in 0..2 {
                let (title, category, groups) =
                    OFFERING_TITLES[(si + di * 3 + k) % OFFERING_TITLES.len()];
                let o = Offering::parse(
                    OfferingInput {
                        organisation_id: org,
                        title: format!("{title} in {district}"),
                        description: Some(format!("{name} vermittelt {title}.")),
                        category: category.as_str().into(),
                        target_groups: groups.iter().map(|g| g.as_str().to_owned()).collect(),
                        languages: vec![
                            "de".into(),
                            LANGUAGES[1 + (si + k) % (LANGUAGES.len() - 1)].into(),
                        ],
                        service_area: vec![region],
                        postcode: Some(postcode.clone()),
                        city: Some((*district).into()),
                        capacity: Some(20 + 5 * k as i64),
                        starts_on: Some(day(2019 + (si % 4) as i32, 1, 1)),
                        ends_on: None,
                        published: k == 0 || si % 3 != 0,
                        external_id: Some(format!("A-{k}")),
                    },
                    today,
                )?;
                offerings.push((sd.put::<Offerings>(o).await?, groups[0]));
            }
            let mut volunteers = Vec::new();
            for v in 0..6 {
                let vol = Volunteer::parse(VolunteerInput {
                    organisation_id: org,
                    reference: format!("EA-{v:03}"),
                    capacity: 1 + (v % 3) as i64,
                    languages: vec![
                        "de".into(),
                        LANGUAGES[1 + (v + si) % (LANGUAGES.len() - 1)].into(),
                    ],
                    active: v != 5,
                    external_id: Some(format!("EA-{v}")),
                })?;
                volunteers.push(sd.put::<Volunteers>(vol).await?);
            }
            // Mentorships in every status, spread over the years since 2019.
            for (k, status) in MentorshipStatus::ALL.iter().cycle().take(14).enumerate() {
                let status = if k >= 6 && k % 2 == 0 {
                    MentorshipStatus::Active
                } else {
                    *status
                };
                let (offering, group) = offerings[k % 2];
                let mentor = volunteers[k % volunteers.len()];
                n += 1;
                sd.mentorship(org, offering, mentor, group, status, n)
                    .await?;
            }
            // The programme partner passes a contingent of its grant on to the member.
            let (grant, source) = grants[pi];
            let f = Funding::parse(
                FundingInput {
                    organisation_id: org,
                    funder_kind: "federal".into(),
                    funder_name: PARTNERS[pi].into(),
                    programme: "Menschen stärken Menschen (Kontingent)".into(),
                    amount_cents: 3_000_000,
                    starts_on: source.period.start,
                    ends_on: source.period.end,
                    passed_on_from_id: Some(grant),
                    contingent_mentorships: Some(25),
                    external_id: Some("K-1".into()),
                },
                Some(source),
            )?;
            sd.put::<Fundings>(f).await?;
            if di == 0 && si % 2 == 0 {
                let wc = sd
                    .organisation(
                        OrganisationKind::WelcomeCentre,
                        "public",
                        region,
                        None,
                        &format!("Welcome-Center {district}"),
                        &postcode,
                        district,
                    )
                    .await?;
                let (title, category, groups) = OFFERING_TITLES[si % OFFERING_TITLES.len()];
                let o = Offering::parse(
                    OfferingInput {
                        organisation_id: wc,
                        title: format!("{title} (Welcome-Center)"),
                        category: category.as_str().into(),
                        target_groups: groups.iter().map(|g| g.as_str().to_owned()).collect(),
                        languages: vec!["de".into(), "en".into()],
                        service_area: vec![region],
                        postcode: Some(postcode.clone()),
                        city: Some((*district).into()),
                        starts_on: Some(day(2022, 1, 1)),
                        published: true,
                        ..Default::default()
                    },
                    today,
                )?;
                sd.put::<Offerings>(o).await?;
            }
        }
        // A cooperation per state, led by the coordination office.
        let coop = Cooperation::parse(CooperationInput {
            title: format!("Bündnis Patenschaften {state_name}"),
            goal:
                "Angebote abstimmen, Parallelstrukturen vermeiden, Ehrenamtliche gemeinsam gewinnen"
                    .into(),
            lead_organisation_id: Some(office),
            network_id: state,
            status: if si % 5 == 0 { "planned" } else { "active" }.into(),
            starts_on: day(2021 + (si % 3) as i32, 3, 1),
            ends_on: None,
            partners: members
                .iter()
                .enumerate()
                .map(|(i, m)| PartnerInput {
                    organisation_id: *m,
                    role: ["Vermittlung", "Schulungen"][i % 2].into(),
                    resources: Some(format!("{} Std./Woche", 4 + i * 2)),
                })
                .collect(),
        })?;
        sd.put::<Cooperations>(coop).await?;
        let committee = Committee::parse(CommitteeInput {
            network_id: state,
            name: format!("Landesnetzwerk Patenschaften {state_name}"),
            purpose: Some("Austausch der Träger, gemeinsame Qualitätsstandards".into()),
            member_organisations: members.iter().copied().chain([office]).collect(),
            member_contacts: vec![office_contact],
        })?;
        let committee_id = sd.put::<Committees>(committee).await?;
        for (q, topic) in [
            "Jahresplanung",
            "Gewinnung von Ehrenamtlichen",
            "Auswertung Patenschaften",
        ]
        .iter()
        .enumerate()
        {
            let meeting = Meeting::parse(MeetingInput {
                committee_id,
                held_on: Some(day(today.year() - 1, 2 + 4 * q as u32, 15)),
                topic: (*topic).into(),
                outcome: Some("Protokoll an alle Mitglieder versandt".into()),
            })?;
            sd.put::<Meetings>(meeting).await?;
        }
    }
    let report = sd.report;
    sd.batch.commit().await?;
    Ok(report)
}
