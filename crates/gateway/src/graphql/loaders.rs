//! DataLoaders: nested fields of a page of records load in one query per field, whatever
//! the page size. Each loader holds the request's [`Scoped`] handle, so batched reads apply
//! the same scope as every other read.

use async_graphql::dataloader::Loader;
use std::collections::HashMap;
use std::marker::PhantomData;
use uuid::Uuid;
use verbund_domain::Record;
use verbund_domain::mentorship::MentorshipStatus;
use verbund_persistence::tables::{MentorshipFilter, Mentorships};
use verbund_persistence::{Owned, Scoped, StoreError, Table};

/// Records by id.
pub struct ById<T>(pub Scoped, PhantomData<T>);

impl<T> ById<T> {
    pub fn new(s: Scoped) -> Self {
        ById(s, PhantomData)
    }
}

impl<T: Table> Loader<Uuid> for ById<T> {
    type Value = Record<T::Data>;
    type Error = StoreError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, StoreError> {
        Ok(self
            .0
            .get_many::<T>(keys)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect())
    }
}

/// All records of an organisation-owned table, grouped by organisation.
pub struct ByOrganisation<T>(pub Scoped, PhantomData<T>);

impl<T> ByOrganisation<T> {
    pub fn new(s: Scoped) -> Self {
        ByOrganisation(s, PhantomData)
    }
}

impl<T: Owned> Loader<Uuid> for ByOrganisation<T> {
    type Value = Vec<Record<T::Data>>;
    type Error = StoreError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, StoreError> {
        let mut out: HashMap<Uuid, Self::Value> = HashMap::new();
        for r in self
            .0
            .list_for_organisations::<T>(keys, &T::Filter::default())
            .await?
        {
            out.entry(T::organisation_of(&r.data)).or_default().push(r);
        }
        Ok(out)
    }
}

/// The number of mentorships in a status per organisation: one `GROUP BY`.
pub struct MentorshipCounts(pub Scoped);

impl Loader<(Uuid, MentorshipStatus)> for MentorshipCounts {
    type Value = u64;
    type Error = StoreError;

    async fn load(
        &self,
        keys: &[(Uuid, MentorshipStatus)],
    ) -> Result<HashMap<(Uuid, MentorshipStatus), u64>, StoreError> {
        let mut out = HashMap::new();
        let mut statuses: Vec<MentorshipStatus> = keys.iter().map(|k| k.1).collect();
        statuses.sort();
        statuses.dedup();
        for status in statuses {
            let orgs: Vec<Uuid> = keys.iter().filter(|k| k.1 == status).map(|k| k.0).collect();
            let filter = MentorshipFilter {
                status: Some(status),
                ..Default::default()
            };
            let counts = self
                .0
                .count_for_organisations::<Mentorships>(&orgs, &filter)
                .await?;
            for o in orgs {
                out.insert((o, status), counts.get(&o).copied().unwrap_or(0));
            }
        }
        Ok(out)
    }
}

/// The number of an organisation's records of `T` the caller may see: one `GROUP BY`.
pub struct OwnedCounts<T: Owned>(pub Scoped, pub PhantomData<T>);

impl<T: Owned> Loader<Uuid> for OwnedCounts<T>
where
    T::Filter: Send + Sync,
{
    type Value = u64;
    type Error = StoreError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, u64>, StoreError> {
        let counts = self
            .0
            .count_for_organisations::<T>(keys, &T::Filter::default())
            .await?;
        Ok(keys
            .iter()
            .map(|k| (*k, counts.get(k).copied().unwrap_or(0)))
            .collect())
    }
}

/// Children grouped by a parent key that the caller's filter and key function define
/// (member organisations, child networks, cooperations, committees, meetings).
/// `M` tells two groupings of one table apart (e.g. organisations by parent and by network).
pub struct Grouped<T: Table, M> {
    pub scoped: Scoped,
    pub filter: fn(Vec<Uuid>) -> T::Filter,
    pub keys: fn(&T::Data) -> Vec<Uuid>,
    pub marker: PhantomData<M>,
}

impl<T: Table, M: Send + Sync + 'static> Loader<Uuid> for Grouped<T, M>
where
    T::Filter: Send + Sync,
{
    type Value = Vec<Record<T::Data>>;
    type Error = StoreError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, StoreError> {
        let mut out: HashMap<Uuid, Self::Value> = HashMap::new();
        for r in self.scoped.all::<T>(&(self.filter)(keys.to_vec())).await? {
            for k in (self.keys)(&r.data) {
                if keys.contains(&k) {
                    out.entry(k).or_default().push(r.clone());
                }
            }
        }
        Ok(out)
    }
}
