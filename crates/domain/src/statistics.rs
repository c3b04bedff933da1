//! Statistics: what can be counted, by which dimensions, and the small-cell protection that
//! keeps a small number from pointing at a person.
//!
//! A statistic is a table of cells. Each cell is keyed by one value per *axis* (geography,
//! organisation kind, …, period); geography and period are hierarchies (federal → state →
//! region, year → quarter → month), the others have one level below "all". A table with an
//! axis at some level has, for that axis, a *parent* table one level up, and every cell of
//! the parent is the sum of a *line* of cells of the child. Those parents are exactly the
//! other tables a caller can ask for, so they are the totals an attacker can subtract from.
//!
//! Protection ([`protect`]) works on the lattice of a table and all its coarser tables,
//! coarsest first, so that in the common case the pattern of a table does not depend on
//! which finer table was asked for.
//! 1. primary: a cell with a count from 1 to k−1 is hidden;
//! 2. secondary, per line: a line whose parent is shown holds no hidden cell, or at least
//!    two whose sum leaves each of them its whole range 1..k−1; a line whose parent is
//!    hidden holds at least one hidden cell (or the parent is their sum);
//! 3. secondary, jointly: no hidden cell of the lattice is determined by the linear system
//!    of all lines (checked by elimination per connected component).
//!
//! Further cells are hidden, smallest first, until all three hold. A cell of the table being
//! processed is preferred; a coarser table's cell is hidden only when no cell of this table
//! can break the equation that gives a hidden value away. That fallback is the one case in
//! which a coarser table's pattern depends on the finer table asked for.

use crate::error::{Reason, ValidationErrors};
use crate::string_enum;
use chrono::{Datelike, NaiveDate};
use std::collections::{BTreeMap, HashMap};

/// The default minimum count of a shown cell, and the smallest one configuration may set.
pub const DEFAULT_K: i64 = 5;
pub const MIN_K: i64 = 3;
/// The most cells the canonical table of a protected statistic may have.
pub const MAX_PROTECTED_CELLS: usize = 20_000;
/// Components of the joint check larger than this are protected by the line rules alone.
pub const MAX_JOINT_UNKNOWNS: usize = 400;
/// The length of one segment of a network path (see [`crate::network::child_path`]).
const SEGMENT: usize = 32;

string_enum!(
    /// What is counted.
    Measure {
        Mentorships => "mentorships",
        MentorshipsStarted => "mentorships_started",
        MentorshipsEnded => "mentorships_ended",
        MentorshipsActive => "mentorships_active",
        Volunteers => "volunteers",
        Organisations => "organisations",
        Offerings => "offerings",
        Cooperations => "cooperations",
        Funding => "funding",
    }
);

string_enum!(
    /// What a statistic can be grouped by.
    Dimension {
        Level => "level",
        State => "state",
        Region => "region",
        OrganisationKind => "organisation_kind",
        ProgrammePartner => "programme_partner",
        Category => "category",
        TargetGroup => "target_group",
        Status => "status",
        EndReason => "end_reason",
        Year => "year",
        Quarter => "quarter",
        Month => "month",
    }
);

/// One independent classification of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Axis {
    /// The level of the organisation's home network (federal, state, regional).
    Level,
    /// The home network: level 1 is the state, level 2 the region.
    Geo,
    OrganisationKind,
    ProgrammePartner,
    Category,
    TargetGroup,
    Status,
    EndReason,
    /// Level 1 year, 2 quarter, 3 month.
    Period,
}

impl Axis {
    /// How many levels the axis has below "all".
    pub fn depth(self) -> u8 {
        match self {
            Axis::Geo => 2,
            Axis::Period => 3,
            _ => 1,
        }
    }

