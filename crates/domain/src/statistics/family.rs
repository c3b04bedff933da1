//! Linked measures: the mentorships requested, started and ended by year and those active at
//! each year end count the same mentorships, so the tables of the four measures are
//! protected together ([`protect_family`]).
//!
//! The attacker this guards against knows no identity between the measures in advance. It
//! models the mentorships themselves: its unknowns are the numbers of mentorships per
//! *profile* (geography unit, year requested, year started or never, year ended or never;
//! dates run in order), every shown cell of every member table is one equation over them,
//! and a shown 0 rules out every profile it covers. Every identity between the measures
//! (stock = started − ended so far, totals of flows, …) follows from that model. A hidden
//! cell is given away when its equation lies in the span of the shown ones. That is checked
//! exactly (arithmetic modulo a 61-bit prime), and cells are hidden until no hidden cell of
//! any member is given away. Each member is protected on its own as well, by its lines and
//! its joint check.

use super::*;

/// Which of the linked measures a member of the family is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flow {
    /// Mentorships by the year they were requested.
    Requested,
    Started,
    /// Ended (or cancelled), by the year they ended.
    Ended,
    /// Active at the end of this year (`YYYY`).
    ActiveAtYearEnd(String),
}

/// One table of the family: a measure read by geography (and, for the flows, by year).
#[derive(Debug, Clone)]
pub struct Member {
    pub flow: Flow,
    pub axes: Vec<(Axis, u8)>,
    pub finest: Vec<(Key, i64, i64)>,
    pub bound: HashSet<CellId>,
    pub breakdown: Vec<(Key, i64, i64)>,
    pub owners: Vec<(Key, i64, i64)>,
    /// The statuses of cells of coarser tables fixed by their own lattices.
    pub fixed: HashMap<CellId, Visibility>,
    /// How wide an LP attacker's interval for each hidden cell must stay.
    pub ranges: Ranges,
}

/// Protects the members together: each on its own (primary, lines, joint check, insiders,
/// earlier releases) and then against the profile attacker, hiding one more cell for each
/// hidden cell the attacker would recover, until it recovers none. Members must have a
/// geography axis; flows may add a period axis by year.
pub fn protect_family(
    members: Vec<Member>,
    k: i64,
    deadline: Option<std::time::Instant>,
) -> Result<Vec<Lattice>, Refusal> {
    let flows: Vec<Flow> = members.iter().map(|m| m.flow.clone()).collect();
    let mut ws: Vec<Work> = members.iter().map(|m| Work::prepared(m, k)).collect();
    let late = || deadline.is_some_and(|d| std::time::Instant::now() > d);
    loop {
        for w in &mut ws {
            w.secondary(deadline)?;
        }
        if late() {
            return Err(Refusal::OutOfTime);
        }
        let hides = family_hides(&ws, &flows);
        if hides.is_empty() {
            break;
        }
        for (i, at) in hides {
            ws[i].hide(at, Visibility::Measures);
        }
    }
    if ws.iter().any(|w| w.stuck.get()) {
        return Err(Refusal::Revealing);
    }
    Ok(ws.into_iter().map(Work::into_lattice).collect())
}

const P: u64 = (1 << 61) - 1;

fn mul(a: u64, b: u64) -> u64 {
    ((u128::from(a) * u128::from(b)) % u128::from(P)) as u64
}

fn inverse(a: u64) -> u64 {
    let (mut base, mut e, mut out) = (a, P - 2, 1u64);
    while e > 0 {
        if e & 1 == 1 {
            out = mul(out, base);
        }
        base = mul(base, base);
        e >>= 1;
    }
    out
}

/// Sparse rows in echelon form over GF(p): pivot column → row with pivot entry 1.
#[derive(Default)]
struct Span {
    rows: BTreeMap<usize, BTreeMap<usize, u64>>,
}

impl Span {
    fn reduce(&self, mut row: BTreeMap<usize, u64>) -> BTreeMap<usize, u64> {
        while let Some((c, v)) = row
            .iter()
            .find(|(c, _)| self.rows.contains_key(*c))
            .map(|(c, v)| (*c, *v))
        {
            for (&j, &w) in &self.rows[&c] {
                let e = row.entry(j).or_insert(0);
                *e = (*e + P - mul(v, w)) % P;
            }
            row.retain(|_, v| *v != 0);
        }
        row
    }

    fn insert(&mut self, row: BTreeMap<usize, u64>) {
        let row = self.reduce(row);
        if let Some((&c, &v)) = row.iter().next() {
            let i = inverse(v);
            self.rows
                .insert(c, row.into_iter().map(|(j, w)| (j, mul(w, i))).collect());
        }
    }
}

/// A mentorship's profile: geography unit, and the years requested, started, ended.
type Profile = (usize, i32, Option<i32>, Option<i32>);

/// A cell of a member: (member, table, index).
type MemberCell = (usize, usize, usize);

/// The profile attacker's model: the profiles no shown zero rules out, each with the cells
/// it falls into, and each cell's profiles (its row: profile → 1).
struct Model {
    cells_of: Vec<Vec<MemberCell>>,
    rows: HashMap<MemberCell, BTreeMap<usize, u64>>,
}

