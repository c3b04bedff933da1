//! How a domain value is kept in a column ([`Stored`]), and [`table_mapping!`], which
//! writes a table's row ↔ record mapping from the list of its fields: the domain type's
//! field names are the entity's column names, so each field is named once.

use uuid::Uuid;
use verbund_domain::cooperation::CooperationStatus;
use verbund_domain::funding::FunderKind;
use verbund_domain::mentorship::{EndReason, MentorshipFormat, MentorshipStatus};
use verbund_domain::network::NetworkLevel;
use verbund_domain::offering::{Category, TargetGroup};
use verbund_domain::organisation::{OrganisationKind, Sector};

/// A domain value and the column that keeps it. `load` is `None` for a stored value that
/// does not parse (a corrupt row, reported as such).
pub(crate) trait Stored: Sized {
    type Column;
    fn store(&self) -> Self::Column;
    fn load(column: &Self::Column) -> Option<Self>;
}

macro_rules! as_is {
    ($($t:ty),*) => {$(
        impl Stored for $t {
            type Column = $t;
            fn store(&self) -> $t {
                self.clone()
            }
            fn load(column: &$t) -> Option<$t> {
                Some(column.clone())
            }
        }
    )*};
}

as_is!(Uuid, String, bool, i32, i64, chrono::NaiveDate);

impl<T: Stored> Stored for Option<T> {
    type Column = Option<T::Column>;
    fn store(&self) -> Self::Column {
        self.as_ref().map(Stored::store)
    }
    fn load(column: &Self::Column) -> Option<Self> {
        match column {
            None => Some(None),
            Some(c) => T::load(c).map(Some),
        }
    }
}

/// Lists are stored as `,a,b,` so that "contains b" is `LIKE '%,b,%'` on any database.
pub(crate) fn join_list<S: AsRef<str>>(items: &[S]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let inner: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    format!(",{},", inner.join(","))
}

pub(crate) fn split_list(stored: &str) -> Vec<String> {
    stored
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A value that can stand in a delimited list column (`,a,b,`, so that "contains b" is
/// `LIKE '%,b,%'` on any database).
pub(crate) trait Listed: Sized {
    fn word(&self) -> &str;
    fn from_word(word: &str) -> Option<Self>;
}

impl Listed for String {
    fn word(&self) -> &str {
        self
    }
    fn from_word(word: &str) -> Option<String> {
        Some(word.to_owned())
    }
}

impl<T: Listed> Stored for Vec<T> {
    type Column = String;
    fn store(&self) -> String {
        let words: Vec<&str> = self.iter().map(Listed::word).collect();
        join_list(&words)
    }
    fn load(column: &String) -> Option<Self> {
        split_list(column).iter().map(|w| T::from_word(w)).collect()
    }
}

/// Domain vocabularies are kept as their words.
macro_rules! as_word {
    ($($t:ty),*) => {$(
        impl Stored for $t {
            type Column = String;
            fn store(&self) -> String {
                self.as_str().to_owned()
            }
            fn load(column: &String) -> Option<$t> {
                <$t>::parse(column).ok()
            }
        }
        impl Listed for $t {
            fn word(&self) -> &str {
                self.as_str()
            }
            fn from_word(word: &str) -> Option<$t> {
                <$t>::parse(word).ok()
            }
        }
    )*};
}

as_word!(
    NetworkLevel,
    OrganisationKind,
    Sector,
    Category,
    TargetGroup,
    MentorshipStatus,
    MentorshipFormat,
    EndReason,
    CooperationStatus,
    FunderKind
);

/// The column's value as the domain's, or the row is corrupt.
pub(crate) fn load<T: Stored>(
    column: &T::Column,
    table: &str,
    name: &str,
) -> Result<T, crate::StoreError> {
    T::load(column).ok_or_else(|| crate::error::corrupt(table, name))
}

/// The parts of a `Table` impl that follow from its entity module and field list: the
/// associated types, `KIND`, `ID`, `VERSION`, `meta`, `to_data` and `to_active`.
///
/// - `fields`: domain fields kept in the column of the same name (through [`Stored`]);
/// - `period`: a `Period` field kept in two date columns;
/// - `attached`: collections kept in their own table, loaded by `Table::attach`;
/// - `located`: columns written from the record's `Location` (the network path).
macro_rules! table_mapping {
    (
        $m:ident => $data:ident, input $input:ident, filter $filter:ident, kind $kind:ident;
        fields: $($f:ident),* $(,)?;
        $(period: $p:ident = $start:ident .. $end:ident;)?
        $(attached: $($a:ident),*;)?
        $(located: $($lc:ident = $lv:ident),*;)?
    ) => {
        type Entity = $m::Entity;
        type Model = $m::Model;
        type Active = $m::ActiveModel;
        type Column = $m::Column;
        type Data = $data;
        type Input = $input;
        type Filter = $filter;
        const KIND: EntityKind = EntityKind::$kind;
        const ID: $m::Column = $m::Column::Id;
        const VERSION: $m::Column = $m::Column::Version;

        fn meta(m: &$m::Model) -> Meta {
            Meta {
                id: m.id,
                version: m.version,
                created_at: m.created_at,
                updated_at: m.updated_at,
            }
        }

        fn to_data(m: &$m::Model) -> Result<$data, StoreError> {
            Ok($data {
                $($f: $crate::mapping::load(&m.$f, stringify!($m), stringify!($f))?,)*
                $($p: Period { start: m.$start, end: m.$end },)?
                $($($a: Vec::new(),)*)?
            })
        }

        #[allow(unused_variables)]
        fn to_active(meta: Meta, d: &$data, at: &Location) -> $m::ActiveModel {
            $m::ActiveModel {
                id: Set(meta.id),
                version: Set(meta.version),
                created_at: Set(meta.created_at),
                updated_at: Set(meta.updated_at),
                $($f: Set($crate::mapping::Stored::store(&d.$f)),)*
                $($start: Set(d.$p.start), $end: Set(d.$p.end),)?
                $($($lc: Set(at.$lv.clone()),)*)?
            }
        }
    };
}

pub(crate) use table_mapping;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_come_back_as_they_were_kept_and_corrupt_words_are_refused() {
        let groups = vec![TargetGroup::Refugees, TargetGroup::YoungPeople];
        let kept = groups.store();
        assert_eq!(kept, ",refugees,young_people,");
        assert_eq!(Vec::<TargetGroup>::load(&kept), Some(groups));
        assert_eq!(Vec::<TargetGroup>::load(&String::new()), Some(vec![]));
        assert_eq!(Vec::<TargetGroup>::load(&",refugees,aliens,".into()), None);
        assert_eq!(Option::<EndReason>::load(&None), Some(None));
        assert_eq!(Option::<EndReason>::load(&Some("moon".into())), None);
        assert!(matches!(
            load::<MentorshipStatus>(&"finished".to_owned(), "mentorship", "status"),
            Err(crate::StoreError::Internal)
        ));
        assert_eq!(
            load::<Option<String>>(&Some("x".into()), "t", "c").ok(),
            Some(Some("x".to_owned()))
        );
    }
}
