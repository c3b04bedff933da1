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
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// The default minimum count of a shown cell, and the smallest one configuration may set.
pub const DEFAULT_K: i64 = 5;
pub const MIN_K: i64 = 3;
/// The most cells the canonical table of a protected statistic may have.
pub const MAX_PROTECTED_CELLS: usize = 20_000;
/// Components of the joint check larger than this are protected by the line rules alone.
pub const MAX_JOINT_UNKNOWNS: usize = 400;
/// The length of one segment of a network path (see [`crate::network::child_path`]).
pub const SEGMENT: usize = 32;
/// The character that fills the missing segments of a geography key: the records of an
/// organisation at the federal level have no state, those at a state's own level no region.
/// Such a key is the home network's path followed by one segment of this character per
/// missing level (it sorts before every hex digit, and coarsens to the home network).
pub const NO_NETWORK: char = '-';

/// The geography key at `level` (1 state, 2 region) of a home network path.
pub fn geo_key(path: &str, level: u8) -> String {
    Axis::Geo.coarsen(path, Axis::Geo.depth() + 1, level)
}

/// The network a geography key names, and whether the key is that network's own level
/// (the records of organisations that sit at the network itself rather than below it).
pub fn geo_home(key: &str) -> (&str, bool) {
    let home = key.trim_end_matches(NO_NETWORK);
    (home, home.len() < key.len())
}

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
        FundingPassedOn => "funding_passed_on",
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
            Axis::Geo => key
                .chars()
                .chain(std::iter::repeat(NO_NETWORK))
                .take(SEGMENT * (usize::from(to) + 1))
                .collect(),
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
            Measure::Funding | Measure::FundingPassedOn => &[
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
            Measure::FundingPassedOn => &[("funding_passed_on", 1)],
        }
    }

    /// Whether the protected view splits the measure by status. A mentorship's status follows
    /// from its dates (only a started one is active, paused or ended; a cancelled one never
    /// started), so the split of those started, ended or active at a date by status follows
    /// from the stocks and flows (those ended after a start in a year are the stock at the
    /// year's start plus those started in it minus the stock at its end): a small cell of it
    /// could be hidden only by hiding the large totals it follows from. The protected view
    /// reads the status of mentorships from `mentorships` (requested) alone; the exact view
    /// splits every measure that has a status.
    pub fn split_by_status(self, protected: bool) -> bool {
        self.axes().contains(&Axis::Status)
            && !(protected
                && matches!(
                    self,
                    Measure::MentorshipsStarted
                        | Measure::MentorshipsEnded
                        | Measure::MentorshipsActive
                ))
    }

    /// Whether the measure counts people (mentorships, volunteers): only those need the
    /// small-cell protection. Organisations, offerings, cooperations and money describe
    /// organisations, and are shown exactly to whoever may see statistics beyond the
    /// public view (the ministry, coordinators, admins).
    pub fn describes_people(self) -> bool {
        matches!(
            self,
            Measure::Mentorships
                | Measure::MentorshipsStarted
                | Measure::MentorshipsEnded
                | Measure::MentorshipsActive
                | Measure::Volunteers
        )
    }

    /// What the `amount` of a cell sums, if anything.
    pub fn amount(self) -> Option<&'static str> {
        match self {
            Measure::Funding => Some("amount in euro cents granted by funders outside the network"),
            Measure::FundingPassedOn => {
                Some("amount in euro cents passed on from one organisation to another")
            }
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
pub const STORED: [&str; 10] = [
    "mentorships",
    STARTED,
    "mentorships_ended",
    STARTED_ENDED,
    "volunteers",
    "organisations",
    "offerings",
    "cooperations",
    "funding",
    "funding_passed_on",
];

/// The version of the stored measures' definitions: a database whose cells were counted
/// by another version is recounted when the server starts (see the persistence crate).
pub const DEFINITIONS: i64 = 3;

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
            if axis == Axis::Status && !measure.split_by_status(protected) {
                errs.push("groupBy", NO_STATUS_SPLIT);
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
            } else if *axis == Axis::Status && !measure.split_by_status(protected) {
                errs.push(axis.name(), NO_STATUS_SPLIT);
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

/// Why the protected view does not split a measure by status ([`Measure::split_by_status`]).
const NO_STATUS_SPLIT: Reason = Reason::Rule(
    "in the protected view only the measure `mentorships` is split by status (the split of those started, ended or active follows from the stocks and flows); ask `mentorships` by status",
);

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
    /// The subtree an exact plan reads (its geography filter's path; `""` for the whole
    /// programme), which the policy's `statistics_exact` judges.
    pub fn subtree(&self) -> &str {
        self.filters
            .iter()
            .find(|(axis, _, _)| *axis == Axis::Geo)
            .map_or("", |(_, _, path)| path.as_str())
    }

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
    /// Hidden so that a hidden cell cannot be recomputed from its line: the other
    /// cells of a row or column of a table whose total is shown.
    Secondary,
    /// Hidden so that a hidden cell cannot be recomputed from the system of all the
    /// tables' lines together (a secondary suppression found by the joint check).
    Linked,
    /// Hidden because a hidden cell of another of the linked mentorship measures
    /// (requested, started, ended, active at a year end) could otherwise be recomputed by
    /// combining the measures ([`family::protect_family`]).
    Measures,
    /// Hidden because an earlier release (a reporting snapshot) hid the same cell of the
    /// same period: no later answer reveals what an earlier one hid.
    Bound,
    /// Hidden because a coordinator who subtracts its own subtree's exact figures from it,
    /// or an organisation who subtracts its own records, would learn a count from 1 to k−1
    /// about the rest.
    Insider,
    /// Hidden so that an attacker who solves linear programmes over all the shown cells
    /// (counts are whole numbers, never negative) cannot narrow a hidden cell below its
    /// protection interval ([`Ranges`]).
    Interval,
}

impl Visibility {
    pub fn hidden(self) -> bool {
        self != Visibility::Shown
    }

    pub fn as_str(self) -> Option<&'static str> {
        match self {
            Visibility::Shown => None,
            Visibility::Primary => Some("primary"),
            Visibility::Secondary
            | Visibility::Linked
            | Visibility::Measures
            | Visibility::Bound
            | Visibility::Insider
            | Visibility::Interval => Some("secondary"),
        }
    }
}

