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
//! any member is given away. The same attacker also solves linear programmes over the
//! profiles (profiles ≥ 0): once nothing is given away exactly, every hidden cell's interval
//! must stay as wide as its member's [`Ranges`] ask, or one more cell is hidden (reason
//! `protects_interval`). Each member is protected on its own as well, by its lines, its
//! joint check and its own LP check.

use super::interval::{Known, Row, narrow_targets};
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
    pub finest: Unprotected,
    pub bound: HashSet<CellId>,
    pub breakdown: Unprotected,
    pub owners: Unprotected,
    /// The statuses of cells of coarser tables fixed by their own lattices.
    pub fixed: HashMap<CellId, Visibility>,
    /// How wide an LP attacker's interval for each hidden cell must stay.
    pub ranges: Ranges,
}

/// Protects the members together: each on its own (primary, lines, joint check, insiders,
/// earlier releases) and then against the profile attacker, hiding one more cell for each
/// hidden cell the attacker would recover, or (then) narrow with LPs, until it does neither
/// (refused when a cell stays recovered or narrow with nothing left to hide). Members must have a
/// geography axis; flows may add a period axis by year.
pub fn protect_family(
    members: Vec<Member>,
    k: i64,
    deadline: Option<std::time::Instant>,
) -> Result<Vec<Lattice>, Refusal> {
    let flows: Vec<Flow> = members.iter().map(|m| m.flow.clone()).collect();
    let mut ws: Vec<Work> = members.iter().map(|m| Work::prepared(m, k)).collect();
    let late = || deadline.is_some_and(|d| std::time::Instant::now() > d);
    let mut pool = Vec::new();
    // A member is protected on its own again only when the family hid one of its cells (its
    // own check depends on nothing else).
    let mut changed = vec![true; ws.len()];
    loop {
        for (w, changed) in ws.iter_mut().zip(&mut changed) {
            if std::mem::take(changed) {
                w.secondary(deadline)?;
            }
        }
        if late() {
            return Err(Refusal::OutOfTime);
        }
        let Some(model) = model(&ws, &flows) else {
            break;
        };
        let mut why = Visibility::Measures;
        let mut hides = family_hides(&ws, &model)?;
        if hides.is_empty() {
            why = Visibility::Interval;
            hides = family_interval_hides(&ws, &model, &mut pool, deadline)??;
        }
        if hides.is_empty() {
            break;
        }
        for (i, at) in hides {
            ws[i].hide(at, why);
            changed[i] = true;
        }
    }
    if ws.iter().any(|w| w.stuck.get()) {
        return Err(Refusal::Revealing);
    }
    Ok(ws.into_iter().map(Work::into_lattice).collect())
}

use super::modular::{P, inverse, mul};

type Sparse = BTreeMap<usize, u64>;

/// `into` −= `v` · `from`.
fn subtract(into: &mut Sparse, v: u64, from: &Sparse) {
    for (&j, &w) in from {
        let e = into.entry(j).or_insert(0);
        *e = (*e + P - mul(v, w)) % P;
    }
    into.retain(|_, x| *x != 0);
}

/// Sparse rows in echelon form over GF(p): pivot column → row with pivot entry 1 and, when
/// the rows are inserted with ids, which inserted rows it combines.
#[derive(Default, Clone)]
struct Span {
    rows: BTreeMap<usize, (Sparse, Sparse)>,
    /// Inserted rows that take part in a sum of inserted rows that is zero: without one of
    /// them, the others still span the same.
    redundant: HashSet<usize>,
}

impl Span {
    /// What is left of `row` outside the span, and (when `track`) the inserted rows taken
    /// off it.
    fn reduce(&self, row: Sparse) -> Sparse {
        self.reduce_tracked(row, Sparse::new(), false).0
    }

    fn reduce_tracked(&self, mut row: Sparse, mut taken: Sparse, track: bool) -> (Sparse, Sparse) {
        while let Some((c, v)) = row
            .iter()
            .find(|(c, _)| self.rows.contains_key(*c))
            .map(|(c, v)| (*c, *v))
        {
            let (basis, combines) = &self.rows[&c];
            subtract(&mut row, v, basis);
            if track {
                subtract(&mut taken, v, combines);
            }
        }
        (row, taken)
    }

