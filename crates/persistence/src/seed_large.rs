//! The large data set: the whole programme with ten years of history (1 federal network,
//! 16 states, 400 regions, 25,000 organisations, 100,000 contacts, 60,000 offerings,
//! 150,000 volunteers, 50,000 staff, 3,000,000 mentorships in every status, 50,000
//! fundings in chains, cooperations, committees with meetings), for benchmarks.
//!
//! Unlike the demo seed it does not go through the per-record write path: rows are built
//! valid by construction and written with multi-row `INSERT`s of up to a thousand rows in
//! one transaction, then the aggregate table is rebuilt from the base tables. Everything,
//! ids included, follows from the seed and the day (dates run up to today): the same seed
//! on the same day gives the same records (timestamps aside).

use crate::aggregates::Sql;
use crate::error::StoreError;
use crate::store::Store;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, TransactionTrait, Value};
use uuid::Uuid;
use verbund_domain::network::child_path;

/// How many of each; [`Scale::large`] is the issue's size, tests use a small one.
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
// The words come from the domain's enums, so the large data set uses every value the
// domain knows (it once missed `refugees`) and no word the domain would refuse.
const CATEGORIES: &[&str] = verbund_domain::offering::Category::WORDS;
const TARGETS: &[&str] = verbund_domain::offering::TargetGroup::WORDS;
const REASONS: &[&str] = verbund_domain::mentorship::EndReason::WORDS;

/// A value of a row, written as a bound parameter or as `COPY` text.
#[derive(Debug, Clone)]
enum V {
    Null,
    Uuid(Uuid),
    Text(String),
    Int(i64),
    Bool(bool),
    Date(NaiveDate),
    Time(DateTime<Utc>),
}

macro_rules! into_v {
    ($($t:ty => $f:expr),* $(,)?) => {
        $(impl From<$t> for V {
            fn from(x: $t) -> V {
                let f: fn($t) -> V = $f;
                f(x)
            }
        })*
    };
}

into_v!(
    Uuid => V::Uuid,
    &str => |s| V::Text(s.to_owned()),
    String => V::Text,
    i32 => |i| V::Int(i64::from(i)),
    i64 => V::Int,
    bool => V::Bool,
    NaiveDate => V::Date,
    DateTime<Utc> => V::Time,
);

impl<T: Into<V>> From<Option<T>> for V {
    fn from(x: Option<T>) -> V {
        x.map_or(V::Null, Into::into)
    }
}

impl V {
    fn value(self) -> Value {
        match self {
            V::Null => Value::String(None),
            V::Uuid(u) => u.into(),
            V::Text(s) => s.into(),
            V::Int(i) => i.into(),
            V::Bool(b) => b.into(),
            V::Date(d) => d.into(),
            V::Time(t) => t.into(),
        }
    }

    /// PostgreSQL `COPY … FROM STDIN` text format.
    fn copy_text(&self, out: &mut String) {
        use std::fmt::Write;
        match self {
            V::Null => out.push_str("\\N"),
            V::Uuid(u) => {
                let _ = write!(out, "{u}");
            }
            V::Text(s) => {
                for c in s.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\t' => out.push_str("\\t"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        c => out.push(c),
                    }
                }
            }
            V::Int(i) => {
                let _ = write!(out, "{i}");
            }
            V::Bool(b) => out.push(if *b { 't' } else { 'f' }),
            V::Date(d) => {
                let _ = write!(out, "{}", d.format("%Y-%m-%d"));
            }
            V::Time(t) => out.push_str(&t.to_rfc3339()),
        }
    }
}

/// Where rows go: `COPY` on PostgreSQL, multi-row `INSERT`s elsewhere; one transaction.
enum Sink {
    Pg(sea_orm::sqlx::Transaction<'static, sea_orm::sqlx::Postgres>),
    Sql(DatabaseTransaction),
}

fn sqlx_err(e: sea_orm::sqlx::Error) -> StoreError {
    StoreError::from(sea_orm::DbErr::Custom(format!("bulk load: {e}")))
}

impl Sink {
    async fn open(store: &Store) -> Result<Sink, StoreError> {
        Ok(match store.backend() {
            DbBackend::Postgres => Sink::Pg(
                store
                    .conn()
                    .get_postgres_connection_pool()
                    .begin()
                    .await
                    .map_err(sqlx_err)?,
            ),
            _ => Sink::Sql(store.conn().begin().await?),
        })
    }

