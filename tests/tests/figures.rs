//! The figures are right (issue 12, item 6), on both databases: money is counted once —
//! granted and passed on are two measures whose totals equal the fundings behind them —, the
//! federal network is not a state and a state's own organisations are not a region, and the
//! measures about organisations and money are exact for the ministry while the measures
//! about people stay protected for it.

use reqwest::StatusCode;
use serde_json::Value;
use std::collections::HashMap;
use verbund_e2e::{Demo, PgDatabase, on_both_databases};

fn labels(table: &Value) -> Vec<String> {
    table["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["keys"][0]["label"].as_str().unwrap_or("").to_owned())
        .collect()
}

fn sum(table: &Value, field: &str) -> i64 {
    table["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r[field].as_i64().expect("a shown figure"))
        .sum()
}

async fn right_figures(pg: Option<PgDatabase>) {
    let s = Demo::start(pg);
    let ministry = s.role("ministry_analyst");
    let fundings = s.all("/api/v1/fundings", Some(&s.admin)).await;
    let granted: i64 = fundings
        .iter()
        .filter(|f| f["passedOnFromId"].is_null())
        .map(|f| f["amountCents"].as_i64().expect("amount"))
        .sum();
    let passed_on: i64 = fundings
        .iter()
        .filter(|f| !f["passedOnFromId"].is_null())
        .map(|f| f["amountCents"].as_i64().expect("amount"))
        .sum();
    assert!(granted > 0 && passed_on > 0, "the demo has both");

    // The ministry's funding per state: exact, and its total is the money granted.
    let by_state = s
        .get("/api/v1/statistics/funding?groupBy=state", Some(&ministry))
        .await;
    assert_eq!(by_state["protected"], false, "{by_state}");
    assert_eq!(by_state["total"]["amount"], granted, "{by_state}");
    assert_eq!(sum(&by_state, "amount"), granted);
    assert!(by_state["rows"].as_array().expect("rows").len() >= 17);
    // The federal network's own money is a row of its own, not a state.
    let names = labels(&by_state);
    let federal: Vec<&String> = names.iter().filter(|l| l.contains("no state")).collect();
    assert_eq!(federal.len(), 1, "{names:?}");
    assert!(federal[0].contains("federal level"), "{names:?}");
    // Money passed on is its own measure, at every level counted once.
    for group in ["level", "state", "region"] {
        let on = s
            .get(
                &format!("/api/v1/statistics/funding_passed_on?groupBy={group}"),
                Some(&ministry),
            )
            .await;
        assert_eq!(on["total"]["amount"], passed_on, "{on}");
        assert_eq!(sum(&on, "amount"), passed_on, "{on}");
        let granted_here = s
            .get(
                &format!("/api/v1/statistics/funding?groupBy={group}"),
                Some(&ministry),
            )
            .await;
        assert_eq!(sum(&granted_here, "amount"), granted, "{granted_here}");
    }
    // By region, a state's own organisations are "no region" rows of that state.
    let orgs = s
        .get(
            "/api/v1/statistics/organisations?groupBy=region",
            Some(&ministry),
        )
        .await;
    assert_eq!(orgs["protected"], false);
    let names = labels(&orgs);
    assert!(
        names.iter().any(|l| l == "Bayern (state level, no region)"),
        "{names:?}"
    );
    let all = s
        .get("/api/v1/statistics/organisations", Some(&ministry))
        .await;
    assert_eq!(
        sum(&orgs, "count"),
        all["total"]["count"].as_i64().expect("n")
    );
    // Offerings and cooperations are exact for the ministry too; people are not.
    for measure in ["offerings", "cooperations"] {
        let t = s
            .get(
                &format!("/api/v1/statistics/{measure}?groupBy=region"),
                Some(&ministry),
            )
            .await;
        assert_eq!(t["protected"], false, "{measure}");
    }
    for measure in ["mentorships", "volunteers", "mentorships_started"] {
        let t = s
            .get(
                &format!("/api/v1/statistics/{measure}?groupBy=region"),
                Some(&ministry),
            )
            .await;
        assert_eq!(t["protected"], true, "{measure}");
    }
    // The public keeps the protected view of money.
    let public = s
        .get("/api/v1/statistics/funding?groupBy=region", None)
        .await;
    assert_eq!(public["protected"], true);
}

/// The ministry's tables about people whose information loss is watched, with the most
/// secondary suppressions and the largest share (per mille) of the total hidden that the
/// protection may cost on the demo data: the baseline recorded when the protection against
/// coordinators landed (issue 12; it hides more where a state has only two regions, as in
/// the demo, since each region's coordinator knows half of the state), raised for two
/// tables when the protection against organisations landed (a programme partner knows all
/// its member organisations' records: kind × status × year 8 → 12 secondary, 191 → 263 ‰;
/// ended by end reason × year 6 → 7, 854 → 916 ‰). When interval protection landed, no
/// table here hid more, but active mentorships by region × category (13 secondary, 923 ‰)
/// is refused: with its coarser tables shown and its empty cells known, an LP attacker
/// narrows some of its hidden cells whatever else it hides, so it is replaced by active
/// mentorships by region. When the LP attacker ran across the linked measures as well, the
/// stock at the end of 2025 by state hid more (5 → 11 secondary, 285 → 683 ‰; by region,
/// which keeps the state table's cells, 7 → 19): on the demo every flow by state and year
/// is hidden already, so the year-end stocks are what is left to widen the attacker's
/// intervals (the demo has 448 mentorships over 16 states and 8 years; the large data set
/// hides almost nothing). When the mentorships by status joined the linked measures (the
/// protected view splitting only `mentorships` by status, the family's choice of cells to
/// hide taking the cells every way of summing a recovered cell needs, and each coordinator
/// checked across the measures), state × status hid more (16 → 23 secondary, 642 → 799 ‰),
/// and so did kind × status × year, which keeps the family's status × year cells (10 → 23,
/// 227 → 660 ‰); the stock by state hid less (12 → 10, 739 → 607 ‰). A change that hides
/// more fails here; one that hides less may lower it.
const BASELINE: &[(&str, &str, usize, i64)] = &[
    ("mentorships", "groupBy=state,status,year", 0, 1000),
    ("mentorships", "groupBy=state,year", 31, 1000),
    ("mentorships", "groupBy=state,status", 23, 799),
    ("mentorships", "groupBy=region", 0, 0),
    ("mentorships", "groupBy=region,year", 2, 1000),
    ("mentorships", "groupBy=state,category", 0, 0),
    ("mentorships", "groupBy=state,target_group", 0, 0),
    (
        "mentorships",
        "groupBy=organisation_kind,status,year",
        // 12 and 263 until the LP checks reused the feasible points of earlier rounds;
        // 10 and 227 until status joined the linked measures.
        23,
        660,
    ),
    ("mentorships_started", "groupBy=state,year", 6, 1000),
    ("mentorships_started", "groupBy=state,quarter", 0, 1000),
    ("mentorships_ended", "groupBy=state,end_reason", 0, 1000),
    ("mentorships_ended", "groupBy=end_reason,year", 6, 833),
    (
        "mentorships_active",
        "groupBy=state&activeAt=2025-12-31",
        // 11 and 683 while the order of the units an insider check visits followed the
        // order the database returned the rows in; 12 and 739 until status joined the
        // linked measures.
        10,
        607,
    ),
    (
        "mentorships_active",
        "groupBy=region&activeAt=2025-12-31",
        // 19 and 683 while the insider checks' order followed the database's row order;
        // 21 and 739 until status joined the linked measures.
        17,
        607,
    ),
    ("volunteers", "groupBy=state,status", 16, 1000),
    ("volunteers", "groupBy=region,status", 32, 1000),
];

async fn information_loss(pg: Option<PgDatabase>) {
    let s = Demo::start(pg);
    let ministry = s.role("ministry_analyst");
    let mut report = Vec::new();
    for (measure, query, max_secondary, max_hidden_permille) in BASELINE {
        let path = format!("/api/v1/statistics/{measure}?{query}");
        let shown = s.get(&path, Some(&ministry)).await;
        let exact = s.get(&path, Some(&s.admin)).await;
        assert_eq!(shown["protected"], true, "{path}");
        assert_eq!(exact["protected"], false, "{path}");
        let keys = |r: &Value| r["keys"].to_string();
        let truth: std::collections::HashMap<String, i64> = exact["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| (keys(r), r["count"].as_i64().expect("exact")))
            .collect();
        let rows = shown["rows"].as_array().expect("rows");
        let mut secondary = 0;
        let mut hidden = 0;
        for r in rows {
            match r["suppressionReason"].as_str() {
                None => assert!(r["count"].is_i64(), "{r}"),
                Some(reason) => {
                    let primary = r["suppression"] == "primary";
                    assert_eq!(primary, reason == "small_count", "{r}");
                    assert!(
                        [
                            "small_count",
                            "protects_line",
                            "protects_system",
                            "protects_linked_measures",
                            "protects_from_insider",
                            "protects_interval"
                        ]
                        .contains(&reason),
                        "{r}"
                    );
                    if !primary {
                        secondary += 1;
                    }
                    hidden += truth[&keys(r)];
                }
            }
        }
        let total = exact["total"]["count"].as_i64().expect("total");
        let permille = if total == 0 { 0 } else { hidden * 1000 / total };
        report.push(format!(
            "{measure}?{query}: {} cells, {secondary} secondary, {permille}‰ of {total} hidden",
            rows.len()
        ));
        assert!(
            std::env::var_os("VERBUND_RECORD_BASELINE").is_some()
                || (secondary <= *max_secondary && permille <= *max_hidden_permille),
            "{measure}?{query}: {secondary} secondary suppressions (baseline {max_secondary}), {permille}‰ hidden (baseline {max_hidden_permille}‰)"
        );
    }
    println!("information loss:\n{}", report.join("\n"));
}

/// The ministry's mentorships by state and year, live or from a snapshot: cell key → row.
async fn state_year(
    s: &Demo,
    token: &str,
    snapshot: Option<&str>,
) -> HashMap<(String, String), Value> {
    let q = snapshot.map_or(String::new(), |id| format!("&snapshot={id}"));
    let t = s
        .get(
            &format!("/api/v1/statistics/mentorships?groupBy=state,year{q}"),
            Some(token),
        )
        .await;
    t["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            let key = (
                r["keys"][0]["value"].as_str().expect("state").to_owned(),
                r["keys"][1]["value"].as_str().expect("year").to_owned(),
            );
            (key, r.clone())
        })
        .collect()
}

async fn earlier_release_binds(pg: Option<PgDatabase>) {
    let s = Demo::start(pg);
    let ministry = s.role("ministry_analyst");
    let res = s
        .http
        .post(s.server.url("/api/v1/statistics/snapshots"))
        .bearer_auth(&s.admin)
        .json(&serde_json::json!({ "asOf": "2025-12-31" }))
        .send()
        .await
        .expect("snapshot");
    assert_eq!(res.status(), StatusCode::CREATED);
    let snap: Value = res.json().await.expect("json");
    let id = snap["id"].as_str().expect("id").to_owned();
    let frozen = state_year(&s, &ministry, Some(&id)).await;
    let exact = state_year(&s, &s.admin, Some(&id)).await;
    // A small 2025 cell of a state, hidden in the snapshot.
    let ((state, _), small) = exact
        .iter()
        .filter(|((st, y), _)| {
            y == "2025" && frozen[&(st.clone(), y.clone())]["suppressed"] == true
        })
        .min_by_key(|(k, _)| (*k).clone())
        .map(|(k, r)| (k.clone(), r["count"].as_i64().expect("count")))
        .expect("a hidden 2025 cell");
    // Late entries for 2025 lift it to k and more.
    let orgs = s
        .get(
            &format!("/api/v1/organisations?within={state}&first=1"),
            Some(&s.admin),
        )
        .await;
    let org = orgs["items"][0]["id"].as_str().expect("org").to_owned();
    for i in 0..5 {
        let res = s
            .http
            .post(s.server.url("/api/v1/mentorships"))
            .bearer_auth(&s.admin)
            .json(&serde_json::json!({
                "organisationId": org, "menteeRef": format!("LATE-{i}"), "format": "one_to_one",
                "targetGroup": "refugees", "requestedOn": "2025-11-03",
            }))
            .send()
            .await
            .expect("create");
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let live_exact = state_year(&s, &s.admin, None).await;
    let key = (state.clone(), "2025".to_owned());
    assert_eq!(live_exact[&key]["count"], small + 5);
    // Live, the cell stays hidden, and says why; so does every cell the snapshot hid
    // for a year that had ended by its deadline.
    let live = state_year(&s, &ministry, None).await;
    assert_eq!(live[&key]["suppressed"], true, "{}", live[&key]);
    assert_eq!(live[&key]["suppressionReason"], "earlier_release");
    for (k, row) in &frozen {
        if row["suppressed"] == true && k.1.as_str() <= "2025" {
            assert_eq!(live[k]["suppressed"], true, "{k:?} revealed: {}", live[k]);
        }
    }
    // The snapshot itself answers as before.
    assert_eq!(state_year(&s, &ministry, Some(&id)).await, frozen);
}

/// A lattice as a caller sees it: per table (its levels), per key, the count and whether
/// it is hidden.
type Seen = HashMap<Vec<u8>, HashMap<Vec<String>, (i64, bool)>>;

/// Every table of the lattice of mentorships by state × status × year as `token` sees
/// them (a coordinator: its own subtree, exactly): levels → key → (count, hidden).
async fn lattice_of(s: &Demo, token: &str) -> Seen {
    let mut out = HashMap::new();
    for (levels, rows) in s.state_status_year(Some(token), "").await {
        let cells = rows
            .into_iter()
            .map(|(key, row)| {
                let hidden = row["suppressed"] == true;
                (key, (row["count"].as_i64().unwrap_or(0), hidden))
            })
            .collect();
        out.insert(levels, cells);
    }
    out
}

/// An insider's attack: it subtracts its own part (`part`) from every shown cell of the
/// public lattice — no rest between 1 and 4 may show — then solves what it sees, a hidden
/// cell it knows wholly (`known`: its rest is 0) counting as shown. Nothing outside its own
/// figures may come out.
fn insider_learns_nothing(
    public: &Seen,
    who: &str,
    part: impl Fn(&[u8], &[String]) -> i64,
    known: impl Fn(&[u8], &[String]) -> bool,
) {
    use verbund_domain::statistics::{Axis, Cell, Lattice, Visibility, audit};
    let mut tables = HashMap::new();
    for (levels, cells) in public {
        let mut residual = HashMap::new();
        for (key, (count, hidden)) in cells {
            // A hidden rest is the unknown (its value is not used).
            let rest = if *hidden {
                0
            } else {
                count - part(levels, key)
            };
            assert!(
                *hidden || rest == 0 || rest >= 5,
                "{who} learns {rest} by subtracting its own figures from {levels:?} {key:?}"
            );
            let visibility = if *hidden && !known(levels, key) {
                Visibility::Secondary
            } else {
                Visibility::Shown
            };
            let cell = Cell {
                count: rest,
                amount: 0,
                visibility,
            };
            residual.insert(key.clone(), cell);
        }
        tables.insert(levels.clone(), residual);
    }
    let axes = vec![Axis::Geo, Axis::Status, Axis::Period];
    let recovered = audit(&Lattice { axes, tables });
    let outside: Vec<_> = recovered.iter().filter(|(_, _, v)| *v > 0).collect();
    assert!(outside.is_empty(), "{who} recovers the others' {outside:?}");
}

/// Each state and regional coordinator knows its subtree exactly and subtracts it from
/// every cell of the ministry's (public) protected lattice: no shown cell leaves a rest
/// from 1 to k−1, and the exact attacker, solving all the lattice's equations with the
/// rests, recovers no hidden rest above 0 (nothing about the others).
async fn coordinators_learn_nothing_outside(pg: Option<PgDatabase>) {
    let s = Demo::start(pg);
    let ministry = s.role("ministry_analyst");
    let public = lattice_of(&s, &ministry).await;
    let mut attackers = 0;
    for (level, role) in [
        ("state", "state_coordinator"),
        ("regional", "regional_coordinator"),
    ] {
        let networks = s
            .get(&format!("/api/v1/networks?level={level}&first=100"), None)
            .await;
        for n in networks["items"].as_array().expect("items") {
            let id = n["id"].as_str().expect("id");
            let state = if level == "state" {
                id.to_owned()
            } else {
                n["parentId"].as_str().expect("parent").to_owned()
            };
            let token = s.token(&["--role", role, "--network", id]);
            let own = lattice_of(&s, &token).await;
            attackers += 1;
            let part = |levels: &[u8], key: &[String]| {
                own.get(levels)
                    .and_then(|t| t.get(key))
                    .map_or(0, |(c, h)| {
                        assert!(!h, "a coordinator's own figures are exact");
                        *c
                    })
            };
            // A state coordinator's state row lies wholly inside its subtree.
            let inside = |levels: &[u8], key: &[String]| {
                level == "state" && levels[0] == 1 && key[0] == state
            };
            insider_learns_nothing(&public, &format!("{role} {id}"), part, inside);
        }
    }
    assert_eq!(attackers, 16 + 32, "every state and region of the demo");
}

/// Each organisation of the demo knows its own mentorships (read with its own org_admin
/// token) and subtracts them from every cell of the ministry's protected lattice of
/// mentorships by state × status × year: no shown cell leaves a rest from 1 to k−1, and the
/// exact attacker over all the lattice's equations recovers no hidden rest above 0.
async fn organisations_learn_nothing_about_others(pg: Option<PgDatabase>) {
    let s = Demo::start(pg);
    let ministry = s.role("ministry_analyst");
    let public = lattice_of(&s, &ministry).await;
    let networks = s.all("/api/v1/networks", None).await;
    let parent: HashMap<String, (String, String)> = networks
        .iter()
        .map(|n| {
            (
                n["id"].as_str().expect("id").to_owned(),
                (
                    n["level"].as_str().expect("level").to_owned(),
                    n["parentId"].as_str().unwrap_or("").to_owned(),
                ),
            )
        })
        .collect();
    let states: Vec<&String> = parent
        .iter()
        .filter(|(_, (l, _))| l == "state")
        .map(|(id, _)| id)
        .collect();
    // The row of the federal level's own organisations in a table by state.
    let federal_row = public
        .get(&vec![1, 0, 0])
        .and_then(|t| t.keys().find(|k| !states.contains(&&k[0])))
        .map(|k| k[0].clone());
    let organisations = s.all("/api/v1/organisations", Some(&s.admin)).await;
    let (mut attackers, mut with_records) = (0, 0);
    for org in &organisations {
        let id = org["id"].as_str().expect("id");
        let network = org["networkId"].as_str().expect("network");
        let state = match parent.get(network).map(|(l, p)| (l.as_str(), p.clone())) {
            Some(("state", _)) => Some(network.to_owned()),
            Some(("regional", p)) => Some(p),
            _ => federal_row.clone(),
        };
        let token = s.token(&["--role", "org_admin", "--organisation", id]);
        let own = s.all("/api/v1/mentorships", Some(&token)).await;
        attackers += 1;
        if !own.is_empty() {
            with_records += 1;
        }
        // The organisation's part of a cell: its records with the cell's keys.
        let part = |levels: &[u8], key: &[String]| -> i64 {
            let n = own
                .iter()
                .filter(|m| {
                    (levels[0] == 0 || state.as_deref() == Some(key[0].as_str()))
                        && (levels[1] == 0 || m["status"] == key[1].as_str())
                        && (levels[2] == 0
                            || m["requestedOn"]
                                .as_str()
                                .is_some_and(|d| d.starts_with(&key[2])))
                })
                .count();
            i64::try_from(n).expect("count")
        };
        let who = format!("organisation {id}");
        insider_learns_nothing(&public, &who, part, |_: &[u8], _: &[String]| false);
    }
    assert_eq!(attackers, organisations.len());
    assert!(
        with_records >= 32,
        "every organisation that runs mentorships attacks: {with_records}"
    );
}

/// Lattices an attacker reads through HTTP for the LP check: a measure, the dimensions of
/// its finest table (each at one level) and further query parameters.
const LP_LATTICES: &[(&str, &[&str], &str)] = &[
    ("mentorships", &["state", "status", "year"], ""),
    ("mentorships", &["state", "target_group"], ""),
    ("mentorships", &["organisation_kind", "status", "year"], ""),
    ("mentorships_started", &["state", "year"], ""),
    ("mentorships_ended", &["state", "end_reason"], ""),
    ("mentorships_ended", &["end_reason", "year"], ""),
    (
        "mentorships_active",
        &["state", "category"],
        "&activeAt=2025-12-31",
    ),
    ("mentorships_active", &["region"], "&activeAt=2025-12-31"),
    (
        "mentorships_active",
        &["region", "category"],
        "&activeAt=2025-12-31",
    ),
    ("volunteers", &["state", "status"], ""),
    ("volunteers", &["region", "status"], ""),
];

/// Interval protection on the demo data: for each of [`LP_LATTICES`], every table of its
/// lattice as the ministry sees it (protected) and as the federal admin does (exact), and an
/// LP attacker over all its shown cells (counts whole and never negative) must leave each
/// hidden cell its interval: a primary cell of value v [max(0, v−3), v+3], any other a width
/// of max(5, 10 % of v). The exact attacker recovers nothing either. A table the protected
/// view refuses is not seen by the attacker. The lattices are written to `VERBUND_LP_DUMP`
/// for HiGHS (`.ci/run`).
async fn interval_protection(pg: Option<PgDatabase>) {
    use verbund_domain::statistics::{
        Axis, Cell, Lattice, Ranges, Visibility, attacker_problem, audit, interval_audit,
    };
    let s = Demo::start(pg);
    let database = s.database();
    let ministry = s.role("ministry_analyst");
    let (mut hidden, mut refused) = (0, 0);
    let mut lattices = Vec::new();
    for (measure, dims, extra) in LP_LATTICES {
        let mut tables = HashMap::new();
        for mask in 0..(1u32 << dims.len()) {
            let groups: Vec<&str> = (0..dims.len())
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| dims[i])
                .collect();
            let path = format!(
                "/api/v1/statistics/{measure}?groupBy={}{extra}",
                groups.join(",")
            );
            let res = s
                .http
                .get(s.server.url(&path))
                .bearer_auth(&ministry)
                .send()
                .await
                .expect("request");
            if res.status() == StatusCode::BAD_REQUEST {
                let problem: Value = res.json().await.expect("problem");
                assert_eq!(problem["code"], "TOO_COMPLEX", "{path}: {problem}");
                refused += 1;
                continue;
            }
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            let shown: Value = res.json().await.expect("json");
            let exact = s.get(&path, Some(&s.admin)).await;
            let key = |row: &Value| -> Vec<String> {
                dims.iter()
                    .map(|d| {
                        row["keys"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .find(|k| k["dimension"] == *d)
                            .map_or(String::new(), |k| k["value"].to_string())
                    })
                    .collect()
            };
            let rows = |t: &Value| -> Vec<Value> {
                if groups.is_empty() {
                    vec![t["total"].clone()]
                } else {
                    t["rows"].as_array().expect("rows").clone()
                }
            };
            let truth: HashMap<Vec<String>, i64> = rows(&exact)
                .iter()
                .map(|r| (key(r), r["count"].as_i64().expect("exact")))
                .collect();
            let mut cells = HashMap::new();
            for r in rows(&shown) {
                let k = key(&r);
                let visibility = match r["suppressionReason"].as_str() {
                    None => Visibility::Shown,
                    Some("small_count") => Visibility::Primary,
                    Some(_) => Visibility::Secondary,
                };
                let count = truth.get(&k).copied().unwrap_or(0);
                if visibility == Visibility::Shown {
                    assert_eq!(r["count"].as_i64(), Some(count), "{path} {k:?}");
                } else {
                    hidden += 1;
                }
                if count != 0 {
                    cells.insert(
                        k,
                        Cell {
                            count,
                            amount: 0,
                            visibility,
                        },
                    );
                }
            }
            let levels: Vec<u8> = (0..dims.len())
                .map(|i| u8::from(mask & (1 << i) != 0))
                .collect();
            tables.insert(levels, cells);
        }
        // Each dimension is read at one level: its key coarsens to "all" only, as on any
        // axis but geography and period.
        lattices.push(Lattice {
            axes: vec![Axis::Category; dims.len()],
            tables,
        });
    }
    // Solved after all are read (the LPs take a while; the server closes idle connections).
    for (n, ((measure, dims, _), lattice)) in LP_LATTICES.iter().zip(&lattices).enumerate() {
        let lattice = lattice.clone();
        let started = std::time::Instant::now();
        let ranges = Ranges::default();
        let narrow = interval_audit(&lattice, &ranges);
        assert!(
            narrow.is_empty(),
            "{measure} by {dims:?}: the LP attacker narrows {narrow:?}"
        );
        let recovered = audit(&lattice);
        assert!(recovered.is_empty(), "{measure} by {dims:?}: {recovered:?}");
        if let Some(dir) = std::env::var_os("VERBUND_LP_DUMP") {
            std::fs::create_dir_all(&dir).expect("dump directory");
            std::fs::write(
                std::path::Path::new(&dir).join(format!("demo-{database}-{n:02}.json")),
                attacker_problem(&lattice, &ranges).to_string(),
            )
            .expect("dump");
        }
        println!("{measure} by {dims:?}: {:?}", started.elapsed());
    }
    println!(
        "LP attacker on the demo ({database}): {} lattices, {hidden} hidden cells, none narrowed; {refused} tables refused",
        LP_LATTICES.len()
    );
    assert!(hidden > 500, "{hidden} hidden cells checked");
}

on_both_databases!(interval_protection => no_hidden_cell_is_narrowed_by_an_lp_attacker_sqlite, no_hidden_cell_is_narrowed_by_an_lp_attacker_postgres);

on_both_databases!(organisations_learn_nothing_about_others => organisations_learn_nothing_about_the_others_sqlite, organisations_learn_nothing_about_the_others_postgres);

on_both_databases!(coordinators_learn_nothing_outside => coordinators_learn_nothing_outside_their_subtree_sqlite, coordinators_learn_nothing_outside_their_subtree_postgres);

on_both_databases!(earlier_release_binds => an_earlier_release_binds_later_answers_sqlite, an_earlier_release_binds_later_answers_postgres);

on_both_databases!(information_loss => information_loss_stays_within_the_baseline_sqlite, information_loss_stays_within_the_baseline_postgres);

on_both_databases!(right_figures => money_is_counted_once_and_the_federal_network_is_not_a_state_sqlite, money_is_counted_once_and_the_federal_network_is_not_a_state_postgres);