    /// Adds a row (with an id, so that [`Span::essential`] can name it: then every row
    /// needs one); false if it was in the span already.
    fn insert(&mut self, row: Sparse, id: Option<usize>) -> bool {
        let taken = id.map(|i| Sparse::from([(i, 1)])).unwrap_or_default();
        let (row, taken) = self.reduce_tracked(row, taken, id.is_some());
        let Some((&c, &v)) = row.iter().next() else {
            self.redundant.extend(taken.keys());
            return false;
        };
        let i = inverse(v);
        let scale = |r: Sparse| -> Sparse { r.into_iter().map(|(j, w)| (j, mul(w, i))).collect() };
        self.rows.insert(c, (scale(row), scale(taken)));
        true
    }

    /// When `row` lies in the span: the inserted rows without any one of which it would not
    /// (those of one way to sum it that take part in no zero sum: every way to sum it takes
    /// each of them, with the same factor).
    fn essential(&self, row: Sparse) -> Option<Vec<usize>> {
        let (rest, taken) = self.reduce_tracked(row, Sparse::new(), true);
        rest.is_empty().then(|| {
            taken
                .into_keys()
                .filter(|id| !self.redundant.contains(id))
                .collect()
        })
    }
}

/// A mentorship's profile: geography unit, the years requested, started, ended, and (when
/// a member is read by status) the status those dates allow.
type Profile = (usize, i32, Option<i32>, Option<i32>, Option<&'static str>);

/// The statuses a mentorship can have by whether it has started and whether it has ended
/// (the status machine and the dates each status needs: a cancelled one never started).
fn statuses(started: bool, ended: bool) -> &'static [crate::mentorship::MentorshipStatus] {
    use crate::mentorship::MentorshipStatus::*;
    match (started, ended) {
        (false, false) => &[Requested, Matched],
        (true, false) => &[Active, Paused],
        (true, true) => &[Ended],
        (false, true) => &[Cancelled],
    }
}

/// A cell of a member: (member, table, index).
type MemberCell = (usize, usize, usize);