fn model(ws: &[Work], flows: &[Flow]) -> Option<Model> {
    let year = |s: &str| s.get(..4).and_then(|y| y.parse::<i32>().ok());
    // Geography units (at the finest level) and the years the flows and stocks cover.
    let mut units: BTreeSet<String> = BTreeSet::new();
    let mut geo_level = 0u8;
    let mut years: BTreeSet<i32> = BTreeSet::new();
    for (w, flow) in ws.iter().zip(flows) {
        let g = w.axes.iter().position(|a| *a == Axis::Geo)?;
        let p = w.axes.iter().position(|a| *a == Axis::Period);
        let Some(top) = w
            .levels
            .iter()
            .max_by_key(|l| l.iter().map(|x| u32::from(*x)).sum::<u32>())
        else {
            continue;
        };
        let t = w.levels.iter().position(|l| l == top).unwrap_or_default();
        geo_level = geo_level.max(top[g]);
        for key in &w.keys[t] {
            units.insert(key[g].clone());
            if let Some(y) = p.filter(|p| top[*p] > 0).and_then(|p| year(&key[p])) {
                years.insert(y);
            }
        }
        if let Flow::ActiveAtYearEnd(y) = flow {
            years.extend(year(y));
        }
    }
    let (Some(&first), Some(&last)) = (years.iter().next(), years.iter().next_back()) else {
        return None;
    };
    let units: Vec<String> = units.into_iter().collect();
    let index: Vec<Vec<HashMap<&Key, usize>>> = ws
        .iter()
        .map(|w| {
            w.keys
                .iter()
                .map(|ks| ks.iter().enumerate().map(|(c, k)| (k, c)).collect())
                .collect()
        })
        .collect();
    // The cell of member `i`'s table `t` a profile falls into: None if the measure does
    // not count it, Some(None) if that cell is absent or counts nothing (a shown zero).
    let cell_of = |i: usize, t: usize, p: &Profile| -> Option<Option<usize>> {
        let w = &ws[i];
        let levels = &w.levels[t];
        let (u, q, s, e) = *p;
        let counted_in = match &flows[i] {
            Flow::Requested => Some(q),
            Flow::Started => s,
            Flow::Ended => e,
            Flow::ActiveAtYearEnd(y) => {
                let y = year(y)?;
                if s.is_some_and(|s| s <= y) && e.is_none_or(|e| e > y) {
                    Some(y)
                } else {
                    None
                }
            }
        }?;
        let key: Key = w
            .axes
            .iter()
            .enumerate()
            .map(|(a, axis)| match axis {
                Axis::Geo => Axis::Geo.coarsen(&units[u], geo_level, levels[a]),
                Axis::Period if levels[a] > 0 => counted_in.to_string(),
                _ => String::new(),
            })
            .collect();
        // A cell that counts nothing is not published: the caller sees a shown zero.
        Some(
            index[i][t]
                .get(&key)
                .copied()
                .filter(|c| w.counts[t][*c] != 0),
        )
    };
    // The profiles no shown zero rules out, and the cells each falls into.
    let mut cells_of: Vec<Vec<(usize, usize, usize)>> = Vec::new();
    for u in 0..units.len() {
        for q in first..=last {
            let starts = std::iter::once(None).chain((q..=last).map(Some));
            for s in starts {
                let ends = std::iter::once(None).chain((s.unwrap_or(q)..=last).map(Some));
                'profile: for e in ends {
                    let p = (u, q, s, e);
                    let mut cells = Vec::new();
                    for (i, w) in ws.iter().enumerate() {
                        for t in 0..w.levels.len() {
                            match cell_of(i, t, &p) {
                                None => {}
                                Some(None) => continue 'profile,
                                Some(Some(c)) => cells.push((i, t, c)),
                            }
                        }
                    }
                    cells_of.push(cells);
                }
            }
        }
    }
    let mut rows: HashMap<MemberCell, BTreeMap<usize, u64>> = HashMap::new();
    for (j, cells) in cells_of.iter().enumerate() {
        for cell in cells {
            rows.entry(*cell).or_default().insert(j, 1);
        }
    }
    Some(Model { cells_of, rows })
}

/// For each hidden cell the profile attacker recovers, one shown cell to hide (of a member
/// and table whose cell shares a profile with it: the finest table first, then the
/// smallest count).
fn family_hides(ws: &[Work], flows: &[Flow]) -> Vec<(usize, At)> {
    let Some(Model { cells_of, rows }) = model(ws, flows) else {
        return Vec::new();
    };
    let mut span = Span::default();
    let mut hidden = Vec::new();
    let mut ordered: Vec<_> = rows.iter().collect();
    ordered.sort_by_key(|(cell, _)| **cell);
    for (&(i, t, c), row) in ordered {
        if ws[i].hidden((t, c)) {
            hidden.push((i, t, c));
        } else {
            span.insert(row.clone());
        }
    }
    let level_sum =
        |i: usize, t: usize| -> u32 { ws[i].levels[t].iter().map(|x| u32::from(*x)).sum() };
    let mut out: Vec<(usize, At)> = Vec::new();
    for h in hidden {
        let Some(row) = rows.get(&h) else { continue };
        if !span.reduce(row.clone()).is_empty() {
            continue;
        }
        let best = row
            .keys()
            .flat_map(|j| cells_of[*j].iter().copied())
            .filter(|&(i, t, c)| ws[i].hideable((t, c)))
            .min_by_key(|&(i, t, c)| {
                (
                    std::cmp::Reverse(level_sum(i, t)),
                    ws[i].counts[t][c],
                    i,
                    ws[i].keys[t][c].clone(),
                )
            });
        if let Some((i, t, c)) = best {
            if !out.contains(&(i, (t, c))) {
                out.push((i, (t, c)));
            }
        }
    }
    out
}