    /// The key of a cell at level `from` on this axis, seen at the coarser level `to`.
    pub fn coarsen(self, key: &str, from: u8, to: u8) -> String {
        if to == 0 {
            return String::new();
        }
        if to >= from {
            return key.to_owned();
        }
        match self {
            Axis::Geo => key.chars().take(SEGMENT * (usize::from(to) + 1)).collect(),
            Axis::Period => match (from, to) {
                (3, 2) => quarter_of_month(key),
                _ => key.chars().take(4).collect(),
            },
            _ => key.to_owned(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Axis::Level => "level",
            Axis::Geo => "network",
            Axis::OrganisationKind => "organisation_kind",
            Axis::ProgrammePartner => "programme_partner",
            Axis::Category => "category",
            Axis::TargetGroup => "target_group",
            Axis::Status => "status",
            Axis::EndReason => "end_reason",
            Axis::Period => "period",
        }
    }
}

fn quarter_of_month(month: &str) -> String {
    let m: u32 = month.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(1);
    format!("{}-Q{}", month.get(..4).unwrap_or(""), m.div_ceil(3))
}

impl Dimension {
    pub fn axis_level(self) -> (Axis, u8) {
        match self {
            Dimension::Level => (Axis::Level, 1),
            Dimension::State => (Axis::Geo, 1),
            Dimension::Region => (Axis::Geo, 2),
            Dimension::OrganisationKind => (Axis::OrganisationKind, 1),
            Dimension::ProgrammePartner => (Axis::ProgrammePartner, 1),
            Dimension::Category => (Axis::Category, 1),
            Dimension::TargetGroup => (Axis::TargetGroup, 1),
            Dimension::Status => (Axis::Status, 1),
            Dimension::EndReason => (Axis::EndReason, 1),
            Dimension::Year => (Axis::Period, 1),
            Dimension::Quarter => (Axis::Period, 2),
            Dimension::Month => (Axis::Period, 3),
        }
    }

    pub fn of(axis: Axis, level: u8) -> Option<Dimension> {
        Dimension::ALL
            .iter()
            .copied()
            .find(|d| d.axis_level() == (axis, level))
    }
}

impl Measure {
    /// The axes a measure can be grouped and filtered by.
    pub fn axes(self) -> &'static [Axis] {
        use Axis::*;
        match self {
            Measure::Mentorships | Measure::MentorshipsStarted | Measure::MentorshipsEnded => &[
                Level,
                Geo,
                OrganisationKind,
                ProgrammePartner,
                Category,
                TargetGroup,
                Status,
                EndReason,
                Period,
            ],
            Measure::MentorshipsActive => &[
                Level,
                Geo,
                OrganisationKind,
                ProgrammePartner,
                Category,
                TargetGroup,
                Status,
            ],
            Measure::Volunteers => &[Level, Geo, OrganisationKind, ProgrammePartner, Status],
            Measure::Organisations => &[Level, Geo, OrganisationKind, ProgrammePartner],
            Measure::Offerings | Measure::Cooperations => &[
                Level,
                Geo,
                OrganisationKind,
                ProgrammePartner,
                Category,
                Status,
                Period,
            ],
            Measure::Funding => &[
                Level,
                Geo,
                OrganisationKind,
                ProgrammePartner,
                Category,
                Period,
            ],
        }
    }

    /// The stored measures a measure is computed from, each with its sign.
    pub fn stored(self) -> &'static [(&'static str, i64)] {
        match self {
            Measure::MentorshipsActive => &[(STARTED, 1), (STARTED_ENDED, -1)],
            Measure::Mentorships => &[("mentorships", 1)],
            Measure::MentorshipsStarted => &[(STARTED, 1)],
            Measure::MentorshipsEnded => &[("mentorships_ended", 1)],
            Measure::Volunteers => &[("volunteers", 1)],
            Measure::Organisations => &[("organisations", 1)],
            Measure::Offerings => &[("offerings", 1)],
            Measure::Cooperations => &[("cooperations", 1)],
            Measure::Funding => &[("funding", 1)],
        }
    }

    /// What the `amount` of a cell sums, if anything.
    pub fn amount(self) -> Option<&'static str> {
        match self {
            Measure::Funding => Some("amount in euro cents"),
            Measure::Volunteers => Some("capacity (concurrent mentorships)"),
            Measure::Offerings => Some("capacity"),
            _ => None,
        }
    }
}

/// Stored measure: mentorships by the month they started.
pub const STARTED: &str = "mentorships_started";
/// Stored measure: mentorships that started, by the month they ended (for stocks).
pub const STARTED_ENDED: &str = "mentorships_started_ended";
/// Every stored measure, in the order they are maintained.
pub const STORED: [&str; 9] = [
    "mentorships",
    STARTED,
    "mentorships_ended",
    STARTED_ENDED,
    "volunteers",
    "organisations",
    "offerings",
    "cooperations",
    "funding",
];

/// An aggregate grain: the fine cells keep every dimension by month; coarser rollups kept
/// beside them in the same transaction answer the common dashboards from far fewer rows.
/// `keeps` is the deepest level of each axis the grain holds.
#[derive(Debug, Clone, Copy)]
pub struct Grain {
    pub id: i16,
    pub keeps: &'static [(Axis, u8)],
}

