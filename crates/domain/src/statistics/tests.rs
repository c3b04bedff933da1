//! The attacker: from every table of a lattice (every table a caller without access could
//! ask for), try to recompute a hidden cell by subtraction from totals and siblings.
//! The attacker's algebra is exact (integers), independent of the float check in `protect`.

use super::*;
use proptest::prelude::*;

const K: i64 = 5;

fn seg(i: usize) -> String {
    format!("{i:032x}")
}

fn region(state: usize, region: Option<usize>) -> String {
    let mut p = seg(0) + &seg(state + 1);
    if let Some(r) = region {
        p += &seg(100 + r);
    }
    p
}

fn check(axes: &[(Axis, u8)], cells: Vec<(Key, i64, i64)>) -> Lattice {
    let l = protect(axes, cells, K);
    for (levels, t) in &l.tables {
        for (key, c) in t {
            if c.count > 0 && c.count < K {
                assert_eq!(c.visibility, Visibility::Primary, "{levels:?} {key:?}");
            }
        }
    }
    let found = audit(&l);
    assert!(
        found.is_empty(),
        "recovered hidden cells: {found:?}\nlattice: {:?}",
        l.tables
    );
    let narrow = interval_audit(&l, &Ranges::default());
    assert!(
        narrow.is_empty(),
        "narrowed hidden cells: {narrow:?}\nlattice: {:?}",
        l.tables
    );
    dump(&l, "check");
    l
}

/// Writes the lattice as the LP attacker's problem (`VERBUND_LP_DUMP`, a directory), for the
/// independent check with HiGHS (`tests/lp/verify.py`, run by `.ci/run`): axes, and every
/// cell with its levels, key, true count and whether it is shown or why not.
fn dump(l: &Lattice, name: &str) {
    dump_to(l, name, "")
}

/// [`dump`] into the subdirectory `sub` (`control`: lattices the LP attacker must narrow).
fn dump_to(l: &Lattice, name: &str, sub: &str) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let Some(dir) = std::env::var_os("VERBUND_LP_DUMP") else {
        return;
    };
    let doc = attacker_problem(l, &Ranges::default());
    let n = N.fetch_add(1, Ordering::Relaxed);
    let dir = std::path::Path::new(&dir).join(sub);
    let path = dir.join(format!("domain-{name}-{n:05}.json"));
    std::fs::create_dir_all(&dir).expect("dump directory");
    std::fs::write(path, doc.to_string()).expect("dump");
}

fn cell(geo: String, status: &str, year: &str, count: i64) -> (Key, i64, i64) {
    (
        vec![geo, status.to_owned(), year.to_owned()],
        count,
        count * 100,
    )
}

const GSY: [(Axis, u8); 3] = [(Axis::Geo, 2), (Axis::Status, 1), (Axis::Period, 1)];

#[test]
fn a_lone_small_cell_gets_a_partner_and_the_total_stays_shown() {
    // One state, two regions; region 1 has 3 active: subtraction from the state would
    // give it away unless a second cell of the line is hidden.
    let l = check(
        &GSY,
        vec![
            cell(region(0, Some(1)), "active", "2025", 3),
            cell(region(0, Some(2)), "active", "2025", 40),
            cell(region(0, Some(3)), "active", "2025", 9),
        ],
    );
    let t = &l.tables[&vec![2, 1, 1]];
    let key = |r| vec![region(0, Some(r)), "active".into(), "2025".into()];
    assert_eq!(t[&key(1)].visibility, Visibility::Primary);
    assert_eq!(
        t[&key(3)].visibility,
        Visibility::Secondary,
        "smallest sibling"
    );
    assert_eq!(t[&key(2)].visibility, Visibility::Shown);
    let total = l.cell(&[0, 0, 0], &[String::new(), String::new(), String::new()]);
    assert_eq!(total.map(|c| c.visibility), Some(Visibility::Shown));
    assert_eq!(total.map(|c| c.count), Some(52));
}

#[test]
fn two_hidden_ones_under_a_shown_total_are_widened() {
    // 1 + 1 hidden beside 20 shown: the attacker knows their sum is 2, so each is 1.
    let l = check(
        &[(Axis::Status, 1)],
        vec![
            (vec!["a".into()], 1, 0),
            (vec!["b".into()], 1, 0),
            (vec!["c".into()], 20, 0),
            (vec!["d".into()], 30, 0),
        ],
    );
    let t = &l.tables[&vec![1]];
    assert_eq!(t[&vec!["c".to_owned()]].visibility, Visibility::Secondary);
    assert_eq!(t[&vec!["d".to_owned()]].visibility, Visibility::Shown);
}