impl Visibility {
    /// Why a cell is hidden, as a stable code: `small_count` (primary: a count from 1 to
    /// k−1), `protects_line` (secondary: another hidden cell of the same row or column
    /// could be recomputed from the shown total), `protects_system` (secondary: a hidden
    /// cell could be recomputed from all tables' lines together), `protects_linked_measures`
    /// (secondary: a hidden cell of another measure about the same mentorships — requested,
    /// started, ended, active — could be recomputed by combining them), `earlier_release`
    /// (secondary: a reporting snapshot hid the same cell of the same period),
    /// `protects_from_insider` (secondary: a coordinator subtracting its own subtree's exact
    /// figures, or an organisation subtracting its own records, would learn a count from 1
    /// to k−1 about the others, or recompute a hidden cell that is not wholly its own),
    /// `protects_interval` (secondary: an attacker solving linear programmes over the shown
    /// cells would narrow a hidden cell below its protection interval, see [`Ranges`]).
    pub fn reason(self) -> Option<&'static str> {
        match self {
            Visibility::Shown => None,
            Visibility::Primary => Some("small_count"),
            Visibility::Secondary => Some("protects_line"),
            Visibility::Linked => Some("protects_system"),
            Visibility::Measures => Some("protects_linked_measures"),
            Visibility::Bound => Some("earlier_release"),
            Visibility::Insider => Some("protects_from_insider"),
            Visibility::Interval => Some("protects_interval"),
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

/// What protecting a table costs before it runs: its cells times the tables of its
/// lattice (every coarsening is built and checked). Known from the plan and the number of
/// cells read, so a request can be refused before the work starts.
pub fn protection_cost(axes: &[(Axis, u8)], cells: usize) -> u64 {
    let tables: u64 = axes.iter().map(|(_, l)| u64::from(*l) + 1).product();
    tables.saturating_mul(cells as u64)
}

/// Protection was stopped at its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfTime;

/// Builds the lattice of the table `finest` (axes at levels `top`) and marks which cells a
/// caller without access to the records may see. Cells with count 0 are left out (their
/// absence tells that they are 0).
pub fn protect(axes: &[(Axis, u8)], finest: Vec<(Key, i64, i64)>, k: i64) -> Lattice {
    match protect_until(axes, finest, k, None) {
        Ok(l) => l,
        // Without a deadline the work always runs to its end.
        Err(OutOfTime) => Lattice {
            axes: axes.iter().map(|(a, _)| *a).collect(),
            tables: HashMap::new(),
        },
    }
}

/// [`protect`], stopped with [`OutOfTime`] once `deadline` has passed.
pub fn protect_until(
    axes: &[(Axis, u8)],
    finest: Vec<(Key, i64, i64)>,
    k: i64,
    deadline: Option<std::time::Instant>,
) -> Result<Lattice, OutOfTime> {
    protect_bound(axes, finest, k, deadline, &HashSet::new())
}

/// A cell of a lattice: its table's levels and its key.
pub type CellId = (Levels, Key);

/// [`protect_until`] with cells that an earlier release hid and that must stay hidden
/// (`bound`; cells that no longer exist are ignored). They count as hidden from the
/// start, so the line rules and the joint check protect them like any hidden cell.
pub fn protect_bound(
    axes: &[(Axis, u8)],
    finest: Vec<(Key, i64, i64)>,
    k: i64,
    deadline: Option<std::time::Instant>,
    bound: &HashSet<CellId>,
) -> Result<Lattice, OutOfTime> {
    protect_against_insiders(axes, finest, k, deadline, bound, &[], &[])
}

/// Cells as the database counted them, before protection: `(key, count, amount)`. Only
/// the protection in this module reads them; outside it they can be counted and carried but
/// not opened, so no handler can show a small count by mistake. The storage crate hands
/// them out for the protected view ([`Plan::protected`]); exact cells come only where the
/// policy allows them (`Scope::statistics_exact`).
#[derive(Debug, Clone, Default)]
pub struct Unprotected(Vec<(Key, i64, i64)>);

impl Unprotected {
    /// Cells read for protection (the storage crate's reads).
    pub fn new(cells: Vec<(Key, i64, i64)>) -> Unprotected {
        Unprotected(cells)
    }

    /// How many cells, which is what protecting them costs.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The earliest year of the period key at `position` among the cells (the first year a
    /// linked family of tables holds).
    pub fn first_year(&self, position: usize) -> Option<i32> {
        self.0
            .iter()
            .filter_map(|(key, _, _)| key.get(position).and_then(|y| y.get(..4)?.parse().ok()))
            .min()
    }
}

/// A coordinator's subtree: a state's or a region's geography key; or an organisation's own
/// records: [`ORGANISATION`] followed by its id.
pub type Unit = String;

/// How the unit of an organisation's own records begins.
const ORGANISATION: &str = "organisation:";

/// The geography position and levels of the plan extended to regions: the table a
/// breakdown for [`protect_against_insiders`] is read at.
pub fn with_regions(axes: &[(Axis, u8)]) -> Vec<(Axis, u8)> {
    let mut out: Vec<(Axis, u8)> = axes
        .iter()
        .filter(|(a, _)| *a != Axis::Geo)
        .copied()
        .collect();
    out.push((Axis::Geo, Axis::Geo.depth()));
    out.sort();
    out
}

/// Which organisations' parts of a table's cells the protection needs, decided from the
/// cells and their region breakdown before any organisation's records are read.
///
/// An organisation's part of a cell matters only where it leaves fewer than k records of
/// the cell to others (see [`protect_against_insiders`]). An organisation's records lie in
/// one region (or at one network's own level), so its part of a cell is at most that
/// unit's part; an organisation with member organisations holds at most the sum of the
/// parts of the units its family lives in. Only the cells where such a bound leaves fewer
/// than k to others are read by owner, each whole (the units with records in it); on a
/// large network's coarse tables, few or none.
#[derive(Debug, Clone, Default)]
pub struct OwnerRead {
    units: Vec<Unit>,
    counts: HashMap<Key, i64>,
    k: i64,
}

impl OwnerRead {
    /// `families`: for each organisation with member organisations, the geography keys (at
    /// region depth) of the units it and its members live in.
    pub fn plan(
        axes: &[(Axis, u8)],
        k: i64,
        cells: &Unprotected,
        breakdown: &Unprotected,
        families: &[Vec<Unit>],
    ) -> OwnerRead {
        let counts: HashMap<Key, i64> = cells
            .0
            .iter()
            .map(|(key, n, _)| (key.clone(), *n))
            .collect();
        let wide = with_regions(axes);
        let top_geo = axes.iter().find(|(a, _)| *a == Axis::Geo).map(|(_, l)| *l);
        // Each unit's part of each cell.
        let mut parts: HashMap<&Key, HashMap<&str, i64>> = HashMap::new();
        let mut canonical: Vec<(Key, &str, i64)> = Vec::new();
        for (key, n, _) in &breakdown.0 {
            let mut cell: Key = Vec::with_capacity(axes.len());
            let mut unit = "";
            for (i, (a, _)) in wide.iter().enumerate() {
                if *a == Axis::Geo {
                    unit = key[i].as_str();
                    if let Some(l) = top_geo {
                        cell.push(geo_key(&key[i], l));
                    }
                } else {
                    cell.push(key[i].clone());
                }
            }
            canonical.push((cell, unit, *n));
        }
        for (cell, unit, n) in &canonical {
            if let Some((cell, _)) = counts.get_key_value(cell) {
                *parts.entry(cell).or_default().entry(unit).or_default() += n;
            }
        }
        // A cell where some organisation may hold more than count − k is read whole: every
        // unit with records in it (so every organisation's part of it is exact).
        let mut units: HashSet<Unit> = HashSet::new();
        for (cell, by_unit) in &parts {
            let count = counts.get(*cell).copied().unwrap_or(0);
            let matters = |bound: i64| bound > count - k;
            let possible = by_unit.values().any(|n| matters(*n))
                || families.iter().any(|family| {
                    matters(family.iter().filter_map(|u| by_unit.get(u.as_str())).sum())
                });
            if possible {
                units.extend(
                    by_unit
                        .iter()
                        .filter(|(_, n)| **n != 0)
                        .map(|(u, _)| (*u).to_owned()),
                );
            }
        }
        let mut units: Vec<Unit> = units.into_iter().collect();
        units.sort();
        OwnerRead { units, counts, k }
    }

    /// The geography keys (region depth) whose records are read by owner; none: no
    /// organisation's part can matter.
    pub fn units(&self) -> &[Unit] {
        &self.units
    }

    /// The parts read (the cell's key, then the organisation's id), less those that leave
    /// k or more records of their cell to others.
    pub fn keep(&self, rows: Vec<(Key, i64, i64)>) -> Unprotected {
        Unprotected(
            rows.into_iter()
                .filter(|(key, n, _)| {
                    key.split_last().is_some_and(|(_, cell)| {
                        self.counts
                            .get(cell)
                            .is_some_and(|count| *n > count - self.k)
                    })
                })
                .collect(),
        )
    }
}

/// [`protect_bound`], also against every coordinator who knows its own subtree exactly.
/// `breakdown` holds the cells of the same table read at region level
/// ([`with_regions`]); from it each cell's part inside each state and region is known, and
/// 1. a cell whose rest outside some subtree that holds part of it is from 1 to k−1 is
///    hidden (a coordinator would learn it by subtraction);
/// 2. the joint check runs again for each subtree, with the cells that lie wholly inside it
///    known: no hidden cell that is not wholly inside may be determined.
///
/// `owners` holds the cells of the finest table split by the organisation their records
/// belong to (the key with the organisation's id appended): every organisation is an
/// insider exactly like a coordinator, since it knows its own records.
pub fn protect_against_insiders(
    axes: &[(Axis, u8)],
    finest: Vec<(Key, i64, i64)>,
    k: i64,
    deadline: Option<std::time::Instant>,
    bound: &HashSet<CellId>,
    breakdown: &[(Key, i64, i64)],
    owners: &[(Key, i64, i64)],
) -> Result<Lattice, OutOfTime> {
    let mut w = Work::prepared(
        &family::Member {
            flow: family::Flow::Requested,
            axes: axes.to_vec(),
            finest: Unprotected(finest),
            bound: bound.clone(),
            breakdown: Unprotected(breakdown.to_vec()),
            owners: Unprotected(owners.to_vec()),
            fixed: HashMap::new(),
            ranges: Ranges::default(),
        },
        k,
    );
    w.secondary(deadline)?;
    Ok(w.into_lattice())
}

/// Protects one table (a [`family::Member`] read on its own): primary suppressions, the
/// statuses its coarser tables have in their own lattices (`fixed`: one status per cell,
/// whichever query shows it), earlier releases, insiders, then the secondary suppressions.
///
/// Refused with [`Refusal::Revealing`] when a hidden cell stays determined and no cell
/// left to hide would change that: the coarser tables, each safe on its own, together with
/// this table's empty cells would give it away, so this table is not shown at all.
pub fn protect_member(
    m: &family::Member,
    k: i64,
    deadline: Option<std::time::Instant>,
) -> Result<Lattice, Refusal> {
    let mut w = Work::prepared(m, k);
    w.secondary(deadline)?;
    if w.stuck.get() {
        return Err(Refusal::Revealing);
    }
    Ok(w.into_lattice())
}

/// Why a table is not protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    OutOfTime,
    /// Showing it would reveal a hidden cell whatever else it hid.
    Revealing,
}

impl From<OutOfTime> for Refusal {
    fn from(_: OutOfTime) -> Self {
        Refusal::OutOfTime
    }
}

impl Work {
    /// The lattice with its primary suppressions, the coarser tables' fixed statuses, an
    /// earlier release's cells and the insiders' rests marked: ready for
    /// [`Work::secondary`].
    fn prepared(m: &family::Member, k: i64) -> Work {
        let k = k.max(MIN_K);
        let mut w = Work::build(&m.axes, m.finest.0.clone(), k);
        w.ranges = m.ranges;
        // An earlier release's reason comes first: it holds whatever the counts are now.
        if !m.bound.is_empty() {
            for t in 0..w.levels.len() {
                for c in 0..w.keys[t].len() {
                    if w.vis[t][c] == Visibility::Shown
                        && m.bound
                            .contains(&(w.levels[t].clone(), w.keys[t][c].clone()))
                    {
                        w.vis[t][c] = Visibility::Bound;
                    }
                }
            }
        }
        if !m.breakdown.is_empty() || !m.owners.is_empty() {
            w.insiders(&m.axes, &m.breakdown.0, &m.owners.0);
        }
        // A coarser table's cells keep the status their own lattice gave them: only the
        // finest table's cells are left to hide.
        if !m.fixed.is_empty() {
            for t in 0..w.levels.len() {
                for c in 0..w.keys[t].len() {
                    let id = (w.levels[t].clone(), w.keys[t][c].clone());
                    if let Some(v) = m.fixed.get(&id) {
                        w.vis[t][c] = *v;
                        w.pinned.insert((t, c));
                    }
                }
            }
        }
        w
    }
}

/// The last month (`YYYY-MM`) a period key at `level` covers (1 year, 2 quarter, 3 month).
pub fn period_end(key: &str, level: u8) -> String {
    match level {
        1 => format!("{key}-12"),
        2 => {
            let q: u32 = key.get(6..).and_then(|q| q.parse().ok()).unwrap_or(4);
            format!("{}-{:02}", key.get(..4).unwrap_or(""), q * 3)
        }
        _ => key.to_owned(),
    }
}

/// The hidden cells of a release (`lattice`, frozen at the end of `as_of_month`) that bind
/// later answers: those of a period that had ended by then. Cells without a period axis
/// bind only when `whole` (a stock at a month the release covered).
pub fn binding_cells(lattice: &Lattice, as_of_month: &str, whole: bool) -> HashSet<CellId> {
    let period = lattice.axes.iter().position(|a| *a == Axis::Period);
    let mut out = HashSet::new();
    for (levels, table) in &lattice.tables {
        for (key, cell) in table {
            if !cell.visibility.hidden() {
                continue;
            }
            let covered = match period {
                Some(i) if levels[i] > 0 => period_end(&key[i], levels[i]).as_str() <= as_of_month,
                _ => whole,
            };
            if covered {
                out.insert((levels.clone(), key.clone()));
            }
        }
    }
    out
}

/// A cell of the lattice: (table, index in the table).
type At = (usize, usize);

/// The lattice while it is being protected: cells by index, lines computed once.
struct Work {
    axes: Vec<Axis>,
    k: i64,
    levels: Vec<Levels>,
    keys: Vec<Vec<Key>>,
    counts: Vec<Vec<i64>>,
    amounts: Vec<Vec<i64>>,
    vis: Vec<Vec<Visibility>>,
    /// Every line: parent = sum of members (one table along one axis against its parent).
    lines: Vec<(At, Vec<At>)>,
    /// The lines of each table, in the order the tables are processed (coarsest first).
    lines_of: Vec<Vec<usize>>,
    /// Each cell's part inside each coordinator's subtree (unit index, count), when known.
    parts: Vec<Vec<Vec<(usize, i64)>>>,
    units: Vec<Unit>,
    /// Cells whose status is fixed (by their own table's lattice): never hidden here.
    pinned: HashSet<At>,
    /// Whether the joint check found a determined hidden cell with no cell left to hide.
    stuck: std::cell::Cell<bool>,
    /// How wide the LP attacker's interval for each hidden cell must stay.
    ranges: Ranges,
    /// Feasible points of the LP attacker's system found so far (hidden cell → value). Cells
    /// are only ever hidden, never shown again, so each stays feasible with the cells hidden
    /// since at their true values: reused, they spare most LPs of the next check.
    points: std::cell::RefCell<Vec<HashMap<At, f64>>>,
}

/// The attacker's system of [`Work::system`].
struct System {
    /// The unknowns: hidden cells.
    cells: Vec<At>,
    /// The lines that hold an unknown.
    eqs: Vec<usize>,
    /// For each of `eqs`, its unknowns with their coefficients (members +1, parent −1).
    eq_vars: Vec<Vec<(usize, f64)>>,
    /// Each connected component: its unknowns and its equations (indices into `eqs`).
    comps: Vec<(Vec<usize>, Vec<usize>)>,
}

impl Work {
    fn build(axes: &[(Axis, u8)], finest: Vec<(Key, i64, i64)>, k: i64) -> Work {
        let names: Vec<Axis> = axes.iter().map(|(a, _)| *a).collect();
        let top: Levels = axes.iter().map(|(_, l)| *l).collect();
        let order = sublattice(&top);
        let pos: HashMap<Levels, usize> = order
            .iter()
            .enumerate()
            .map(|(i, l)| (l.clone(), i))
            .collect();
        let n = order.len();
        let mut index: Vec<HashMap<Key, usize>> = vec![HashMap::new(); n];
        let mut keys: Vec<Vec<Key>> = vec![Vec::new(); n];
        let mut counts: Vec<Vec<i64>> = vec![Vec::new(); n];
        let mut amounts: Vec<Vec<i64>> = vec![Vec::new(); n];
        // Finest first; each coarser table from a table one step finer on one axis.
        for t in (0..n).rev() {
            let levels = &order[t];
            let source: Vec<(Key, i64, i64)> = if *levels == top {
                finest.iter().filter(|c| c.1 != 0).cloned().collect()
            } else {
                let i = (0..levels.len())
                    .find(|i| levels[*i] < top[*i])
                    .unwrap_or_default();
                let mut finer = levels.clone();
                finer[i] += 1;
                let f = pos.get(&finer).copied().unwrap_or(t);
                (0..keys[f].len())
                    .map(|c| {
                        (
                            coarsen_key(&names, &keys[f][c], &finer, levels),
                            counts[f][c],
                            amounts[f][c],
                        )
                    })
                    .collect()
            };
            for (key, count, amount) in source {
                let next = keys[t].len();
                let at = *index[t].entry(key.clone()).or_insert(next);
                if at == next {
                    keys[t].push(key);
                    counts[t].push(0);
                    amounts[t].push(0);
                }
                counts[t][at] += count;
                amounts[t][at] += amount;
            }
        }
        let vis: Vec<Vec<Visibility>> = counts
            .iter()
            .map(|cs| {
                cs.iter()
                    .map(|c| {
                        if *c > 0 && *c < k {
                            Visibility::Primary
                        } else {
                            Visibility::Shown
                        }
                    })
                    .collect()
            })
            .collect();
        let mut lines = Vec::new();
        let mut lines_of = vec![Vec::new(); n];
        for (t, levels) in order.iter().enumerate() {
            for i in 0..levels.len() {
                if levels[i] == 0 {
                    continue;
                }
                let mut parent = levels.clone();
                parent[i] -= 1;
                let Some(&pt) = pos.get(&parent) else {
                    continue;
                };
                let mut by_parent: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
                for (c, key) in keys[t].iter().enumerate() {
                    let pkey = coarsen_key(&names, key, levels, &parent);
                    if let Some(&pc) = index[pt].get(&pkey) {
                        by_parent.entry(pc).or_default().push(c);
                    }
                }
                for (pc, mut members) in by_parent {
                    members.sort_by(|a, b| keys[t][*a].cmp(&keys[t][*b]));
                    lines_of[t].push(lines.len());
                    lines.push(((pt, pc), members.into_iter().map(|c| (t, c)).collect()));
                }
            }
        }
        // Cells with count 0 are absent, as before (they come from non-zero counts only if
        // positive and negative contributions cancel, which stored counts never do).
        Work {
            axes: names,
            k,
            levels: order,
            keys,
            counts,
            amounts,
            vis,
            lines,
            lines_of,
            parts: Vec::new(),
            units: Vec::new(),
            pinned: HashSet::new(),
            stuck: std::cell::Cell::new(false),
            points: std::cell::RefCell::new(Vec::new()),
            ranges: Ranges::default(),
        }
    }