/// The grains, finest first.
pub const GRAINS: [Grain; 4] = [
    Grain {
        id: 0,
        keeps: &[
            (Axis::Level, 1),
            (Axis::Geo, 2),
            (Axis::OrganisationKind, 1),
            (Axis::ProgrammePartner, 1),
            (Axis::Category, 1),
            (Axis::TargetGroup, 1),
            (Axis::Status, 1),
            (Axis::EndReason, 1),
            (Axis::Period, 3),
        ],
    },
    // Networks × kind × status × end reason by year.
    Grain {
        id: 1,
        keeps: &[
            (Axis::Level, 1),
            (Axis::Geo, 2),
            (Axis::OrganisationKind, 1),
            (Axis::Status, 1),
            (Axis::EndReason, 1),
            (Axis::Period, 1),
        ],
    },
    // States × kind × status × end reason by year: the ministry's tables.
    Grain {
        id: 2,
        keeps: &[
            (Axis::Geo, 1),
            (Axis::OrganisationKind, 1),
            (Axis::Status, 1),
            (Axis::EndReason, 1),
            (Axis::Period, 1),
        ],
    },
    // States × status by year.
    Grain {
        id: 3,
        keeps: &[(Axis::Geo, 1), (Axis::Status, 1), (Axis::Period, 1)],
    },
];

impl Grain {
    fn covers(&self, axis: Axis, level: u8) -> bool {
        self.keeps.iter().any(|(a, l)| *a == axis && level <= *l)
    }
}

/// A subtree filter: the network's path and level (0 federal, 1 state, 2 region).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkFilter {
    pub path: String,
    pub level: u8,
}

/// A statistic as asked for.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub measure: Option<Measure>,
    pub groups: Vec<Dimension>,
    pub network: Option<NetworkFilter>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Equality filters on axes with one level (kind, partner, category, …).
    pub equals: Vec<(Axis, String)>,
    pub active_at: Option<NaiveDate>,
}

/// A validated statistic: which table to read and which of its cells to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub measure: Measure,
    /// The axes of the table read from the database, with their levels. In the exact view
    /// these are the shown groups and the filters go into SQL; in the protected view this
    /// is the canonical table (groups and filtered axes, unfiltered), whose lattice is
    /// protected as a whole before rows are selected.
    pub axes: Vec<(Axis, u8)>,
    /// The shown groups (a subset of `axes`): a filter finer than the asked group raises it.
    pub output: Vec<(Axis, u8)>,
    /// Filters: (axis, level, value). Geography and period values are keys at that level.
    pub filters: Vec<(Axis, u8, String)>,
    /// Month (`YYYY-MM`) range of the period filter, for the exact view's SQL.
    pub months: Option<(String, String)>,
    /// The month at whose end a stock is counted.
    pub active_month: Option<String>,
    pub protected: bool,
}