#[test]
fn period_keys_roll_up_month_quarter_year() {
    assert_eq!(Axis::Period.coarsen("2025-05", 3, 2), "2025-Q2");
    assert_eq!(Axis::Period.coarsen("2025-12", 3, 1), "2025");
    assert_eq!(Axis::Period.coarsen("2025-Q4", 2, 1), "2025");
    assert_eq!(Axis::Period.coarsen("2025", 1, 0), "");
    let r = region(3, Some(7));
    assert_eq!(Axis::Geo.coarsen(&r, 2, 1), region(3, None));
}

#[test]
fn plan_checks_measure_groups_and_periods() {
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
    let q = Query {
        measure: Some(Measure::Organisations),
        groups: vec![Dimension::Status, Dimension::Year],
        ..Query::default()
    };
    let e = q.plan(true).expect_err("organisations have neither");
    assert_eq!(e.0.len(), 2);
    let q = Query {
        measure: Some(Measure::Mentorships),
        groups: vec![Dimension::State],
        from: Some(d("2024-01-01")),
        to: Some(d("2025-12-31")),
        ..Query::default()
    };
    assert!(q.plan(false).is_ok(), "any whole months in the exact view");
    let e = q.plan(true).expect_err("two years in the protected view");
    assert!(e.has("to"));
    let q = Query {
        from: Some(d("2024-04-01")),
        to: Some(d("2024-06-30")),
        ..q
    };
    let p = q.plan(true).expect("one quarter");
    assert_eq!(p.axes, vec![(Axis::Geo, 1), (Axis::Period, 2)]);
    assert_eq!(p.output, vec![(Axis::Geo, 1)]);
    assert_eq!(p.total_key(), vec![String::new(), "2024-Q2".to_owned()]);
    let q = Query {
        measure: Some(Measure::MentorshipsActive),
        active_at: Some(d("2024-06-15")),
        ..Query::default()
    };
    assert!(q.plan(false).expect_err("mid-month").has("activeAt"));
}

