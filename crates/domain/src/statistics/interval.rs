//! Interval protection: an attacker who knows every shown cell and total of a lattice, knows
//! that counts are whole numbers and never negative, and solves linear programmes, learns
//! for each hidden cell the interval [low, high] of the values it can still have. A hidden
//! cell is protected when that interval stays wide ([`Ranges`]): for a primary cell of value
//! v, low ≤ max(0, v − primary) and high ≥ v + primary; for any other hidden cell,
//! high − low ≥ max(secondary_min, secondary_percent % of v). These are the rules of
//! τ-ARGUS's protection levels, with the defaults of the German statistical offices' practice
//! (3 either side; 5, or 10 %).
//!
//! [`Work::interval_hides`] runs once the exact checks hold: per connected component of the
//! attacker's system it solves, for each hidden cell, the LPs that maximise and minimise it
//! (an LP's optimal point also bounds every other cell of the component, so most cells need
//! no LP of their own) and, for the first cell whose interval is too narrow, hides one more
//! shown cell of its lines. [`interval_audit`] is the attacker on its own, for tests.

use super::*;
use microlp::{ComparisonOp, LinearExpr, OptimizationDirection, Problem, SolveOutcome};

/// How wide the LP attacker's interval for a hidden cell must stay. Setting all three to 0
/// turns interval protection off (the exact checks remain).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Ranges {
    /// A primary cell of value v: the interval holds [max(0, v − primary), v + primary].
    pub primary: i64,
    /// A secondary cell of value v: the interval is at least max(secondary_min,
    /// secondary_percent % of v) wide.
    pub secondary_min: i64,
    pub secondary_percent: i64,
}

impl Default for Ranges {
    fn default() -> Self {
        Ranges {
            primary: 3,
            secondary_min: 5,
            secondary_percent: 10,
        }
    }
}

/// What an attacker's interval for one hidden cell must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// low ≤ `low` and high ≥ `high`.
    Around { low: i64, high: i64 },
    /// high − low ≥ this.
    Width(i64),
}

impl Ranges {
    /// What the interval of a hidden cell with this status and value must hold.
    pub fn need(&self, visibility: Visibility, value: i64) -> Need {
        if visibility == Visibility::Primary {
            Need::Around {
                low: (value - self.primary).max(0),
                high: value + self.primary,
            }
        } else {
            // 10 % of v, rounded up.
            let share = (value * self.secondary_percent + 99) / 100;
            Need::Width(self.secondary_min.max(share))
        }
    }

    /// The least a shown cell should hold to lend a hidden cell the room it needs.
    pub(super) fn room(&self, need: Need) -> i64 {
        match need {
            Need::Around { .. } => self.primary.max(1),
            Need::Width(w) => w.max(1),
        }
    }
}

impl Need {
    /// Whether an interval [low, high] (whole numbers; `None` above: unbounded) holds it.
    pub fn held_by(self, low: i64, high: Option<i64>) -> bool {
        match self {
            Need::Around { low: l, high: h } => low <= l && high.is_none_or(|x| x >= h),
            Need::Width(w) => high.is_none_or(|x| x - low >= w),
        }
    }
}

/// One equation over unknowns: Σ coefficient · x = rhs.
pub(super) type Row = (Vec<(usize, f64)>, f64);

/// The optimum of `objective` · x over x ≥ 0 with `rows`: `Ok(Some(point))`, `Ok(None)`
/// when unbounded, `Err(())` when the solver gives no answer (counted as a narrow interval).
pub(super) fn optimum(
    n: usize,
    rows: &[Row],
    objective: &[usize],
    maximise: bool,
) -> Result<Option<Vec<f64>>, ()> {
    let mut cost = vec![0.0; n];
    for v in objective {
        cost[*v] += 1.0;
    }
    optimum_of(rows, &cost, maximise)
}