fn month_key(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

fn last_of_month(d: NaiveDate) -> bool {
    d.succ_opt().is_none_or(|n| n.month() != d.month())
}

const NOT_MONTH_END: Reason =
    Reason::Rule("must be the last day of a month (statistics are kept per month)");

impl Query {
    /// Checks the query against the measure and the view, and plans it.
    pub fn plan(&self, protected: bool) -> Result<Plan, ValidationErrors> {
        let mut errs = crate::error::Collector::default();
        let Some(measure) = self.measure else {
            return Err(ValidationErrors::single("measure", Reason::Missing));
        };
        let allowed = measure.axes();
        let mut levels: BTreeMap<Axis, u8> = BTreeMap::new();
        let mut shown: BTreeMap<Axis, u8> = BTreeMap::new();
        for g in &self.groups {
            let (axis, level) = g.axis_level();
            if !allowed.contains(&axis) {
                errs.push("groupBy", Reason::Rule(not_applicable(axis)));
                continue;
            }
            if shown.insert(axis, level).is_some() {
                errs.push(
                    "groupBy",
                    Reason::Rule("names two levels of the same hierarchy (or one twice)"),
                );
            }
        }
        let mut filters = Vec::new();
        if let Some(n) = &self.network
            && n.level > 0
        {
            filters.push((Axis::Geo, n.level, n.path.clone()));
        }
        for (axis, value) in &self.equals {
            if !allowed.contains(axis) {
                errs.push(axis.name(), Reason::Rule(not_applicable(*axis)));
            } else {
                filters.push((*axis, 1, value.clone()));
            }
        }
        let mut months = None;
        if self.from.is_some() || self.to.is_some() {
            if !allowed.contains(&Axis::Period) {
                errs.push("from", Reason::Rule(not_applicable(Axis::Period)));
            }
            match (self.from, self.to) {
                (Some(f), Some(t)) => {
                    if f.day() != 1 {
                        errs.push(
                            "from",
                            Reason::Rule(
                                "must be the first day of a month (statistics are kept per month)",
                            ),
                        );
                    }
                    if !last_of_month(t) {
                        errs.push("to", NOT_MONTH_END);
                    }
                    if t < f {
                        errs.push("to", Reason::EndBeforeStart);
                    }
                    if protected {
                        match single_period(f, t) {
                            Some((level, key)) => filters.push((Axis::Period, level, key)),
                            None => errs.push(
                                "to",
                                Reason::Rule(
                                    "in the protected view a period filter covers exactly one month, quarter or year; group by period for more",
                                ),
                            ),
                        }
                    }
                    months = Some((month_key(f), month_key(t)));
                }
                (None, _) => errs.push("from", Reason::Missing),
                (_, None) => errs.push("to", Reason::Missing),
            }
        }
        let mut active_month = None;
        match (measure, self.active_at) {
            (Measure::MentorshipsActive, Some(d)) => {
                if last_of_month(d) {
                    active_month = Some(month_key(d));
                } else {
                    errs.push("activeAt", NOT_MONTH_END);
                }
            }
            (Measure::MentorshipsActive, None) => errs.push("activeAt", Reason::Missing),
            (_, Some(_)) => errs.push(
                "activeAt",
                Reason::Rule("applies only to the measure mentorships_active"),
            ),
            _ => {}
        }
        errs.finish(|| Some(()))?;
        // A filter finer than the asked group raises the group to the filter's level.
        for (axis, level, _) in &filters {
            if let Some(l) = shown.get_mut(axis)
                && *l < *level
            {
                *l = *level;
            }
        }
        levels.extend(shown.iter().map(|(a, l)| (*a, *l)));
        if protected {
            for (axis, level, _) in &filters {
                let l = levels.entry(*axis).or_insert(*level);
                *l = (*l).max(*level);
            }
        }
        Ok(Plan {
            measure,
            axes: levels.into_iter().collect(),
            output: shown.into_iter().collect(),
            filters,
            months: if protected { None } else { months },
            active_month,
            protected,
        })
    }
}

fn not_applicable(axis: Axis) -> &'static str {
    match axis {
        Axis::Period => "this measure has no period",
        Axis::Status => "this measure has no status",
        Axis::EndReason => "this measure has no end reason",
        Axis::Category => "this measure has no category",
        Axis::TargetGroup => "this measure has no target group",
        _ => "does not apply to this measure",
    }
}

/// The one year, quarter or month that `from..=to` covers, if it covers exactly one.
fn single_period(from: NaiveDate, to: NaiveDate) -> Option<(u8, String)> {
    if from.day() != 1 || !last_of_month(to) || from.year() != to.year() {
        return None;
    }
    let (fm, tm) = (from.month(), to.month());
    if fm == 1 && tm == 12 {
        Some((1, format!("{:04}", from.year())))
    } else if fm == tm {
        Some((3, month_key(from)))
    } else if fm % 3 == 1 && tm == fm + 2 {
        Some((2, format!("{:04}-Q{}", from.year(), fm.div_ceil(3))))
    } else {
        None
    }
}

impl Plan {
    /// Whether a cell of the read table (keys in `axes` order) passes the filters.
    pub fn selects(&self, key: &[String]) -> bool {
        self.filters.iter().all(|(axis, level, value)| {
            match self.axes.iter().position(|(a, _)| a == axis) {
                Some(i) => axis.coarsen(&key[i], self.axes[i].1, *level) == *value,
                None => true,
            }
        })
    }

    /// The coarsest grain that can answer the plan: every axis and filter at a level the
    /// grain keeps; month ranges and stocks need months unless they end with a year.
    pub fn grain(&self) -> i16 {
        let year_aligned = |m: &str| m.ends_with("-12");
        GRAINS
            .iter()
            .rev()
            .find(|g| {
                self.axes.iter().all(|(a, l)| g.covers(*a, *l))
                    && self.filters.iter().all(|(a, l, _)| g.covers(*a, *l))
                    && (g.covers(Axis::Period, 3)
                        || (self
                            .months
                            .as_ref()
                            .is_none_or(|(f, t)| f.ends_with("-01") && year_aligned(t))
                            && self.active_month.as_deref().is_none_or(year_aligned)))
            })
            .map_or(0, |g| g.id)
    }

    /// The deepest filter on an axis, if any.
    fn filter_on(&self, axis: Axis) -> Option<&(Axis, u8, String)> {
        self.filters
            .iter()
            .filter(|(a, _, _)| *a == axis)
            .max_by_key(|(_, l, _)| *l)
    }