/// The profile attacker's model: the profiles no shown zero rules out, each with the cells
/// it falls into, and each cell's profiles (its row: profile → 1).
struct Model {
    cells_of: Vec<Vec<MemberCell>>,
    rows: HashMap<MemberCell, BTreeMap<usize, u64>>,
    /// The tables (member, table) whose cells are hidden for the family's sake only when
    /// nothing else would do: the mentorships by state and in all, the figures every reader
    /// looks for first (and the margins every other table of mentorships by state keeps).
    kept: HashSet<(usize, usize)>,
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
        let (u, q, s, e, status) = *p;
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
                Axis::Status if levels[a] > 0 => status.unwrap_or_default().to_owned(),
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
    let by_status = ws.iter().any(|w| w.axes.contains(&Axis::Status));
    let mut cells_of: Vec<Vec<(usize, usize, usize)>> = Vec::new();
    for u in 0..units.len() {
        for q in first..=last {
            let starts = std::iter::once(None).chain((q..=last).map(Some));
            for s in starts {
                let ends = std::iter::once(None).chain((s.unwrap_or(q)..=last).map(Some));
                for e in ends {
                    let split: Vec<Option<&'static str>> = if by_status {
                        statuses(s.is_some(), e.is_some())
                            .iter()
                            .map(|x| Some(x.as_str()))
                            .collect()
                    } else {
                        vec![None]
                    };
                    'profile: for status in split {
                        let p = (u, q, s, e, status);
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
    }
    let mut rows: HashMap<MemberCell, BTreeMap<usize, u64>> = HashMap::new();
    for (j, cells) in cells_of.iter().enumerate() {
        for cell in cells {
            rows.entry(*cell).or_default().insert(j, 1);
        }
    }
    let kept = ws
        .iter()
        .zip(flows)
        .enumerate()
        .filter(|(_, (_, f))| **f == Flow::Requested)
        .flat_map(|(i, (w, _))| {
            w.levels.iter().enumerate().filter_map(move |(t, levels)| {
                w.axes
                    .iter()
                    .zip(levels)
                    .all(|(a, l)| *a == Axis::Geo || *l == 0)
                    .then_some((i, t))
            })
        })
        .collect();
    Some(Model {
        cells_of,
        rows,
        kept,
    })
}

/// A shown cell to hide so that the hidden cell with profiles `row` gains room: of a member
/// and table whose cell shares a profile with it (and that `known` does not rule out: a
/// cell an insider knows does not hide anything from it), the best by [`preference`].
fn lender(
    ws: &[Work],
    model: &Model,
    row: &BTreeMap<usize, u64>,
    room: i64,
    known: &dyn Fn(MemberCell) -> bool,
) -> Option<(usize, At)> {
    best(
        ws,
        model,
        row.keys().flat_map(|j| model.cells_of[*j].iter().copied()),
        room,
        known,
    )
}

/// Of `cells`, the hideable one `known` does not rule out that hides least: one of a table
/// the model keeps last, then the finest table first, then a count of at least `room`, then
/// the smallest count.
fn best(
    ws: &[Work],
    model: &Model,
    cells: impl Iterator<Item = MemberCell>,
    room: i64,
    known: &dyn Fn(MemberCell) -> bool,
) -> Option<(usize, At)> {
    let level_sum =
        |i: usize, t: usize| -> u32 { ws[i].levels[t].iter().map(|x| u32::from(*x)).sum() };
    cells
        .filter(|&(i, t, c)| ws[i].hideable((t, c)) && !known((i, t, c)))
        .min_by_key(|&(i, t, c)| {
            (
                model.kept.contains(&(i, t)),
                std::cmp::Reverse(level_sum(i, t)),
                ws[i].counts[t][c] < room,
                ws[i].counts[t][c],
                i,
                ws[i].keys[t][c].clone(),
            )
        })
        .map(|(i, t, c)| (i, (t, c)))
}

/// Whether the cell lies wholly inside the insider's subtree or records (coordinators and
/// organisations, named as in each member's units).
fn inside(ws: &[Work], (i, t, c): MemberCell, unit: &str) -> bool {
    let w = &ws[i];
    w.parts.get(t).and_then(|p| p.get(c)).is_some_and(|p| {
        p.iter()
            .any(|(u, n)| *n == w.counts[t][c] && w.units.get(*u).is_some_and(|x| x == unit))
    })
}

/// The cells of the model in a fixed order, split into the shown (with their rows) and the
/// hidden.
fn split(ws: &[Work], model: &Model) -> (Vec<MemberCell>, Vec<MemberCell>) {
    let mut ordered: Vec<MemberCell> = model.rows.keys().copied().collect();
    ordered.sort();
    ordered
        .into_iter()
        .partition(|&(i, t, c)| !ws[i].hidden((t, c)))
}

/// For each hidden cell the profile attacker recovers, one shown cell to hide. The attacker
/// is the ministry (every shown cell) and then each coordinator, which also knows the hidden
/// cells lying wholly inside its subtree: it must not recover any other hidden cell either.
/// The cell to hide is one that every way of summing the recovered cell takes (so hiding it
/// takes the cell out of the attacker's reach), if there is one; else one that shares a
/// mentorship profile with it (and the next round looks again).
/// `Err` when a recovered cell has nothing left to hide.
fn family_hides(ws: &[Work], model: &Model) -> Result<Vec<(usize, At)>, Refusal> {
    let (shown, hidden) = split(ws, model);
    let mut span = Span::default();
    for cell in &shown {
        span.insert(model.rows[cell].clone(), None);
    }
    // What is left of each hidden cell's row outside the span of the shown ones: the
    // ministry recovers the cells with nothing left, an insider those whose rest lies in the
    // span of the rests of the cells it knows.
    let rest: HashMap<MemberCell, Sparse> = hidden
        .iter()
        .map(|h| (*h, span.reduce(model.rows[h].clone())))
        .collect();
    // The cells to hide for the `recovered` cells of an attacker who knows `shown` and
    // `extra` (their rows are taken again with ids, to find the cells every way of summing
    // a recovered one needs).
    let hides = |recovered: Vec<MemberCell>,
                 extra: &[MemberCell],
                 known: &dyn Fn(MemberCell) -> bool|
     -> Result<Vec<(usize, At)>, Refusal> {
        if recovered.is_empty() {
            return Ok(Vec::new());
        }
        let mut tracked = Span::default();
        for (id, cell) in shown.iter().chain(extra).enumerate() {
            tracked.insert(model.rows[cell].clone(), Some(id));
        }
        let mut out: Vec<(usize, At)> = Vec::new();
        for h in recovered {
            let row = &model.rows[&h];
            let cells = tracked
                .essential(row.clone())
                .unwrap_or_default()
                .into_iter()
                .filter_map(|id| shown.get(id).copied());
            match best(ws, model, cells, 0, known).or_else(|| lender(ws, model, row, 0, known)) {
                Some(best) if !out.contains(&best) => out.push(best),
                Some(_) => {}
                None => return Err(Refusal::Revealing),
            }
        }
        Ok(out)
    };
    let recovered = hidden
        .iter()
        .copied()
        .filter(|h| rest[h].is_empty())
        .collect();
    let out = hides(recovered, &[], &|_| false)?;
    if !out.is_empty() {
        return Ok(out);
    }
    // The coordinators who know a hidden cell (only their knowledge adds to the ministry's;
    // organisations are checked on each member's own lattice).
    let mut knows: BTreeMap<&str, Vec<MemberCell>> = BTreeMap::new();
    for &(i, t, c) in &hidden {
        let w = &ws[i];
        for (u, n) in w.parts.get(t).and_then(|p| p.get(c)).into_iter().flatten() {
            if *n == w.counts[t][c]
                && let Some(unit) = w.units.get(*u)
                && !unit.starts_with(ORGANISATION)
            {
                knows.entry(unit.as_str()).or_default().push((i, t, c));
            }
        }
    }
    // A coordinator who knows no more than another (a region's coordinator beside its
    // state's, at the state level the family is read at) recovers no more than it.
    let dominated = |unit: &str, cells: &[MemberCell]| {
        knows.iter().any(|(other, theirs)| {
            *other != unit
                && theirs.len() >= cells.len()
                && cells.iter().all(|c| theirs.contains(c))
                && (theirs.len() > cells.len() || *other < unit)
        })
    };
    let mut out = Vec::new();
    for (unit, cells) in &knows {
        if dominated(unit, cells) {
            continue;
        }
        let mut theirs = Span::default();
        for cell in cells {
            theirs.insert(rest[cell].clone(), None);
        }
        let recovered = hidden
            .iter()
            .copied()
            .filter(|h| !cells.contains(h) && theirs.reduce(rest[h].clone()).is_empty())
            .collect();
        for best in hides(recovered, cells, &|cell| inside(ws, cell, unit))? {
            if !out.contains(&best) {
                out.push(best);
            }
        }
    }
    Ok(out)
}

/// How many hidden cells of a family get LPs of their own (each some tens of milliseconds
/// on the demo); a cell still narrow beyond that gets one more cell hidden, on the safe
/// side.
const FAMILY_FULL_LPS: usize = 4;

/// The LPs that push all unmet cells in mixed directions stop after this many in a row
/// that met none more.
const MIXED_IN_VAIN: usize = 1;

/// At most this many feasible points are kept between rounds.
const POOL: usize = 256;

/// Interval protection across the measures: the LP attacker over the profiles (every shown
/// cell of every member an equation, profiles ≥ 0) must leave each hidden cell the interval
/// its member's ranges ask. Profiles that no shown equation tells apart are one unknown to
/// the attacker (it can split their sum among them at will), so the LPs run over those
/// groups, and a hidden cell's value lies between the sum of the groups wholly inside it
/// and that of the groups it touches. Feasible points of the attacker's system widen what
/// is known of every hidden cell: first those of earlier rounds (`pool`, kept per profile;
/// hiding more only removes equations, so they stay feasible), then the LPs that push all
/// unmet cells at once (all up, all down, then in mixed directions), and last, for at most
/// [`FAMILY_FULL_LPS`] cells, LPs of their own. The equations are first reduced to
/// independent ones (exactly, as the exact check does). For each cell still narrow, one
/// shown cell to hide (a cell whose profiles meet one already chosen waits for the next
/// round); `Err` when a narrow cell has nothing left to hide.
fn family_interval_hides(
    ws: &[Work],
    model: &Model,
    pool: &mut Vec<Vec<f64>>,
    deadline: Option<std::time::Instant>,
) -> Result<Result<Vec<(usize, At)>, Refusal>, OutOfTime> {
    let n = model.cells_of.len();
    let (shown, hidden) = split(ws, model);
    if hidden.is_empty() {
        return Ok(Ok(Vec::new()));
    }
    // Only equations that the others do not imply (the rest hold at every point the
    // independent ones allow, the counts being consistent): a smaller LP, the same attacker.
    let mut span = Span::default();
    let equations: Vec<(&BTreeMap<usize, u64>, f64)> = shown
        .iter()
        .filter(|cell| span.insert(model.rows[*cell].clone(), None))
        .map(|&(i, t, c)| (&model.rows[&(i, t, c)], ws[i].counts[t][c] as f64))
        .collect();
    // The groups: profiles in the same shown equations (none: free, bounded by nothing).
    let mut signature: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (e, (row, _)) in equations.iter().enumerate() {
        for j in row.keys() {
            signature[*j].push(e);
        }
    }
    let mut group_of: Vec<Option<usize>> = vec![None; n];
    let mut members: Vec<Vec<usize>> = Vec::new();
    let mut by_signature: HashMap<&[usize], usize> = HashMap::new();
    for (j, sig) in signature.iter().enumerate() {
        if sig.is_empty() {
            continue;
        }
        let g = *by_signature.entry(sig.as_slice()).or_insert_with(|| {
            members.push(Vec::new());
            members.len() - 1
        });
        members[g].push(j);
        group_of[j] = Some(g);
    }
    let m = members.len();
    let rows: Vec<Row> = equations
        .iter()
        .map(|(row, count)| {
            let groups: BTreeSet<usize> = row.keys().filter_map(|j| group_of[*j]).collect();
            (groups.into_iter().map(|g| (g, 1.0)).collect(), *count)
        })
        .collect();
    // Each hidden cell: the groups inside it and those it touches; one touching a free
    // profile is unbounded above.
    let mut free = Vec::new();
    let targets: Vec<(Vec<usize>, Vec<usize>)> = hidden
        .iter()
        .enumerate()
        .map(|(h, cell)| {
            let row = &model.rows[cell];
            if row.keys().any(|j| group_of[*j].is_none()) {
                free.push(h);
            }
            let touching: BTreeSet<usize> = row.keys().filter_map(|j| group_of[*j]).collect();
            let inside = touching
                .iter()
                .copied()
                .filter(|g| members[*g].iter().all(|j| row.contains_key(j)))
                .collect();
            (inside, touching.into_iter().collect())
        })
        .collect();
    let truth: Vec<i64> = hidden.iter().map(|&(i, t, c)| ws[i].counts[t][c]).collect();
    let needs: Vec<Need> = hidden
        .iter()
        .map(|&(i, t, c)| ws[i].ranges.need(ws[i].vis[t][c], ws[i].counts[t][c]))
        .collect();
    let mut known = Known::new(&targets, &truth, &needs);
    for h in free {
        known.unbounded(h);
    }
    // Points per profile ↔ per group: a group's value goes to its first profile.
    let to_groups = |point: &[f64]| -> Vec<f64> {
        let mut out = vec![0.0; m];
        for (j, g) in group_of.iter().enumerate() {
            if let Some(g) = g {
                out[*g] += point[j];
            }
        }
        out
    };
    let to_profiles = |point: &[f64]| -> Vec<f64> {
        let mut out = vec![0.0; n];
        for (g, js) in members.iter().enumerate() {
            out[js[0]] = point[g];
        }
        out
    };
    pool.retain(|p| p.len() == n);
    for point in pool.iter() {
        known.widen(&to_groups(point));
    }
    let mut fresh: Vec<Vec<f64>> = known.all_at_once(m, &rows);
    fresh.extend(known.mixed(m, &rows, MIXED_IN_VAIN));
    let mut order: Vec<usize> = (0..hidden.len()).collect();
    order.sort_by_key(|h| {
        let (i, t, c) = hidden[*h];
        (ws[i].vis[t][c] != Visibility::Primary, i, t, c)
    });
    let narrow = narrow_targets(
        m,
        &rows,
        &mut known,
        &order,
        false,
        FAMILY_FULL_LPS,
        deadline,
        &mut fresh,
    )?;
    pool.extend(fresh.iter().map(|p| to_profiles(p)));
    pool.truncate(POOL);
    let mut out: Vec<(usize, At)> = Vec::new();
    let mut touched: HashSet<usize> = HashSet::new();
    for h in narrow {
        let row = &model.rows[&hidden[h]];
        if row.keys().any(|j| touched.contains(j)) {
            continue;
        }
        let (i, _, _) = hidden[h];
        match lender(ws, model, row, ws[i].ranges.room(needs[h]), &|_| false) {
            Some(best) => {
                let (bi, (bt, bc)) = best;
                touched.extend(model.rows[&(bi, bt, bc)].keys().copied());
                touched.extend(row.keys().copied());
                out.push(best);
            }
            None => return Ok(Err(Refusal::Revealing)),
        }
    }
    Ok(Ok(out))
}