fn arb_cells() -> impl Strategy<Value = Vec<(Key, i64, i64)>> {
    let one = (
        0usize..3,
        prop::option::of(0usize..3),
        0usize..3,
        0usize..3,
        0i64..14,
    );
    prop::collection::vec(one, 1..28).prop_map(|v| {
        let statuses = ["active", "ended", "paused"];
        let years = ["2023", "2024", "2025"];
        let mut m: BTreeMap<Key, i64> = BTreeMap::new();
        for (s, r, st, y, c) in v {
            *m.entry(vec![
                region(s, r),
                statuses[st].to_owned(),
                years[y].to_owned(),
            ])
            .or_default() += c;
        }
        m.into_iter()
            .filter(|(_, c)| *c > 0)
            .map(|(k, c)| (k, c, c * 1000))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Region × status × year and everything above it: nothing hidden can be recomputed.
    #[test]
    fn no_hidden_cell_is_recoverable(cells in arb_cells()) {
        check(&GSY, cells);
    }

    /// Month → quarter → year → all, with two statuses: the period hierarchy holds too.
    #[test]
    fn no_hidden_month_is_recoverable(v in prop::collection::vec((0u32..12, 0usize..2, 0i64..9), 1..20)) {
        let mut m: BTreeMap<Key, i64> = BTreeMap::new();
        for (month, s, c) in v {
            *m.entry(vec![format!("2025-{:02}", month + 1), ["a", "b"][s].to_owned()]).or_default() += c;
        }
        let cells = m.into_iter().filter(|(_, c)| *c > 0).map(|(k, c)| (k, c, 0)).collect();
        check(&[(Axis::Period, 3), (Axis::Status, 1)], cells);
    }
}

#[test]
fn plans_read_the_coarsest_grain_that_answers_them() {
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
    let plan = |groups: Vec<Dimension>, from: Option<&str>, to: Option<&str>| {
        Query {
            measure: Some(Measure::Mentorships),
            groups,
            from: from.map(d),
            to: to.map(d),
            ..Query::default()
        }
        .plan(false)
        .expect("plan")
        .grain()
    };
    use Dimension::*;
    assert_eq!(plan(vec![State, Status, Year], None, None), 3);
    assert_eq!(plan(vec![State, OrganisationKind, Year], None, None), 2);
    assert_eq!(plan(vec![Region, Status, Year], None, None), 1);
    assert_eq!(plan(vec![Level, Year], None, None), 1);
    assert_eq!(plan(vec![State, Month], None, None), 0);
    assert_eq!(plan(vec![ProgrammePartner], None, None), 0);
    assert_eq!(plan(vec![State], Some("2020-01-01"), Some("2024-12-31")), 3);
    assert_eq!(plan(vec![State], Some("2020-03-01"), Some("2024-12-31")), 0);
    let active = |at: &str| {
        Query {
            measure: Some(Measure::MentorshipsActive),
            groups: vec![State],
            active_at: Some(d(at)),
            ..Query::default()
        }
        .plan(true)
        .expect("plan")
        .grain()
    };
    assert_eq!(active("2024-12-31"), 3);
    assert_eq!(active("2024-11-30"), 0);
}

/// An organisation that holds 3 of a shown cell's 7 records would learn that the others
/// hold 4: the cell is hidden for it, and its line keeps the hidden cell undetermined for
/// the organisation too (its own 3 records known).
#[test]
fn an_organisation_learns_nothing_by_subtracting_its_own_records() {
    let axes = [(Axis::Status, 1)];
    let cells = vec![
        (vec!["active".to_owned()], 7, 0),
        (vec!["ended".to_owned()], 9, 0),
        (vec!["paused".to_owned()], 12, 0),
    ];
    let owner = |s: &str, org: &str, n: i64| (vec![s.to_owned(), org.to_owned()], n, 0);
    let owners = vec![
        owner("active", "org-a", 3),
        owner("active", "org-b", 4),
        owner("ended", "org-a", 9),
        owner("paused", "org-b", 12),
    ];
    let unprotected = protect(&axes, cells.clone(), K);
    assert!(
        !unprotected
            .cell(&[1], &["active".to_owned()])
            .expect("cell")
            .visibility
            .hidden()
    );
    let l = protect_against_insiders(&axes, cells, K, None, &HashSet::new(), &[], &owners)
        .expect("no deadline");
    let active = l.cell(&[1], &["active".to_owned()]).expect("cell");
    assert_eq!(active.visibility, Visibility::Insider);
    // org-a holds all of `ended`: with it known, `active` would follow from the total;
    // another cell of the line is hidden as well.
    let hidden: Vec<&String> = l.tables[&vec![1]]
        .iter()
        .filter(|(_, c)| c.visibility.hidden())
        .map(|(k, _)| &k[0])
        .collect();
    assert!(hidden.len() >= 2, "{hidden:?}");
    assert!(hidden.iter().any(|k| k.as_str() == "paused"), "{hidden:?}");
}

/// A table protected the way the gateway protects it: each table one level coarser on one
/// axis (an axis at level 0 left out) first, recursively, and their statuses fixed. None
/// when it (or a coarser table) is refused as revealing.
fn nested(axes: &[(Axis, u8)], finest: &[(Key, i64, i64)]) -> Option<Lattice> {
    let mut fixed = HashMap::new();
    for i in 0..axes.len() {
        let mut coarser = axes.to_vec();
        coarser[i].1 -= 1;
        let pos: Vec<Option<usize>> = {
            let kept: Vec<Axis> = coarser
                .iter()
                .filter(|(_, l)| *l > 0)
                .map(|a| a.0)
                .collect();
            axes.iter()
                .map(|(a, _)| kept.iter().position(|b| a == b))
                .collect()
        };
        // The coarser table's finest cells, summed from this table's.
        let names: Vec<Axis> = axes.iter().map(|a| a.0).collect();
        let from: Vec<u8> = axes.iter().map(|a| a.1).collect();
        let to: Vec<u8> = coarser.iter().map(|a| a.1).collect();
        let mut sums: BTreeMap<Key, (i64, i64)> = BTreeMap::new();
        for (key, c, a) in finest {
            let k: Key = coarsen_key(&names, key, &from, &to)
                .into_iter()
                .zip(&to)
                .filter(|(_, l)| **l > 0)
                .map(|(k, _)| k)
                .collect();
            let e = sums.entry(k).or_default();
            e.0 += c;
            e.1 += a;
        }
        let kept: Vec<(Axis, u8)> = coarser.iter().copied().filter(|(_, l)| *l > 0).collect();
        let cells: Vec<(Key, i64, i64)> = sums.into_iter().map(|(k, (c, a))| (k, c, a)).collect();
        let lattice = nested(&kept, &cells)?;
        for (levels, table) in &lattice.tables {
            let levels: Vec<u8> = pos.iter().map(|p| p.map_or(0, |p| levels[p])).collect();
            for (key, cell) in table {
                let key: Key = pos
                    .iter()
                    .map(|p| p.map_or_else(String::new, |p| key[p].clone()))
                    .collect();
                fixed.insert((levels.clone(), key), cell.visibility);
            }
        }
    }
    let member = family::Member {
        flow: family::Flow::Requested,
        axes: axes.to_vec(),
        finest: Unprotected::new(finest.to_vec()),
        bound: HashSet::new(),
        breakdown: Unprotected::default(),
        owners: Unprotected::default(),
        fixed: fixed.clone(),
        ranges: Ranges::default(),
    };
    let l = match protect_member(&member, K, None) {
        Ok(l) => l,
        Err(Refusal::Revealing) => return None,
        Err(Refusal::OutOfTime) => panic!("no deadline"),
    };
    // One status per cell: every coarser table's cell as its own lattice has it.
    for ((levels, key), v) in &fixed {
        let got = l.cell(levels, key).map(|c| c.visibility);
        assert!(
            got.is_none_or(|g| g == *v),
            "{levels:?} {key:?}: {got:?} here, {v:?} in its own table"
        );
    }
    Some(l)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 100, ..ProptestConfig::default() })]

    /// Tables protected with their coarser tables' statuses fixed keep those statuses
    /// (checked in `nested`), and every table that is shown gives nothing away, together
    /// with all its coarser tables: one that would (the coarser tables, each safe on its
    /// own, and its empty cells determine a hidden cell) is refused.
    #[test]
    fn fixed_coarser_statuses_hold_and_nothing_is_recoverable(cells in arb_cells()) {
        if let Some(l) = nested(&GSY, &cells) {
            let found = audit(&l);
            prop_assert!(found.is_empty(), "recovered hidden cells: {:?}", found);
            let narrow = interval_audit(&l, &Ranges::default());
            prop_assert!(narrow.is_empty(), "narrowed hidden cells: {:?}", narrow);
            dump(&l, "nested");
        }
    }
}