    /// The levels of the table whose one cell is the total of the selection.
    pub fn total_levels(&self) -> Vec<u8> {
        self.axes
            .iter()
            .map(|(a, _)| self.filter_on(*a).map_or(0, |f| f.1))
            .collect()
    }

    /// The key of the total cell in the table of [`Plan::total_levels`].
    pub fn total_key(&self) -> Vec<String> {
        self.axes
            .iter()
            .map(|(a, _)| self.filter_on(*a).map(|f| f.2.clone()).unwrap_or_default())
            .collect()
    }

    /// The shown part of a key of the read table.
    pub fn project(&self, key: &[String]) -> Vec<String> {
        self.axes
            .iter()
            .zip(key)
            .filter(|((a, _), _)| self.output.iter().any(|(o, _)| o == a))
            .map(|(_, k)| k.clone())
            .collect()
    }
}

/// Whether a cell is shown, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Visibility {
    Shown,
    /// Its count is from 1 to k−1.
    Primary,
    /// Hidden so that a hidden cell cannot be recomputed from totals and siblings.
    Secondary,
}

impl Visibility {
    pub fn hidden(self) -> bool {
        self != Visibility::Shown
    }

    pub fn as_str(self) -> Option<&'static str> {
        match self {
            Visibility::Shown => None,
            Visibility::Primary => Some("primary"),
            Visibility::Secondary => Some("secondary"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    pub count: i64,
    pub amount: i64,
    pub visibility: Visibility,
}

pub type Key = Vec<String>;
pub type Levels = Vec<u8>;

/// A table and all its coarser tables, each cell marked shown or hidden.
#[derive(Debug, Clone)]
pub struct Lattice {
    pub axes: Vec<Axis>,
    pub tables: HashMap<Levels, HashMap<Key, Cell>>,
}

impl Lattice {
    pub fn cell(&self, levels: &[u8], key: &[String]) -> Option<&Cell> {
        self.tables.get(levels).and_then(|t| t.get(key))
    }
}

/// Every levels vector from all-zero up to `top`, coarsest first (by level sum, then
/// lexicographically), so that each table comes after all its coarser tables.
pub fn sublattice(top: &[u8]) -> Vec<Levels> {
    let mut out: Vec<Levels> = vec![Vec::new()];
    for &t in top {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                (0..=t).map(move |l| {
                    let mut p = prefix.clone();
                    p.push(l);
                    p
                })
            })
            .collect();
    }
    out.sort_by_key(|l| (l.iter().map(|x| u32::from(*x)).sum::<u32>(), l.clone()));
    out
}

/// The key of `key` (at `from`) in the coarser table `to`.
pub fn coarsen_key(axes: &[Axis], key: &[String], from: &[u8], to: &[u8]) -> Key {
    axes.iter()
        .enumerate()
        .map(|(i, a)| a.coarsen(&key[i], from[i], to[i]))
        .collect()
}

/// The lines of `table` (levels `levels`) along axis `i`: parent key → member keys.
pub fn lines<'a>(
    axes: &[Axis],
    levels: &[u8],
    i: usize,
    table: &'a HashMap<Key, Cell>,
) -> (Levels, BTreeMap<Key, Vec<&'a Key>>) {
    let mut parent = levels.to_vec();
    parent[i] -= 1;
    let mut out: BTreeMap<Key, Vec<&Key>> = BTreeMap::new();
    for key in table.keys() {
        out.entry(coarsen_key(axes, key, levels, &parent))
            .or_default()
            .push(key);
    }
    for members in out.values_mut() {
        members.sort();
    }
    (parent, out)
}

/// Builds the lattice of the table `finest` (axes at levels `top`) and marks which cells a
/// caller without access to the records may see. Cells with count 0 are left out (their
/// absence tells that they are 0).
pub fn protect(axes: &[(Axis, u8)], finest: Vec<(Key, i64, i64)>, k: i64) -> Lattice {
    let k = k.max(MIN_K);
    let names: Vec<Axis> = axes.iter().map(|(a, _)| *a).collect();
    let top: Levels = axes.iter().map(|(_, l)| *l).collect();
    let order = sublattice(&top);
    let mut tables: HashMap<Levels, HashMap<Key, Cell>> = HashMap::new();
    for levels in &order {
        let mut t: HashMap<Key, Cell> = HashMap::new();
        for (key, count, amount) in &finest {
            let c = t
                .entry(coarsen_key(&names, key, &top, levels))
                .or_insert(Cell {
                    count: 0,
                    amount: 0,
                    visibility: Visibility::Shown,
                });
            c.count += count;
            c.amount += amount;
        }
        t.retain(|_, c| c.count != 0);
        for c in t.values_mut() {
            if c.count > 0 && c.count < k {
                c.visibility = Visibility::Primary;
            }
        }
        tables.insert(levels.clone(), t);
    }
    let mut lattice = Lattice {
        axes: names,
        tables,
    };
    for (done, levels) in order.iter().enumerate() {
        secondary(&mut lattice, &order[..=done], levels, k);
    }
    lattice
}