    /// Records each cell's part inside each state and region from the region-level
    /// `breakdown` of the table, and hides the cells whose rest outside a subtree holding
    /// part of them is from 1 to k−1. The parts of the finest table come from the
    /// breakdown; each coarser table's from a table one step finer, like the counts.
    fn insiders(
        &mut self,
        axes: &[(Axis, u8)],
        breakdown: &[(Key, i64, i64)],
        owners: &[(Key, i64, i64)],
    ) {
        let wide = with_regions(axes);
        let geo_wide = wide
            .iter()
            .position(|(a, _)| *a == Axis::Geo)
            .unwrap_or_default();
        let has_geo = self.axes.contains(&Axis::Geo);
        let top: Levels = axes.iter().map(|(_, l)| *l).collect();
        let n = self.levels.len();
        let Some(finest) = self.levels.iter().position(|l| *l == top) else {
            return;
        };
        let index: Vec<HashMap<&Key, usize>> = self
            .keys
            .iter()
            .map(|ks| ks.iter().enumerate().map(|(i, k)| (k, i)).collect())
            .collect();
        // Units are numbered in the order of their names, so that the protection does not
        // depend on the order in which the database returned the rows.
        let mut names: BTreeSet<Unit> = BTreeSet::new();
        for (key, count, _) in breakdown {
            if *count != 0 {
                for unit in [geo_key(&key[geo_wide], 1), key[geo_wide].clone()] {
                    if !geo_home(&unit).1 {
                        names.insert(unit);
                    }
                }
            }
        }
        for (key, count, _) in owners {
            if let Some((owner, _)) = key.split_last() {
                if *count != 0 && !owner.chars().all(|ch| ch == '0' || ch == '-') {
                    names.insert(format!("{ORGANISATION}{owner}"));
                }
            }
        }
        let unit_index: HashMap<Unit, usize> =
            names.into_iter().enumerate().map(|(i, u)| (u, i)).collect();
        let mut parts: Vec<Vec<HashMap<usize, i64>>> = self
            .keys
            .iter()
            .map(|ks| vec![HashMap::new(); ks.len()])
            .collect();
        for (key, count, _) in breakdown {
            if *count == 0 {
                continue;
            }
            let region = &key[geo_wide];
            // The subtree's key in the protected table's axes.
            let mut canonical: Key = Vec::with_capacity(self.axes.len());
            let mut j = 0;
            for (i, (a, _)) in wide.iter().enumerate() {
                if *a != Axis::Geo {
                    canonical.push(key[i].clone());
                    j += 1;
                } else if has_geo {
                    canonical.push(geo_key(&key[i], top[j]));
                    j += 1;
                }
            }
            let Some(&c) = index[finest].get(&canonical) else {
                continue;
            };
            // The subtrees with a coordinator that hold this region's records (a padded
            // key is a network's own level, not a subtree of its own).
            for unit in [geo_key(region, 1), region.clone()] {
                if let Some(&u) = unit_index.get(&unit) {
                    *parts[finest][c].entry(u).or_default() += count;
                }
            }
        }
        // Each organisation's own records (a unit named by its id; the nil id is no owner).
        for (key, count, _) in owners {
            let Some((owner, canonical)) = key.split_last() else {
                continue;
            };
            if *count == 0 || owner.chars().all(|ch| ch == '0' || ch == '-') {
                continue;
            }
            let Some(&c) = index[finest].get(&canonical.to_vec()) else {
                continue;
            };
            if let Some(&u) = unit_index.get(&format!("{ORGANISATION}{owner}")) {
                *parts[finest][c].entry(u).or_default() += count;
            }
        }
        let pos: HashMap<&Levels, usize> = self
            .levels
            .iter()
            .enumerate()
            .map(|(i, l)| (l, i))
            .collect();
        for t in (0..n).rev() {
            if t == finest {
                continue;
            }
            let levels = &self.levels[t];
            let Some(i) = (0..levels.len()).find(|i| levels[*i] < top[*i]) else {
                continue;
            };
            let mut finer = levels.clone();
            finer[i] += 1;
            let Some(&f) = pos.get(&finer) else {
                continue;
            };
            for c in 0..self.keys[f].len() {
                let k = coarsen_key(&self.axes, &self.keys[f][c], &finer, levels);
                if let Some(&pc) = index[t].get(&k) {
                    let from: Vec<(usize, i64)> =
                        parts[f][c].iter().map(|(u, p)| (*u, *p)).collect();
                    for (u, p) in from {
                        *parts[t][pc].entry(u).or_default() += p;
                    }
                }
            }
        }
        drop(index);
        let mut units = vec![String::new(); unit_index.len()];
        for (u, i) in unit_index {
            units[i] = u;
        }
        self.units = units;
        self.parts = parts
            .into_iter()
            .map(|t| {
                t.into_iter()
                    .map(|m| {
                        let mut v: Vec<(usize, i64)> = m.into_iter().collect();
                        v.sort_unstable();
                        v
                    })
                    .collect()
            })
            .collect();
        for t in 0..n {
            for c in 0..self.keys[t].len() {
                let count = self.counts[t][c];
                if self.vis[t][c] == Visibility::Shown
                    && self.parts[t][c]
                        .iter()
                        .any(|(_, p)| count - p > 0 && count - p < self.k)
                {
                    self.vis[t][c] = Visibility::Insider;
                }
            }
        }
    }