/// The optimum of `cost` · x over x ≥ 0 with `rows`, as [`optimum`].
fn optimum_of(rows: &[Row], cost: &[f64], maximise: bool) -> Result<Option<Vec<f64>>, ()> {
    let mut p = Problem::new(if maximise {
        OptimizationDirection::Maximize
    } else {
        OptimizationDirection::Minimize
    });
    let vars: Vec<microlp::Variable> = cost
        .iter()
        .map(|c| p.add_var(*c, (0.0, f64::INFINITY)))
        .collect();
    for (coefficients, rhs) in rows {
        let mut e = LinearExpr::empty();
        for (v, c) in coefficients {
            e.add(vars[*v], *c);
        }
        p.add_constraint(e, ComparisonOp::Eq, *rhs);
    }
    match p.solve() {
        Ok(SolveOutcome::Solution(s)) => Ok(Some(vars.iter().map(|v| s.var_value(*v)).collect())),
        Err(microlp::Error::Unbounded) => Ok(None),
        _ => Err(()),
    }
}

/// A whole-number bound from an LP value (the attacker rounds inwards; a small tolerance
/// absorbs the solver's round-off).
fn floor(x: f64) -> i64 {
    (x + 1e-6).floor() as i64
}

fn ceil(x: f64) -> i64 {
    (x - 1e-6).ceil() as i64
}

/// What the attacker is known to reach of each target: a target is a hidden cell's value,
/// at least the sum of its first list of unknowns and at most that of its second (the same
/// list when the unknowns are cells; a model whose unknowns are groups of records lists the
/// groups wholly and partly inside the cell). Every feasible point of the attacker's system
/// widens the interval of every target, starting from the real values (a feasible point).
pub(super) struct Known<'a> {
    targets: &'a [(Vec<usize>, Vec<usize>)],
    needs: &'a [Need],
    low: Vec<i64>,
    high: Vec<Option<i64>>,
}

impl<'a> Known<'a> {
    pub(super) fn new(
        targets: &'a [(Vec<usize>, Vec<usize>)],
        truth: &[i64],
        needs: &'a [Need],
    ) -> Self {
        Known {
            targets,
            needs,
            low: truth.to_vec(),
            high: truth.iter().map(|v| Some(*v)).collect(),
        }
    }

    /// Widens every target's interval by a feasible point of the attacker's system.
    pub(super) fn widen(&mut self, point: &[f64]) {
        for (i, (inside, touching)) in self.targets.iter().enumerate() {
            let least: f64 = inside.iter().map(|v| point[*v]).sum();
            let most: f64 = touching.iter().map(|v| point[*v]).sum();
            self.low[i] = self.low[i].min(ceil(least));
            self.high[i] = self.high[i].map(|h| h.max(floor(most)));
        }
    }

    /// Target `i` is known to have no upper bound.
    pub(super) fn unbounded(&mut self, i: usize) {
        self.high[i] = None;
    }

    pub(super) fn held(&self, i: usize) -> bool {
        self.needs[i].held_by(self.low[i], self.high[i])
    }