/// Hides further cells of the table `levels` until the line rules and the joint check hold;
/// `known` are the tables processed so far (this one last).
fn secondary(lattice: &mut Lattice, known: &[Levels], levels: &Levels, k: i64) {
    // Nothing hidden so far: nothing to give away (the common case at scale).
    let hidden = |l: &Levels| {
        lattice
            .tables
            .get(l)
            .is_some_and(|t| t.values().any(|c| c.visibility.hidden()))
    };
    if !known.iter().any(hidden) {
        return;
    }
    for _round in 0..10_000 {
        if let Some(key) = line_violation(lattice, levels, k) {
            hide(lattice, levels, &key);
            continue;
        }
        match joint_violation(lattice, known, levels) {
            Some((table, key)) => hide(lattice, &table, &key),
            None => return,
        }
    }
}

fn hide(lattice: &mut Lattice, levels: &Levels, key: &Key) {
    if let Some(c) = lattice.tables.get_mut(levels).and_then(|t| t.get_mut(key))
        && c.visibility == Visibility::Shown
    {
        c.visibility = Visibility::Secondary;
    }
}

/// The smallest shown cell among `members` (by count, then key).
fn smallest_shown(table: &HashMap<Key, Cell>, members: &[&Key]) -> Option<Key> {
    members
        .iter()
        .filter(|m| table.get(**m).is_some_and(|c| !c.visibility.hidden()))
        .min_by_key(|m| (table.get(**m).map_or(0, |c| c.count), (**m).clone()))
        .map(|m| (*m).clone())
}

/// A shown cell of the table that a line rule says to hide, if any.
fn line_violation(lattice: &Lattice, levels: &Levels, k: i64) -> Option<Key> {
    let table = lattice.tables.get(levels)?;
    for i in 0..levels.len() {
        if levels[i] == 0 {
            continue;
        }
        let (parent_levels, ls) = lines(&lattice.axes, levels, i, table);
        let parent = lattice.tables.get(&parent_levels)?;
        for (pkey, members) in &ls {
            let parent_hidden = parent.get(pkey).is_some_and(|c| c.visibility.hidden());
            let hidden: Vec<i64> = members
                .iter()
                .filter_map(|m| table.get(*m))
                .filter(|c| c.visibility.hidden())
                .map(|c| c.count)
                .collect();
            let n = hidden.len() as i64;
            let sum: i64 = hidden.iter().sum();
            let violated = if parent_hidden {
                n == 0
            } else {
                n == 1 || (n >= 2 && sum < k + n - 2)
            };
            if violated && let Some(key) = smallest_shown(table, members) {
                return Some(key);
            }
        }
    }
    None
}

/// A shown cell to hide because some hidden cell of the lattice so far is determined by
/// the linear system of its lines, if any: the smallest shown cell of an equation of the
/// determined cell, preferring the table being processed, so that coarser tables change
/// only when this one cannot break the equation.
fn joint_violation(lattice: &Lattice, known: &[Levels], levels: &Levels) -> Option<(Levels, Key)> {
    let system = System::build(lattice, known);
    for u in system.determined(MAX_JOINT_UNKNOWNS) {
        // The equations of the determined cell first; if all their cells are hidden, those
        // of the hidden cells they reach, and so on.
        let mut reached: Vec<&(Levels, Key)> = vec![&system.unknowns[u]];
        let mut used = vec![false; system.cells.len()];
        while !reached.is_empty() {
            let mut shown: Vec<&(Levels, Key)> = Vec::new();
            let mut next = Vec::new();
            for (e, eq) in system.cells.iter().enumerate() {
                if used[e] || !eq.iter().any(|c| reached.contains(&c)) {
                    continue;
                }
                used[e] = true;
                for c in eq {
                    match lattice.cell(&c.0, &c.1) {
                        Some(cell) if !cell.visibility.hidden() => shown.push(c),
                        Some(_) => next.push(c),
                        None => {}
                    }
                }
            }
            let best = shown.into_iter().min_by_key(|(l, k)| {
                (
                    l != levels,
                    lattice.cell(l, k).map_or(0, |c| c.count),
                    l.clone(),
                    k.clone(),
                )
            });
            if let Some(cell) = best {
                return Some(cell.clone());
            }
            reached = next;
        }
    }
    None
}