/// The exact checks alone leave hidden cells that an LP attacker narrows below their
/// interval (so the LP step is needed); with it, none is narrowed on the same tables.
#[test]
fn the_lp_step_widens_what_the_exact_checks_leave_narrow() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let off = Ranges {
        primary: 0,
        secondary_min: 0,
        secondary_percent: 0,
    };
    let (mut narrow_without, mut tables) = (0, 0);
    for _ in 0..120 {
        let cells = arb_cells().new_tree(&mut runner).expect("cells").current();
        let member = |ranges| family::Member {
            flow: family::Flow::Requested,
            axes: GSY.to_vec(),
            finest: Unprotected::new(cells.clone()),
            bound: HashSet::new(),
            breakdown: Unprotected::default(),
            owners: Unprotected::default(),
            fixed: HashMap::new(),
            ranges,
        };
        let (Ok(without), Ok(with)) = (
            protect_member(&member(off), K, None),
            protect_member(&member(Ranges::default()), K, None),
        ) else {
            continue;
        };
        tables += 1;
        if !interval_audit(&without, &Ranges::default()).is_empty() {
            narrow_without += 1;
            dump_to(&without, "without-lp", "control");
        }
        let narrow = interval_audit(&with, &Ranges::default());
        assert!(narrow.is_empty(), "narrowed: {narrow:?}");
        assert!(audit(&with).is_empty());
    }
    println!("{narrow_without} of {tables} tables narrowed without the LP step, 0 with it");
    assert!(tables >= 100, "{tables} tables protected");
    assert!(
        narrow_without > 0,
        "the exact checks alone already hold the intervals"
    );
}

/// The owner read names only the units whose records can matter: a region holding more
/// than count − k of a cell, or every unit of an organisation family whose units together
/// do; and keeps only the parts that leave fewer than k to others.
#[test]
fn owner_read_names_only_the_units_that_can_matter() {
    let state = format!("{}{}", "a".repeat(32), "b".repeat(32));
    let (ra, rb, rc) = (
        format!("{state}{}", "c".repeat(32)),
        format!("{state}{}", "d".repeat(32)),
        format!("{state}{}", "e".repeat(32)),
    );
    let axes = [(Axis::Geo, 1)];
    let cells = Unprotected::new(vec![(vec![state.clone()], 20, 0)]);
    let breakdown = Unprotected::new(vec![
        (vec![ra.clone()], 16, 0),
        (vec![rb.clone()], 2, 0),
        (vec![rc.clone()], 2, 0),
    ]);
    // Region a holds 16 of 20: an organisation there may hold more than 15, so the cell is
    // read whole.
    let whole = [ra.clone(), rb.clone(), rc.clone()];
    let near = OwnerRead::plan(&axes, 5, &cells, &breakdown, &[]);
    assert_eq!(near.units(), whole);
    let spread = Unprotected::new(vec![
        (vec![ra.clone()], 8, 0),
        (vec![rb.clone()], 8, 0),
        (vec![rc.clone()], 4, 0),
    ]);
    // No region holds more than 15, nor does a family in b and c (12); one in a and b may.
    let far = OwnerRead::plan(&axes, 5, &cells, &spread, &[vec![rb.clone(), rc.clone()]]);
    assert!(far.units().is_empty());
    let family = OwnerRead::plan(&axes, 5, &cells, &spread, &[vec![ra.clone(), rb.clone()]]);
    assert_eq!(family.units(), whole);
    // Parts that leave k or more to others are dropped; the others kept.
    let kept = near.keep(vec![
        (vec![state.clone(), "org-1".into()], 16, 0),
        (vec![state.clone(), "org-2".into()], 15, 0),
        (vec![state.clone(), "org-3".into()], 20, 0),
    ]);
    assert_eq!(kept.len(), 2);
}