    async fn commit(self) -> Result<(), StoreError> {
        match self {
            Sink::Pg(tx) => tx.commit().await.map_err(sqlx_err),
            Sink::Sql(txn) => Ok(txn.commit().await?),
        }
    }
}

/// Rows of one table, written in large pieces.
struct Batch {
    table: &'static str,
    cols: &'static [&'static str],
    rows: Vec<Vec<V>>,
    text: String,
    per_statement: usize,
    written: u64,
}

impl Batch {
    fn new(table: &'static str, cols: &'static [&'static str]) -> Self {
        Batch {
            table,
            cols,
            rows: Vec::new(),
            text: String::new(),
            // Well below SQLite's 32,766 bound parameters.
            per_statement: (30_000 / cols.len()).min(1_000),
            written: 0,
        }
    }

    async fn push(&mut self, sink: &mut Sink, row: Vec<V>) -> Result<(), StoreError> {
        self.written += 1;
        match sink {
            Sink::Pg(_) => {
                for (i, v) in row.iter().enumerate() {
                    if i > 0 {
                        self.text.push('\t');
                    }
                    v.copy_text(&mut self.text);
                }
                self.text.push('\n');
                if self.text.len() >= 8 << 20 {
                    self.flush(sink).await?;
                }
            }
            Sink::Sql(_) => {
                self.rows.push(row);
                if self.rows.len() >= self.per_statement {
                    self.flush(sink).await?;
                }
            }
        }
        Ok(())
    }

    async fn flush(&mut self, sink: &mut Sink) -> Result<(), StoreError> {
        match sink {
            Sink::Pg(tx) => {
                if self.text.is_empty() {
                    return Ok(());
                }
                let conn: &mut sea_orm::sqlx::PgConnection = tx;
                let mut copy = conn
                    .copy_in_raw(&format!(
                        "COPY {} ({}) FROM STDIN",
                        self.table,
                        self.cols.join(",")
                    ))
                    .await
                    .map_err(sqlx_err)?;
                copy.send(std::mem::take(&mut self.text).into_bytes())
                    .await
                    .map_err(sqlx_err)?;
                copy.finish().await.map_err(sqlx_err)?;
            }
            Sink::Sql(txn) => {
                if self.rows.is_empty() {
                    return Ok(());
                }
                let mut sql = Sql::new(txn.get_database_backend());
                let mut groups = Vec::with_capacity(self.rows.len());
                for row in std::mem::take(&mut self.rows) {
                    let ps: Vec<String> = row.into_iter().map(|v| sql.bind(v.value())).collect();
                    groups.push(format!("({})", ps.join(",")));
                }
                sql.push(&format!(
                    "INSERT INTO {} ({}) VALUES {}",
                    self.table,
                    self.cols.join(","),
                    groups.join(",")
                ));
                txn.execute_raw(sql.statement()).await?;
            }
        }
        Ok(())
    }
}

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

fn v<T: Into<V>>(x: T) -> V {
    x.into()
}

fn record(id: Uuid, now: DateTime<Utc>) -> Vec<V> {
    vec![v(id), v(1i32), v(now), v(now)]
}

macro_rules! cols {
    ($($c:literal),* $(,)?) => { &["id", "version", "created_at", "updated_at", $($c),*] };
}

struct Org {
    id: Uuid,
    region: Uuid,
    partner: Option<usize>,
    volunteers: Vec<Uuid>,
    offerings: Vec<Uuid>,
}

/// Fills an empty database with the large data set.
pub async fn seed_large(
    store: &Store,
    seed: u64,
    scale: Scale,
    progress: Progress<'_>,
) -> Result<(), StoreError> {
    if !crate::seed::is_empty(store).await? {
        return Err(StoreError::Conflict(crate::error::Conflict::Duplicate(
            "the large data set (the database is not empty)",
        )));
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut ids = Ids {
        rng: StdRng::seed_from_u64(seed ^ 0x5eed),
        millis: 1_700_000_000_000,
    };
    let now = Utc::now();
    let today = now.date_naive();
    let first_year = today.year() - scale.years + 1;
    let day = |rng: &mut StdRng, from: NaiveDate, to: NaiveDate| -> NaiveDate {
        let span = (to - from).num_days().max(0);
        from + Duration::days(rng.random_range(0..=span))
    };
    let start = NaiveDate::from_ymd_opt(first_year, 1, 1).unwrap_or(today);
    let mut sink = Sink::open(store).await?;

    // Networks.
    let mut nets = Batch::new(
        "networks",
        cols!["level", "parent_id", "name", "code", "path"],
    );
    let federal = ids.next();
    let federal_path = child_path(None, federal);
    let mut row = record(federal, now);
    row.extend([
        v("federal"),
        v(Option::<Uuid>::None),
        v("Bundesnetzwerk Menschen stärken Menschen"),
        v("DE"),
        v(federal_path.clone()),
    ]);
    nets.push(&mut sink, row).await?;
    let mut states = Vec::new();
    let mut regions: Vec<(Uuid, String, usize)> = Vec::new();
    for (si, (code, name, key)) in STATES.iter().enumerate() {
        let id = ids.next();
        let path = child_path(Some(&federal_path), id);
        let mut row = record(id, now);
        row.extend([
            v("state"),
            v(Some(federal)),
            v(format!("Landesnetzwerk {name}")),
            v(*code),
            v(path.clone()),
        ]);
        nets.push(&mut sink, row).await?;
        states.push((id, path.clone()));
        for r in 0..scale.regions_per_state {
            let rid = ids.next();
            let rpath = child_path(Some(&path), rid);
            let mut row = record(rid, now);
            row.extend([
                v("regional"),
                v(Some(id)),
                v(format!("Region {name} {}", r + 1)),
                v(format!("{key}{:03}", r + 1)),
                v(rpath.clone()),
            ]);
            nets.push(&mut sink, row).await?;
            regions.push((rid, rpath, si));
        }
    }
    nets.flush(&mut sink).await?;
    progress("networks", nets.written, nets.written);

    // Organisations: programme partners at the federal level, a coordination office per
    // state, members (with a partner) and welcome centres in the regions.
    const ORG: &[&str] = cols![
        "kind",
        "sector",
        "network_id",
        "network_path",
        "parent_organisation_id",
        "name",
        "street",
        "postcode",
        "city",
        "email",
        "phone",
        "website",
        "description",
        "external_id"
    ];
    let mut orgs: Vec<Org> = Vec::with_capacity(scale.organisations);
    let mut batch = Batch::new("organisations", ORG);
    let total_orgs = scale.organisations as u64;
    let org_row = |id: Uuid,
                   kind: &str,
                   net: Uuid,
                   path: &str,
                   parent: Option<Uuid>,
                   name: String,
                   n: usize| {
        let mut row = record(id, now);
        row.extend([
            v(kind),
            v(if kind == "welcome_centre" {
                "public"
            } else {
                "civil_society"
            }),
            v(net),
            v(path.to_owned()),
            v(parent),
            v(name),
            v(Some(format!("Hauptstraße {}", n % 200 + 1))),
            v(Some(format!("{:05}", 1_000 + (n * 37) % 98_000))),
            v(Some(format!("Ort {}", n % 4_000))),
            v(Some(format!("kontakt{n}@example.org"))),
            v(Some(format!("+49 30 {:07}", n))),
            v(Some(format!("https://org{n}.example.org"))),
            v(Some("Patenschaften und Begleitung vor Ort.".to_owned())),
            v(Some(format!("org-{n}"))),
        ]);
        row
    };
    for p in 0..scale.partners {
        let id = ids.next();
        batch
            .push(
                &mut sink,
                org_row(
                    id,
                    "programme_partner",
                    federal,
                    &federal_path,
                    None,
                    format!("Programmpartner {}", p + 1),
                    orgs.len(),
                ),
            )
            .await?;
        orgs.push(Org {
            id,
            region: federal,
            partner: None,
            volunteers: Vec::new(),
            offerings: Vec::new(),
        });
    }
    for (si, (sid, spath)) in states.iter().enumerate() {
        let id = ids.next();
        batch
            .push(
                &mut sink,
                org_row(
                    id,
                    "coordination_office",
                    *sid,
                    spath,
                    None,
                    format!("Landeskoordination {}", STATES[si].1),
                    orgs.len(),
                ),
            )
            .await?;
        orgs.push(Org {
            id,
            region: *sid,
            partner: None,
            volunteers: Vec::new(),
            offerings: Vec::new(),
        });
    }
    batch.flush(&mut sink).await?;
    let partner_ids: Vec<Uuid> = orgs[..scale.partners].iter().map(|o| o.id).collect();
    while orgs.len() < scale.organisations {
        let n = orgs.len();
        let (rid, rpath, _) = &regions[n % regions.len()];
        let id = ids.next();
        let (kind, partner) = if n % 20 == 0 {
            ("welcome_centre", None)
        } else {
            ("member", Some(rng.random_range(0..scale.partners)))
        };
        batch
            .push(
                &mut sink,
                org_row(
                    id,
                    kind,
                    *rid,
                    rpath,
                    partner.map(|p| partner_ids[p]),
                    format!("Patenschaftsprojekt {n}"),
                    n,
                ),
            )
            .await?;
        orgs.push(Org {
            id,
            region: *rid,
            partner,
            volunteers: Vec::new(),
            offerings: Vec::new(),
        });
        if n % 1_000 == 0 {
            progress("organisations", n as u64, total_orgs);
        }
    }
    batch.flush(&mut sink).await?;
    progress("organisations", total_orgs, total_orgs);

    // Contacts (4), volunteers (6), staff (2) and offerings (2, every fifth 4) per organisation.
    let mut contacts = Batch::new(
        "contacts",
        cols![
            "organisation_id",
            "external_id",
            "name",
            "function",
            "email",
            "phone",
            "is_primary",
            "topics"
        ],
    );
    let mut volunteers = Batch::new(
        "volunteers",
        cols![
            "organisation_id",
            "external_id",
            "reference",
            "capacity",
            "languages",
            "active"
        ],
    );
    let mut staff = Batch::new(
        "staff",
        cols![
            "organisation_id",
            "external_id",
            "reference",
            "function",
            "weekly_hours"
        ],
    );
    let mut offerings = Batch::new(
        "offerings",
        cols![
            "organisation_id",
            "external_id",
            "title",
            "description",
            "category",
            "target_groups",
            "languages",
            "postcode",
            "city",
            "capacity",
            "starts_on",
            "ends_on",
            "published"
        ],
    );
    let mut areas = Batch::new("offering_service_areas", &["offering_id", "network_id"]);
    // Child rows wait until their parents are written (foreign keys hold per statement).
    let mut area_rows = Vec::new();
    for (n, org) in orgs.iter_mut().enumerate() {
        for c in 0..4 {
            let mut row = record(ids.next(), now);
            row.extend([
                v(org.id),
                v(Some(format!("c-{n}-{c}"))),
                v(format!("Kontakt {n}-{c}")),
                v(Some("Koordination".to_owned())),
                v(Some(format!("person{n}.{c}@example.org"))),
                v(Some(format!("+49 40 {:07}", n * 4 + c))),
                v(c == 0),
                v(",patenschaften,".to_owned()),
            ]);
            contacts.push(&mut sink, row).await?;
        }
        for k in 0..6 {
            let id = ids.next();
            let mut row = record(id, now);
            row.extend([
                v(org.id),
                v(Some(format!("v-{n}-{k}"))),
                v(format!("E-{n}-{k}")),
                v(rng.random_range(1..=3i32)),
                v(",de,".to_owned()),
                v(k != 5),
            ]);
            volunteers.push(&mut sink, row).await?;
            org.volunteers.push(id);
        }
        for k in 0..2 {
            let mut row = record(ids.next(), now);
            row.extend([
                v(org.id),
                v(Some(format!("s-{n}-{k}"))),
                v(format!("HA-{n}-{k}")),
                v(Some("Koordination".to_owned())),
                v(if k == 0 { 30i32 } else { 19 }),
            ]);
            staff.push(&mut sink, row).await?;
        }
        let count = if n % 5 == 0 { 4 } else { 2 };
        for k in 0..count {
            let id = ids.next();
            let category = if k == 0 {
                "mentorship"
            } else {
                CATEGORIES[rng.random_range(0..CATEGORIES.len())]
            };
            let t1 = TARGETS[rng.random_range(0..TARGETS.len())];
            let t2 = TARGETS[rng.random_range(0..TARGETS.len())];
            let groups = if t1 == t2 {
                format!(",{t1},")
            } else {
                format!(",{t1},{t2},")
            };
            let starts = day(&mut rng, start, today);
            let ends = (rng.random_range(0..3) == 0)
                .then(|| starts + Duration::days(rng.random_range(90..1_500)));
            let mut row = record(id, now);
            row.extend([
                v(org.id),
                v(Some(format!("o-{n}-{k}"))),
                v(format!("Angebot {category} {n}-{k}")),
                v(Some("Begleitung im Alltag.".to_owned())),
                v(category),
                v(groups),
                v(",de,en,".to_owned()),
                v(Some(format!("{:05}", 1_000 + (n * 37) % 98_000))),
                v(Some(format!("Ort {}", n % 4_000))),
                v(Some(rng.random_range(5..60i32))),
                v(starts),
                v(ends),
                v(rng.random_range(0..5) != 0),
            ]);
            offerings.push(&mut sink, row).await?;
            area_rows.push(vec![v(id), v(org.region)]);
            org.offerings.push(id);
        }
        if n % 1_000 == 0 {
            progress(
                "contacts, volunteers, staff, offerings",
                n as u64,
                total_orgs,
            );
        }
    }
    for b in [&mut contacts, &mut volunteers, &mut staff, &mut offerings] {
        b.flush(&mut sink).await?;
    }
    for row in area_rows {
        areas.push(&mut sink, row).await?;
    }
    areas.flush(&mut sink).await?;
    progress(
        "contacts, volunteers, staff, offerings",
        total_orgs,
        total_orgs,
    );

    // Mentorships: ten years, every status, dates that fit the status.
    let mut ms = Batch::new(
        "mentorships",
        cols![
            "organisation_id",
            "external_id",
            "offering_id",
            "mentor_id",
            "mentee_ref",
            "format",
            "target_group",
            "status",
            "requested_on",
            "matched_on",
            "started_on",
            "ended_on",
            "end_reason"
        ],
    );
    let total_ms = (orgs.len() * scale.mentorships_per_organisation) as u64;
    let retained_from =
        today - Duration::days(i64::from(crate::rights::DEFAULT_MENTEE_RETENTION_DAYS));
    for (n, org) in orgs.iter().enumerate() {
        for k in 0..scale.mentorships_per_organisation {
            let requested = day(&mut rng, start, today);
            let roll = rng.random_range(0..100);
            let status = match roll {
                0..45 => "ended",
                45..55 => "cancelled",
                55..80 => "active",
                80..85 => "paused",
                85..93 => "matched",
                _ => "requested",
            };
            let bounded = |d: NaiveDate| d.min(today);
            let matched = bounded(requested + Duration::days(rng.random_range(0..60)));
            let started = bounded(matched + Duration::days(rng.random_range(0..30)));
            let ended = bounded(started + Duration::days(rng.random_range(30..720)));
            let (m_on, s_on, e_on, reason) = match status {
                "ended" => (
                    Some(matched),
                    Some(started),
                    Some(ended),
                    Some(REASONS[rng.random_range(0..REASONS.len())]),
                ),
                "cancelled" => (None, None, Some(matched), None),
                "active" | "paused" => (Some(matched), Some(started), None, None),
                "matched" => (Some(matched), None, None, None),
                _ => (None, None, None, None),
            };
            let mentor = m_on.map(|_| org.volunteers[k % org.volunteers.len()]);
            let offering = (k % 3 != 0).then(|| org.offerings[k % org.offerings.len()]);
            let mut row = record(ids.next(), now);
            row.extend([
                v(org.id),
                v(Some(format!("m-{n}-{k}"))),
                v(offering),
                v(mentor),
                // As the retention leaves them: no reference long after the end.
                v(e_on
                    .is_none_or(|e| e >= retained_from)
                    .then(|| format!("T-{n}-{k}"))),
                v(if k % 10 == 0 { "group" } else { "one_to_one" }),
                v(TARGETS[rng.random_range(0..TARGETS.len())]),
                v(status),
                v(requested),
                v(m_on),
                v(s_on),
                v(e_on),
                v(reason.map(str::to_owned)),
            ]);
            ms.push(&mut sink, row).await?;
        }
        if n % 250 == 0 {
            progress("mentorships", ms.written, total_ms);
        }
    }
    ms.flush(&mut sink).await?;
    progress("mentorships", total_ms, total_ms);

    // Fundings: the ministry funds each programme partner (a contingent); each partner
    // passes a contingent on to each member; states and municipalities fund the others,
    // some ending within three months.
    let mut fs = Batch::new(
        "fundings",
        cols![
            "organisation_id",
            "external_id",
            "funder_kind",
            "funder_name",
            "programme",
            "amount_cents",
            "starts_on",
            "ends_on",
            "passed_on_from_id",
            "contingent_mentorships"
        ],
    );
    let grant_start = NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today);
    let grant_end = NaiveDate::from_ymd_opt(today.year(), 12, 31).unwrap_or(today);
    let mut grants = Vec::new();
    for org in orgs.iter().take(scale.partners) {
        let id = ids.next();
        let mut row = record(id, now);
        row.extend([
            v(org.id),
            v(Some("bmfsfj".to_owned())),
            v("federal"),
            v("Bundesministerium"),
            v("Menschen stärken Menschen"),
            v(50_000_000i64),
            v(grant_start),
            v(Some(grant_end)),
            v(Option::<Uuid>::None),
            v(Some(5_000i32)),
        ]);
        fs.push(&mut sink, row).await?;
        grants.push(id);
    }
    fs.flush(&mut sink).await?;
    for (n, org) in orgs.iter().enumerate() {
        if let Some(p) = org.partner {
            let mut row = record(ids.next(), now);
            row.extend([
                v(org.id),
                v(Some("weitergabe".to_owned())),
                v("federal"),
                v("Bundesministerium"),
                v("Menschen stärken Menschen"),
                v(400_000i64),
                v(grant_start),
                v(Some(grant_end)),
                v(Some(grants[p])),
                v(Some(40i32)),
            ]);
            fs.push(&mut sink, row).await?;
        }
        let own = if org.partner.is_some() { 1 } else { 2 };
        for k in 0..own {
            let s = day(&mut rng, start, today);
            let e = if n % 40 == 0 && k == 0 {
                today + Duration::days(rng.random_range(1..90))
            } else {
                s + Duration::days(rng.random_range(365..1_460))
            };
            let mut row = record(ids.next(), now);
            row.extend([
                v(org.id),
                v(Some(format!("f-{n}-{k}"))),
                v(if k == 0 { "state" } else { "municipal" }),
                v(format!("Förderer {}", n % 300)),
                v(format!("Programm {}", k + 1)),
                v(rng.random_range(100_000..5_000_000i64)),
                v(s),
                v(Some(e)),
                v(Option::<Uuid>::None),
                v(Option::<i32>::None),
            ]);
            fs.push(&mut sink, row).await?;
        }
    }
    fs.flush(&mut sink).await?;
    progress("fundings", fs.written, fs.written);

    // Cooperations (one per 5 organisations, with two partners) and committees (one per
    // network, with members and two meetings).
    let mut coops = Batch::new(
        "cooperations",
        cols![
            "title",
            "goal",
            "lead_organisation_id",
            "network_id",
            "status",
            "starts_on",
            "ends_on"
        ],
    );
    let mut partners = Batch::new(
        "cooperation_partners",
        &["cooperation_id", "organisation_id", "role", "resources"],
    );
    let statuses = ["planned", "active", "completed", "dissolved"];
    let mut partner_rows = Vec::new();
    for i in (0..orgs.len()).step_by(5) {
        let lead = &orgs[i];
        let id = ids.next();
        let s = day(&mut rng, start, today);
        let mut row = record(id, now);
        row.extend([
            v(format!("Kooperation {i}")),
            v("Gemeinsam mehr Patenschaften.".to_owned()),
            v(lead.id),
            v(lead.region),
            v(statuses[i % 4]),
            v(s),
            v(Option::<NaiveDate>::None),
        ]);
        coops.push(&mut sink, row).await?;
        let mut seen = vec![lead.id];
        for j in 1..=2 {
            let other = &orgs[(i + j * 7) % orgs.len()];
            if !seen.contains(&other.id) {
                seen.push(other.id);
                partner_rows.push(vec![
                    v(id),
                    v(other.id),
                    v("Partner"),
                    v(Some("Räume".to_owned())),
                ]);
            }
        }
    }
    coops.flush(&mut sink).await?;
    for row in partner_rows {
        partners.push(&mut sink, row).await?;
    }
    partners.flush(&mut sink).await?;
    let mut committees = Batch::new("committees", cols!["network_id", "name", "purpose"]);
    let mut members = Batch::new(
        "committee_members",
        &["committee_id", "member_id", "member_kind"],
    );
    let mut meetings = Batch::new(
        "committee_meetings",
        cols!["committee_id", "held_on", "topic", "outcome"],
    );
    let mut by_region: std::collections::HashMap<Uuid, Vec<Uuid>> =
        std::collections::HashMap::new();
    for o in &orgs {
        by_region.entry(o.region).or_default().push(o.id);
    }
    let (mut member_rows, mut meeting_rows) = (Vec::new(), Vec::new());
    for (rid, _, _) in &regions {
        let id = ids.next();
        let mut row = record(id, now);
        row.extend([
            v(*rid),
            v("Regionaler Runder Tisch".to_owned()),
            v(Some("Abstimmung der Angebote".to_owned())),
        ]);
        committees.push(&mut sink, row).await?;
        for m in by_region
            .get(rid)
            .map_or(&[][..], |v| &v[..])
            .iter()
            .take(4)
        {
            member_rows.push(vec![v(id), v(*m), v("organisation")]);
        }
        for k in 0..2 {
            let mut row = record(ids.next(), now);
            row.extend([
                v(id),
                v(day(&mut rng, start, today)),
                v(format!("Sitzung {}", k + 1)),
                v(Some("Protokoll liegt vor.".to_owned())),
            ]);
            meeting_rows.push(row);
        }
    }
    committees.flush(&mut sink).await?;
    for row in member_rows {
        members.push(&mut sink, row).await?;
    }
    for row in meeting_rows {
        meetings.push(&mut sink, row).await?;
    }
    members.flush(&mut sink).await?;
    meetings.flush(&mut sink).await?;
    progress(
        "cooperations, committees",
        coops.written + committees.written,
        coops.written + committees.written,
    );
    sink.commit().await?;

    // The aggregate table, from the base tables, in the database.
    progress("statistics", 0, 1);
    store.rebuild_statistics().await?;
    progress("statistics", 1, 1);
    store.analyze().await?;
    Ok(())
}