/// The linear system an attacker holds: unknowns are the hidden cells, one equation per
/// line whose parent or members hide something (parent = sum of members).
pub struct System {
    unknowns: Vec<(Levels, Key)>,
    equations: Vec<Vec<(usize, f64)>>,
    /// Every cell of each equation, shown or hidden, parent last.
    cells: Vec<Vec<(Levels, Key)>>,
}

impl System {
    pub fn build(lattice: &Lattice, tables: &[Levels]) -> System {
        let mut index: HashMap<(Levels, Key), usize> = HashMap::new();
        let mut unknowns = Vec::new();
        let mut var = |levels: &Levels, key: &Key, lattice: &Lattice| -> Option<usize> {
            let c = lattice.cell(levels, key)?;
            if !c.visibility.hidden() {
                return None;
            }
            let id = (levels.clone(), key.clone());
            Some(*index.entry(id.clone()).or_insert_with(|| {
                unknowns.push(id);
                unknowns.len() - 1
            }))
        };
        let mut equations = Vec::new();
        let mut cells = Vec::new();
        for levels in tables {
            let Some(table) = lattice.tables.get(levels) else {
                continue;
            };
            for i in 0..levels.len() {
                if levels[i] == 0 {
                    continue;
                }
                let (parent, ls) = lines(&lattice.axes, levels, i, table);
                for (pkey, members) in ls {
                    let mut eq: Vec<(usize, f64)> = members
                        .iter()
                        .filter_map(|m| var(levels, m, lattice))
                        .map(|v| (v, 1.0))
                        .collect();
                    if let Some(p) = var(&parent, &pkey, lattice) {
                        eq.push((p, -1.0));
                    }
                    if !eq.is_empty() {
                        equations.push(eq);
                        let mut all: Vec<(Levels, Key)> = members
                            .iter()
                            .map(|m| (levels.clone(), (*m).clone()))
                            .collect();
                        all.push((parent.clone(), pkey.clone()));
                        cells.push(all);
                    }
                }
            }
        }
        System {
            unknowns,
            equations,
            cells,
        }
    }

    /// The hidden cells whose value the system fixes, per connected component of at most
    /// `limit` unknowns.
    pub fn determined(&self, limit: usize) -> Vec<usize> {
        let n = self.unknowns.len();
        let mut uf: Vec<usize> = (0..n).collect();
        fn find(uf: &mut [usize], x: usize) -> usize {
            let mut r = x;
            while uf[r] != r {
                r = uf[r];
            }
            let mut y = x;
            while uf[y] != r {
                let next = uf[y];
                uf[y] = r;
                y = next;
            }
            r
        }
        for eq in &self.equations {
            let first = eq[0].0;
            for (v, _) in eq.iter().skip(1) {
                let (a, b) = (find(&mut uf, first), find(&mut uf, *v));
                uf[a] = b;
            }
        }
        let mut comps: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for v in 0..n {
            let r = find(&mut uf, v);
            comps.entry(r).or_default().push(v);
        }
        let mut eqs_of: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (e, eq) in self.equations.iter().enumerate() {
            let r = find(&mut uf, eq[0].0);
            eqs_of.entry(r).or_default().push(e);
        }
        let mut out = Vec::new();
        for (root, vars) in comps {
            if vars.len() > limit {
                continue;
            }
            let col: HashMap<usize, usize> =
                vars.iter().enumerate().map(|(i, v)| (*v, i)).collect();
            let mut m: Vec<Vec<f64>> = eqs_of
                .get(&root)
                .map(|es| {
                    es.iter()
                        .map(|e| {
                            let mut row = vec![0.0; vars.len()];
                            for (v, c) in &self.equations[*e] {
                                row[col[v]] += c;
                            }
                            row
                        })
                        .collect()
                })
                .unwrap_or_default();
            for c in determined_columns(&mut m, vars.len()) {
                out.push(vars[c]);
            }
        }
        out
    }
}