    /// The objective that pushes target `i` up (`maximise`) or down.
    pub(super) fn objective(&self, i: usize, maximise: bool) -> &'a [usize] {
        if maximise {
            &self.targets[i].1
        } else {
            &self.targets[i].0
        }
    }

    /// Solves the LPs over `n` unknowns x ≥ 0 with `rows` that push all unmet targets at
    /// once, up and down, and widens by their points (returned: feasible points to reuse).
    pub(super) fn all_at_once(&mut self, n: usize, rows: &[Row]) -> Vec<Vec<f64>> {
        let mut points = Vec::new();
        for maximise in [true, false] {
            let objective: Vec<usize> = (0..self.targets.len())
                .filter(|i| !self.held(*i))
                .flat_map(|i| self.objective(i, maximise).to_vec())
                .collect();
            if objective.is_empty() {
                break;
            }
            if let Ok(Some(point)) = optimum(n, rows, &objective, maximise) {
                self.widen(&point);
                points.push(point);
            }
        }
        points
    }

    /// Solves LPs that each push every unmet target up or down at once (which way by a
    /// fixed scramble of the target and the round, so that neighbours in a line are pushed
    /// apart as often as together), and widens by their points (returned), until
    /// `in_vain` LPs in a row met no target more.
    pub(super) fn mixed(&mut self, n: usize, rows: &[Row], in_vain: usize) -> Vec<Vec<f64>> {
        let mut points = Vec::new();
        let (mut round, mut idle) = (0u64, 0);
        while idle < in_vain {
            round += 1;
            let before = self.unmet();
            let mut cost = vec![0.0; n];
            let mut any = false;
            for i in (0..self.targets.len()).filter(|i| !self.held(*i)) {
                any = true;
                // SplitMix64 of (target, round): deterministic, well mixed.
                let mut z = (i as u64) ^ round.wrapping_mul(0x9E37_79B9_7F4A_7C15);
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                let up = (z ^ (z >> 31)) & 1 == 1;
                for v in self.objective(i, up) {
                    cost[*v] += if up { 1.0 } else { -1.0 };
                }
            }
            if !any {
                break;
            }
            if let Ok(Some(point)) = optimum_of(rows, &cost, true) {
                self.widen(&point);
                points.push(point);
            }
            idle = if self.unmet() < before { 0 } else { idle + 1 };
        }
        points
    }

    /// How many targets are not yet held.
    pub(super) fn unmet(&self) -> usize {
        (0..self.targets.len()).filter(|i| !self.held(*i)).count()
    }
}

/// The targets (in `order`) whose interval does not hold its need, over `n` unknowns x ≥ 0
/// with `rows` (all of them, or only the first when `first`), once `known` holds what
/// cheaper points gave (e.g. [`Known::all_at_once`]). At most `budget` targets get LPs of
/// their own, and one left unmet beyond that counts as narrow (the safe side). The LPs'
/// points are added to `found`.
#[allow(clippy::too_many_arguments)]
pub(super) fn narrow_targets(
    n: usize,
    rows: &[Row],
    known: &mut Known<'_>,
    order: &[usize],
    first: bool,
    budget: usize,
    deadline: Option<std::time::Instant>,
    found: &mut Vec<Vec<f64>>,
) -> Result<Vec<usize>, OutOfTime> {
    let mut out = Vec::new();
    let mut solved = 0;
    for &i in order {
        if known.held(i) {
            continue;
        }
        if deadline.is_some_and(|d| std::time::Instant::now() > d) {
            return Err(OutOfTime);
        }
        let mut failed = false;
        if !known.held(i) && solved < budget {
            solved += 1;
            for maximise in [true, false] {
                if known.held(i) {
                    break;
                }
                match optimum(n, rows, known.objective(i, maximise), maximise) {
                    Ok(Some(point)) => {
                        known.widen(&point);
                        found.push(point);
                    }
                    Ok(None) => known.unbounded(i),
                    Err(()) => failed = true,
                }
            }
        }
        if failed || !known.held(i) {
            out.push(i);
            if first {
                break;
            }
        }
    }
    Ok(out)
}

/// How many feasible points a table keeps for its next LP check.
const MAX_POINTS: usize = 512;

