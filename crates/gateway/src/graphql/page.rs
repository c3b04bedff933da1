//! What the resolvers share: the caller's scoped store, validation errors, and pages of
//! records as Relay connections with their total.

use crate::error::gql;
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Result, SimpleObject};
use verbund_domain::{Reason, Record, ValidationErrors};
use verbund_persistence::{PageRequest, Scoped, StoreError, Table, decode_cursor, encode_cursor};

#[derive(SimpleObject)]
pub struct Total {
    /// How many records match, across all pages.
    pub total_count: u64,
}

pub type List<T> = Connection<String, T, Total>;

pub(crate) fn scoped<'a>(ctx: &Context<'a>) -> Result<&'a Scoped> {
    ctx.data::<Scoped>()
}

pub(crate) fn invalid(field: &str, reason: Reason) -> async_graphql::Error {
    gql(StoreError::Invalid(ValidationErrors::single(field, reason)))
}

/// Validated `first`/`after` arguments.
#[derive(Debug, Clone)]
pub struct Paging {
    pub first: usize,
    pub after: Option<String>,
}

impl Paging {
    pub fn new(first: Option<i32>, after: Option<String>) -> Result<Paging> {
        let r = PageRequest::parse(first.map(i64::from), after.as_deref()).map_err(gql)?;
        Ok(Paging {
            first: r.first as usize,
            after: r.after,
        })
    }

    pub fn request(&self) -> PageRequest {
        PageRequest {
            first: self.first as u64,
            after: self.after.clone(),
        }
    }
}

/// A page of records already loaded (the children of one parent), by the same cursor rules
/// as the database pages: id order, `after` exclusive.
pub fn slice<D, W: async_graphql::OutputType>(
    mut all: Vec<Record<D>>,
    paging: &Paging,
    wrap: fn(Record<D>) -> W,
) -> Result<List<W>> {
    all.sort_by_key(|r| r.id);
    let total = all.len() as u64;
    let start = match &paging.after {
        Some(a) => {
            let after = decode_cursor(a).map_err(gql)?;
            all.iter().position(|r| r.id > after).unwrap_or(all.len())
        }
        None => 0,
    };
    let has_next = all.len() > start + paging.first;
    let mut c =
        Connection::with_additional_fields(start > 0, has_next, Total { total_count: total });
    c.edges.extend(
        all.into_iter()
            .skip(start)
            .take(paging.first)
            .map(|r| Edge::new(encode_cursor(r.id), wrap(r))),
    );
    Ok(c)
}

/// A page of records from the database, with the total.
pub async fn list<T: Table, W: async_graphql::OutputType>(
    ctx: &Context<'_>,
    s: &Scoped,
    filter: T::Filter,
    paging: Paging,
    wrap: fn(Record<T::Data>) -> W,
) -> Result<List<W>> {
    let total = total::<T>(ctx, s, &filter).await?;
    let page = s.list::<T>(&filter, &paging.request()).await.map_err(gql)?;
    Ok(connection(&paging, page, total, wrap))
}

/// A page of records as a Relay connection with its total.
pub fn connection<D, W: async_graphql::OutputType>(
    paging: &Paging,
    page: verbund_persistence::Page<Record<D>>,
    total: u64,
    wrap: fn(Record<D>) -> W,
) -> List<W> {
    let mut c = Connection::with_additional_fields(
        paging.after.is_some(),
        page.has_next,
        Total { total_count: total },
    );
    c.edges.extend(
        page.items
            .into_iter()
            .map(|r| Edge::new(encode_cursor(r.id), wrap(r))),
    );
    c
}

/// The number of matching records, counted only when the query selects `totalCount`.
pub async fn total<T: Table>(ctx: &Context<'_>, s: &Scoped, filter: &T::Filter) -> Result<u64> {
    if ctx.look_ahead().field("totalCount").exists() {
        s.count::<T>(filter).await.map_err(gql)
    } else {
        Ok(0)
    }
}