/// Reduces `m` to row echelon form and returns the columns whose unit vector lies in the
/// row space (the unknowns the equations fix).
fn determined_columns(m: &mut [Vec<f64>], cols: usize) -> Vec<usize> {
    const EPS: f64 = 1e-9;
    let mut pivots = Vec::new();
    let mut row = 0;
    for c in 0..cols {
        if row >= m.len() {
            break;
        }
        let Some(p) = (row..m.len()).max_by(|a, b| m[*a][c].abs().total_cmp(&m[*b][c].abs()))
        else {
            continue;
        };
        if m[p][c].abs() < EPS {
            continue;
        }
        m.swap(row, p);
        let pv = m[row][c];
        for x in m[row].iter_mut() {
            *x /= pv;
        }
        for r in 0..m.len() {
            if r != row && m[r][c].abs() > EPS {
                let f = m[r][c];
                let (src, dst) = if r < row {
                    let (a, b) = m.split_at_mut(row);
                    (&b[0], &mut a[r])
                } else {
                    let (a, b) = m.split_at_mut(r);
                    (&a[row], &mut b[0])
                };
                for (d, s) in dst.iter_mut().zip(src.iter()) {
                    *d -= f * s;
                }
            }
        }
        pivots.push((row, c));
        row += 1;
    }
    pivots
        .into_iter()
        .filter(|(r, c)| {
            m[*r]
                .iter()
                .enumerate()
                .all(|(j, x)| j == *c || x.abs() < EPS)
        })
        .map(|(_, c)| c)
        .collect()
}

/// The disclosure audit, written as an attacker would: every equation "parent = sum of its
/// line" over all tables of the lattice, with the shown values substituted and the hidden
/// cells as unknowns, solved exactly (integer Gauss–Jordan). Returns each hidden cell the
/// equations pin down, with its value. Independent of the float check inside
/// [`protect`], so that tests can hold one against the other.
pub fn audit(l: &Lattice) -> Vec<(Levels, Key, i64)> {
    let mut unknown: Vec<(Levels, Key)> = Vec::new();
    let mut index: HashMap<(Levels, Key), usize> = HashMap::new();
    for (levels, t) in &l.tables {
        for (key, c) in t {
            if c.visibility.hidden() {
                index.insert((levels.clone(), key.clone()), unknown.len());
                unknown.push((levels.clone(), key.clone()));
            }
        }
    }
    let mut rows: Vec<Vec<i128>> = Vec::new();
    for (levels, t) in &l.tables {
        for i in 0..levels.len() {
            if levels[i] == 0 {
                continue;
            }
            let mut parent = levels.clone();
            parent[i] -= 1;
            let mut by_parent: HashMap<Key, Vec<&Key>> = HashMap::new();
            for key in t.keys() {
                by_parent
                    .entry(coarsen_key(&l.axes, key, levels, &parent))
                    .or_default()
                    .push(key);
            }
            for (pkey, members) in by_parent {
                // coefficients over unknowns, last column the constant: sum(unknown) = rhs
                let mut row = vec![0i128; unknown.len() + 1];
                let mut rhs: i128 = 0;
                let Some(p) = l.tables.get(&parent).and_then(|t| t.get(&pkey)) else {
                    continue;
                };
                match index.get(&(parent.clone(), pkey.clone())) {
                    Some(u) => row[*u] -= 1,
                    None => rhs += i128::from(p.count),
                }
                for m in members {
                    match index.get(&(levels.clone(), m.clone())) {
                        Some(u) => row[*u] += 1,
                        None => rhs -= i128::from(t.get(m).map_or(0, |c| c.count)),
                    }
                }
                row[unknown.len()] = rhs;
                if row[..unknown.len()].iter().any(|x| *x != 0) {
                    rows.push(row);
                }
            }
        }
    }
    // Gauss–Jordan over the integers.
    let n = unknown.len();
    let mut r = 0;
    let mut pivots = Vec::new();
    for c in 0..n {
        let Some(p) = (r..rows.len()).find(|i| rows[*i][c] != 0) else {
            continue;
        };
        rows.swap(r, p);
        for i in 0..rows.len() {
            if i != r && rows[i][c] != 0 {
                let (a, b) = (rows[r][c], rows[i][c]);
                let pivot = rows[r].clone();
                for (x, y) in rows[i].iter_mut().zip(pivot) {
                    *x = *x * a - y * b;
                }
                let g = rows[i].iter().fold(0i128, |g, x| gcd(g, x.abs()));
                if g > 1 {
                    for x in rows[i].iter_mut() {
                        *x /= g;
                    }
                }
            }
        }
        pivots.push((r, c));
        r += 1;
    }
    pivots
        .into_iter()
        .filter(|(r, c)| (0..n).all(|j| j == *c || rows[*r][j] == 0))
        .map(|(r, c)| {
            let (levels, key) = unknown[c].clone();
            (levels, key, (rows[r][n] / rows[r][c]) as i64)
        })
        .collect()
}

fn gcd(a: i128, b: i128) -> i128 {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests;