impl Work {
    /// For each connected component of the attacker's system in which some hidden cell's
    /// LP interval is narrower than its need, one shown cell to hide: of the lines of that
    /// cell (or, if all of theirs are hidden or fixed, of the lines they reach), preferring
    /// the finest table, then a count that can lend the room needed, then the smallest.
    /// Sets `stuck` when no cell is left to hide.
    pub(super) fn interval_hides(
        &self,
        deadline: Option<std::time::Instant>,
    ) -> Result<Vec<At>, OutOfTime> {
        let System {
            cells,
            eqs,
            eq_vars,
            comps,
        } = self.system(None);
        let mut out = Vec::new();
        for (vars, comp_eqs) in comps {
            if vars.len() > MAX_JOINT_UNKNOWNS {
                continue;
            }
            let col: HashMap<usize, usize> =
                vars.iter().enumerate().map(|(i, v)| (*v, i)).collect();
            let rows: Vec<Row> = comp_eqs
                .iter()
                .map(|e| {
                    let (parent, members) = &self.lines[eqs[*e]];
                    let shown = |at: &At| {
                        if self.hidden(*at) {
                            0.0
                        } else {
                            self.counts[at.0][at.1] as f64
                        }
                    };
                    let rhs = shown(parent) - members.iter().map(shown).sum::<f64>();
                    let coefficients = eq_vars[*e].iter().map(|(v, c)| (col[v], *c)).collect();
                    (coefficients, rhs)
                })
                .collect();
            let truth: Vec<i64> = vars
                .iter()
                .map(|v| self.counts[cells[*v].0][cells[*v].1])
                .collect();
            let needs: Vec<Need> = vars
                .iter()
                .map(|v| {
                    let (t, c) = cells[*v];
                    self.ranges.need(self.vis[t][c], self.counts[t][c])
                })
                .collect();
            // Primary cells first, then the rest, each by table and key: deterministic.
            let mut order: Vec<usize> = (0..vars.len()).collect();
            order.sort_by_key(|i| {
                let (t, c) = cells[vars[*i]];
                (self.vis[t][c] != Visibility::Primary, t, c)
            });
            let targets: Vec<(Vec<usize>, Vec<usize>)> =
                (0..vars.len()).map(|i| (vec![i], vec![i])).collect();
            let mut known = Known::new(&targets, &truth, &needs);
            // Earlier points first (a cell hidden since stands at its true value).
            for point in self.points.borrow().iter() {
                let at: Vec<f64> = vars
                    .iter()
                    .zip(&truth)
                    .map(|(v, t)| point.get(&cells[*v]).copied().unwrap_or(*t as f64))
                    .collect();
                known.widen(&at);
            }
            let mut found = known.all_at_once(vars.len(), &rows);
            let narrow = narrow_targets(
                vars.len(),
                &rows,
                &mut known,
                &order,
                true,
                usize::MAX,
                deadline,
                &mut found,
            )?;
            let mut points = self.points.borrow_mut();
            for point in found {
                if points.len() >= MAX_POINTS {
                    points.remove(0);
                }
                points.push(vars.iter().map(|v| cells[*v]).zip(point).collect());
            }
            drop(points);
            let Some(&narrow) = narrow.first() else {
                continue;
            };
            let room = self.ranges.room(needs[narrow]);
            let lines: Vec<usize> = comp_eqs.iter().map(|e| eqs[*e]).collect();
            match self.lender(cells[vars[narrow]], &lines, room) {
                Some(at) => out.push(at),
                None => self.stuck.set(true),
            }
        }
        Ok(out)
    }

    /// A shown cell to hide so that `at` gains room: breadth-first through `lines` from
    /// `at`, the first step that reaches a hideable cell decides; among its cells the
    /// finest table's, then one holding at least `room`, then the smallest count.
    fn lender(&self, at: At, lines: &[usize], room: i64) -> Option<At> {
        let level_sum = |t: usize| -> u32 { self.levels[t].iter().map(|x| u32::from(*x)).sum() };
        let mut reached: Vec<At> = vec![at];
        let mut seen: HashSet<At> = reached.iter().copied().collect();
        let mut used = vec![false; lines.len()];
        while !reached.is_empty() {
            let mut shown: Vec<At> = Vec::new();
            let mut next = Vec::new();
            for (i, l) in lines.iter().enumerate() {
                let (parent, members) = &self.lines[*l];
                let mut all = members.iter().chain(std::iter::once(parent));
                if used[i] || !all.clone().any(|c| reached.contains(c)) {
                    continue;
                }
                used[i] = true;
                for c in all.by_ref() {
                    if self.hidden(*c) {
                        if seen.insert(*c) {
                            next.push(*c);
                        }
                    } else if self.hideable(*c) {
                        shown.push(*c);
                    }
                }
            }
            if let Some(best) = shown.into_iter().min_by_key(|(t, c)| {
                (
                    std::cmp::Reverse(level_sum(*t)),
                    self.counts[*t][*c] < room,
                    self.counts[*t][*c],
                    self.keys[*t][*c].clone(),
                )
            }) {
                return Some(best);
            }
            reached = next;
        }
        None
    }
}