    /// The subtrees in which some hidden cell lies wholly (only for them does the joint
    /// check change when their coordinator's knowledge is added).
    fn units_holding_hidden(&self) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        for (t, cells) in self.parts.iter().enumerate() {
            for (c, parts) in cells.iter().enumerate() {
                if self.vis[t][c].hidden() {
                    out.extend(
                        parts
                            .iter()
                            .filter(|(_, p)| *p == self.counts[t][c])
                            .map(|(u, _)| *u),
                    );
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether the cell lies wholly inside the unit's subtree.
    fn inside(&self, (t, c): At, unit: usize) -> bool {
        self.parts
            .get(t)
            .and_then(|p| p.get(c))
            .is_some_and(|p| p.iter().any(|(u, n)| *u == unit && *n == self.counts[t][c]))
    }

    fn hidden(&self, (t, c): At) -> bool {
        self.vis[t][c].hidden()
    }

    /// Whether the cell is shown and may still be hidden.
    fn hideable(&self, at: At) -> bool {
        !self.hidden(at) && !self.pinned.contains(&at)
    }

    fn hide(&mut self, (t, c): At, why: Visibility) {
        if self.vis[t][c] == Visibility::Shown && !self.pinned.contains(&(t, c)) {
            self.vis[t][c] = why;
        }
    }

    /// Hides cells until the line rules and the joint check hold for the whole lattice:
    /// the line rules table by table (coarsest first, every violated line fixed in one
    /// pass), then one hide per connected component of the attacker's system that
    /// determines a hidden cell, and again, until nothing changes.
    fn secondary(&mut self, deadline: Option<std::time::Instant>) -> Result<(), OutOfTime> {
        let late = || deadline.is_some_and(|d| std::time::Instant::now() > d);
        if !self.vis.iter().flatten().any(|v| v.hidden()) {
            return Ok(());
        }
        loop {
            // Only the last round's check counts: a later hide may settle an earlier one.
            self.stuck.set(false);
            for t in 0..self.levels.len() {
                while self.fix_lines(t) {
                    if late() {
                        return Err(OutOfTime);
                    }
                }
            }
            if late() {
                return Err(OutOfTime);
            }
            let hides = self.joint_hides(deadline, None)?;
            if !hides.is_empty() {
                for at in hides {
                    self.hide(at, Visibility::Linked);
                }
                continue;
            }
            // Each coordinator knows the cells wholly inside its subtree: the hidden cells
            // outside must stay undetermined for it too.
            let mut insider_hides = Vec::new();
            for u in self.units_holding_hidden() {
                if late() {
                    return Err(OutOfTime);
                }
                insider_hides = self.joint_hides(deadline, Some(u))?;
                if !insider_hides.is_empty() {
                    break;
                }
            }
            if insider_hides.is_empty() {
                // Last, the LP attacker: every hidden cell keeps its protection interval.
                let hides = self.interval_hides(deadline)?;
                if hides.is_empty() {
                    return Ok(());
                }
                for at in hides {
                    self.hide(at, Visibility::Interval);
                }
                continue;
            }
            for at in insider_hides {
                self.hide(at, Visibility::Insider);
            }
        }
    }

    /// One pass over the lines of table `t`; whether it hid anything.
    fn fix_lines(&mut self, t: usize) -> bool {
        let mut changed = false;
        for l in self.lines_of[t].clone() {
            let (parent, members) = &self.lines[l];
            let parent_hidden = self.hidden(*parent);
            let (n, sum) = members
                .iter()
                .filter(|m| self.hidden(**m))
                .fold((0i64, 0i64), |(n, s), (mt, mc)| {
                    (n + 1, s + self.counts[*mt][*mc])
                });
            let violated = if parent_hidden {
                n == 0
            } else {
                n == 1 || (n >= 2 && sum < self.k + n - 2)
            };
            if !violated {
                continue;
            }
            let smallest = members
                .iter()
                .filter(|m| self.hideable(**m))
                .min_by(|a, b| {
                    (self.counts[a.0][a.1], &self.keys[a.0][a.1])
                        .cmp(&(self.counts[b.0][b.1], &self.keys[b.0][b.1]))
                })
                .copied();
            if let Some(m) = smallest {
                self.hide(m, Visibility::Secondary);
                changed = true;
            }
        }
        changed
    }

    /// The attacker's system: the hidden cells as unknowns (less those the insider `unit`
    /// knows, the cells wholly inside its subtree), one equation per line that holds one,
    /// split into connected components.
    fn system(&self, insider: Option<usize>) -> System {
        let known = |at: At| insider.is_some_and(|u| self.inside(at, u));
        let mut unknown: HashMap<At, usize> = HashMap::new();
        let mut cells: Vec<At> = Vec::new();
        let mut eqs: Vec<usize> = Vec::new();
        for (l, (parent, members)) in self.lines.iter().enumerate() {
            let mut any = false;
            for at in members.iter().chain(std::iter::once(parent)) {
                if self.hidden(*at) && !known(*at) {
                    any = true;
                    unknown.entry(*at).or_insert_with(|| {
                        cells.push(*at);
                        cells.len() - 1
                    });
                }
            }
            if any {
                eqs.push(l);
            }
        }
        let n = cells.len();
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
        let vars_of = |l: usize| -> Vec<(usize, f64)> {
            let (parent, members) = &self.lines[l];
            let mut v: Vec<(usize, f64)> = members
                .iter()
                .filter_map(|m| unknown.get(m).map(|u| (*u, 1.0)))
                .collect();
            if let Some(u) = unknown.get(parent) {
                v.push((*u, -1.0));
            }
            v
        };
        let eq_vars: Vec<Vec<(usize, f64)>> = eqs.iter().map(|l| vars_of(*l)).collect();
        for vars in &eq_vars {
            for (v, _) in vars.iter().skip(1) {
                let (a, b) = (find(&mut uf, vars[0].0), find(&mut uf, *v));
                uf[a] = b;
            }
        }
        let mut comps: BTreeMap<usize, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
        for v in 0..n {
            let r = find(&mut uf, v);
            comps.entry(r).or_default().0.push(v);
        }
        for (e, vars) in eq_vars.iter().enumerate() {
            let r = find(&mut uf, vars[0].0);
            comps.entry(r).or_default().1.push(e);
        }
        System {
            cells,
            eqs,
            eq_vars,
            comps: comps.into_values().collect(),
        }
    }

    /// For each connected component of the attacker's system (unknowns: hidden cells; one
    /// equation per line that holds one) in which some hidden cell is determined, one shown
    /// cell to hide: of an equation of the determined cell (or, if all of those are hidden,
    /// of the equations they reach), preferring the finest table, then the smallest count.
    ///
    /// With `insider`, the cells wholly inside that coordinator's subtree are known, and
    /// only cells it does not know are hidden.
    fn joint_hides(
        &self,
        deadline: Option<std::time::Instant>,
        insider: Option<usize>,
    ) -> Result<Vec<At>, OutOfTime> {
        let known = |at: At| insider.is_some_and(|u| self.inside(at, u));
        let System {
            cells,
            eqs,
            eq_vars,
            comps,
        } = self.system(insider);
        let mut out = Vec::new();
        for (vars, comp_eqs) in comps {
            if vars.len() > MAX_JOINT_UNKNOWNS {
                continue;
            }
            if deadline.is_some_and(|d| std::time::Instant::now() > d) {
                return Err(OutOfTime);
            }
            let col: HashMap<usize, usize> =
                vars.iter().enumerate().map(|(i, v)| (*v, i)).collect();
            let mut m: Vec<Vec<f64>> = comp_eqs
                .iter()
                .map(|e| {
                    let mut row = vec![0.0; vars.len()];
                    for (v, c) in &eq_vars[*e] {
                        row[col[v]] += c;
                    }
                    row
                })
                .collect();
            let Some(&det) = determined_columns(&mut m, vars.len()).first() else {
                continue;
            };
            // Breadth-first from the determined cell through its equations.
            let mut reached: Vec<At> = vec![cells[vars[det]]];
            let mut used = vec![false; comp_eqs.len()];
            while !reached.is_empty() {
                let mut shown: Vec<At> = Vec::new();
                let mut next = Vec::new();
                for (i, e) in comp_eqs.iter().enumerate() {
                    let (parent, members) = &self.lines[eqs[*e]];
                    let touches = members
                        .iter()
                        .chain(std::iter::once(parent))
                        .any(|c| reached.contains(c));
                    if used[i] || !touches {
                        continue;
                    }
                    used[i] = true;
                    for c in members.iter().chain(std::iter::once(parent)) {
                        if known(*c) {
                            continue;
                        }
                        if self.hidden(*c) {
                            next.push(*c);
                        } else if self.hideable(*c) {
                            shown.push(*c);
                        }
                    }
                }
                let level_sum =
                    |t: usize| -> u32 { self.levels[t].iter().map(|x| u32::from(*x)).sum() };
                if let Some(best) = shown.into_iter().min_by(|a, b| {
                    (
                        std::cmp::Reverse(level_sum(a.0)),
                        self.counts[a.0][a.1],
                        &self.keys[a.0][a.1],
                    )
                        .cmp(&(
                            std::cmp::Reverse(level_sum(b.0)),
                            self.counts[b.0][b.1],
                            &self.keys[b.0][b.1],
                        ))
                }) {
                    out.push(best);
                    break;
                }
                if next.is_empty() {
                    self.stuck.set(true);
                }
                reached = next;
            }
        }
        Ok(out)
    }

    fn into_lattice(self) -> Lattice {
        let mut tables = HashMap::new();
        for (t, levels) in self.levels.into_iter().enumerate() {
            let table: HashMap<Key, Cell> = self.keys[t]
                .iter()
                .enumerate()
                .filter(|(c, _)| self.counts[t][*c] != 0)
                .map(|(c, key)| {
                    (
                        key.clone(),
                        Cell {
                            count: self.counts[t][c],
                            amount: self.amounts[t][c],
                            visibility: self.vis[t][c],
                        },
                    )
                })
                .collect();
            tables.insert(levels, table);
        }
        Lattice {
            axes: self.axes,
            tables,
        }
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

/// The equations an attacker reads off a published lattice: for every line, "parent = sum
/// of its members" with the shown values substituted, as Σ coefficient · unknown = rhs over
/// the hidden cells (members +1, a hidden parent −1). Lines without a hidden cell are left
/// out.
#[allow(clippy::type_complexity)]
fn equations(l: &Lattice) -> (Vec<(Levels, Key)>, Vec<(Vec<(usize, i64)>, i64)>) {
    let mut unknown: Vec<(Levels, Key)> = Vec::new();
    let mut index: HashMap<(Levels, Key), usize> = HashMap::new();
    let mut tables: Vec<&Levels> = l.tables.keys().collect();
    tables.sort();
    for levels in tables {
        let mut keys: Vec<(&Key, &Cell)> = l.tables[levels].iter().collect();
        keys.sort_by_key(|(k, _)| *k);
        for (key, c) in keys {
            if c.visibility.hidden() {
                index.insert((levels.clone(), key.clone()), unknown.len());
                unknown.push((levels.clone(), key.clone()));
            }
        }
    }
    let mut rows = Vec::new();
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
                let Some(p) = l.tables.get(&parent).and_then(|t| t.get(&pkey)) else {
                    continue;
                };
                let mut row: Vec<(usize, i64)> = Vec::new();
                let mut rhs: i64 = 0;
                match index.get(&(parent.clone(), pkey.clone())) {
                    Some(u) => row.push((*u, -1)),
                    None => rhs += p.count,
                }
                for m in members {
                    match index.get(&(levels.clone(), m.clone())) {
                        Some(u) => row.push((*u, 1)),
                        None => rhs -= t.get(m).map_or(0, |c| c.count),
                    }
                }
                if !row.is_empty() {
                    rows.push((row, rhs));
                }
            }
        }
    }
    (unknown, rows)
}

/// The disclosure audit, written as an attacker would: every equation "parent = sum of its
/// line" over all tables of the lattice, with the shown values substituted and the hidden
/// cells as unknowns, solved exactly (integer Gauss–Jordan). Returns each hidden cell the
/// equations pin down, with its value. Independent of the float check inside
/// [`protect`], so that tests can hold one against the other.
pub fn audit(l: &Lattice) -> Vec<(Levels, Key, i64)> {
    let (unknown, equations) = equations(l);
    let mut rows: Vec<Vec<i128>> = equations
        .into_iter()
        .map(|(coefficients, rhs)| {
            let mut row = vec![0i128; unknown.len() + 1];
            for (v, c) in coefficients {
                row[v] += i128::from(c);
            }
            row[unknown.len()] = i128::from(rhs);
            row
        })
        .collect();
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

mod family;
mod interval;
pub mod labels;
pub mod modular;
pub use family::{Flow, Member, protect_family};
pub use interval::{Breach, Need, Ranges, attacker_problem, interval_audit};

#[cfg(test)]
mod tests;