/// A hidden cell whose interval an LP attacker narrows below its need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach {
    pub levels: Levels,
    pub key: Key,
    pub value: i64,
    pub visibility: Visibility,
    /// The attacker's interval (whole numbers; `None`: unbounded above).
    pub low: i64,
    pub high: Option<i64>,
    pub need: Need,
}

/// The LP attacker on a published lattice, written as an attacker would: every equation
/// "parent = sum of its line" over all tables with the shown values substituted, the hidden
/// cells as unknowns ≥ 0; for every hidden cell, the LPs that minimise and maximise it.
/// Returns the cells whose interval is narrower than `ranges` asks (none: the lattice is
/// interval-protected). Independent of [`Work::interval_hides`]: one LP pair per cell, over
/// the whole lattice at once.
pub fn interval_audit(l: &Lattice, ranges: &Ranges) -> Vec<Breach> {
    let (unknown, equations) = equations(l);
    let rows: Vec<Row> = equations
        .iter()
        .map(|(coefficients, rhs)| {
            (
                coefficients.iter().map(|(v, c)| (*v, *c as f64)).collect(),
                *rhs as f64,
            )
        })
        .collect();
    let mut out = Vec::new();
    for (i, (levels, key)) in unknown.iter().enumerate() {
        let Some(cell) = l.cell(levels, key) else {
            continue;
        };
        let need = ranges.need(cell.visibility, cell.count);
        let (low, high) = if rows.iter().any(|(c, _)| c.iter().any(|(v, _)| *v == i)) {
            let low = match optimum(unknown.len(), &rows, &[i], false) {
                Ok(Some(p)) => ceil(p[i]),
                _ => cell.count,
            };
            let high = match optimum(unknown.len(), &rows, &[i], true) {
                Ok(Some(p)) => Some(floor(p[i])),
                Ok(None) => None,
                Err(()) => Some(cell.count),
            };
            (low, high)
        } else {
            // In no equation: nothing bounds it but 0.
            (0, None)
        };
        if !need.held_by(low, high) {
            out.push(Breach {
                levels: levels.clone(),
                key: key.clone(),
                value: cell.count,
                visibility: cell.visibility,
                low,
                high,
                need,
            });
        }
    }
    out
}

/// The LP attacker's problem for a published lattice as JSON, for an independent solver
/// (`tests/lp/verify.py`): the axes, the ranges, and every cell with its levels, key, true
/// count and the reason it is hidden (`null`: shown). The equations are left to the solver's
/// side, to be rebuilt from the keys.
pub fn attacker_problem(l: &Lattice, ranges: &Ranges) -> serde_json::Value {
    let mut cells: Vec<serde_json::Value> = l
        .tables
        .iter()
        .flat_map(|(levels, t)| {
            t.iter().map(move |(key, c)| {
                serde_json::json!({
                    "levels": levels,
                    "key": key,
                    "count": c.count,
                    "reason": c.visibility.reason(),
                })
            })
        })
        .collect();
    cells.sort_by_key(|c| c.to_string());
    serde_json::json!({
        "axes": l.axes.iter().map(|a| a.name()).collect::<Vec<_>>(),
        "ranges": ranges,
        "cells": cells,
    })
}
