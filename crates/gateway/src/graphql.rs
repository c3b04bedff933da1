//! The GraphQL schema. Resolvers reach records only through the caller's [`Scoped`] handle,
//! which the HTTP layer puts into every request; there is no unscoped store in the schema.

use crate::error::gql;
use async_graphql::connection::{Connection, Edge};
use async_graphql::{
    Context, EmptyMutation, EmptySubscription, ID, Object, Result, Schema, SimpleObject,
};
use uuid::Uuid;
use verbund_domain::Record;
use verbund_domain::network::{Network as NetworkData, NetworkLevel};
use verbund_domain::organisation::{Organisation as OrganisationData, OrganisationKind};
use verbund_persistence::tables::{NetworkFilter, Networks, OrganisationFilter, Organisations};
use verbund_persistence::{Page, PageRequest, Scoped, StoreError, Table};

pub type VerbundSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// Largest `first` a list accepts.
pub const MAX_FIRST: i32 = 100;
const DEFAULT_FIRST: i32 = 20;

pub fn schema(config: &crate::config::GraphqlConfig) -> VerbundSchema {
    let mut b = Schema::build(Query, EmptyMutation, EmptySubscription)
        .limit_depth(config.max_depth)
        .limit_complexity(config.max_complexity);
    if !config.introspection {
        b = b.disable_introspection().disable_suggestions();
    }
    b.finish()
}

#[derive(SimpleObject)]
pub struct Total {
    /// How many records match, across all pages.
    total_count: u64,
}

type List<T> = Connection<String, T, Total>;

fn scoped<'a>(ctx: &Context<'a>) -> Result<&'a Scoped> {
    ctx.data::<Scoped>()
}

fn page_request(first: Option<i32>, after: Option<String>) -> Result<PageRequest> {
    let first = first.unwrap_or(DEFAULT_FIRST);
    if !(1..=MAX_FIRST).contains(&first) {
        return Err(crate::error::ApiError {
            code: crate::error::Code::Validation,
            message: format!("field `first`: must be between 1 and {MAX_FIRST}"),
            fields: vec![("first".into(), format!("must be between 1 and {MAX_FIRST}"))],
        }
        .into_gql());
    }
    Ok(PageRequest {
        first: first as u64,
        after,
    })
}

impl crate::error::ApiError {
    fn into_gql(self) -> async_graphql::Error {
        use async_graphql::ErrorExtensions;
        self.extend()
    }
}

async fn list<T: Table, N: async_graphql::OutputType>(
    s: &Scoped,
    filter: T::Filter,
    page: PageRequest,
    node: impl Fn(Record<T::Data>) -> N,
) -> Result<List<N>> {
    let total = s.count::<T>(&filter).await.map_err(gql)?;
    let Page { items, has_next } = s.list::<T>(&filter, &page).await.map_err(gql)?;
    let mut c = Connection::with_additional_fields(
        page.after.is_some(),
        has_next,
        Total { total_count: total },
    );
    c.edges.extend(
        items
            .into_iter()
            .map(|r| Edge::new(verbund_persistence::encode_cursor(r.id), node(r))),
    );
    Ok(c)
}

fn parse_id(raw: &ID, field: &str) -> Result<Uuid> {
    Uuid::parse_str(raw).map_err(|_| {
        gql(StoreError::Invalid(
            verbund_domain::ValidationErrors::single(
                field,
                verbund_domain::Reason::Malformed { expected: "a UUID" },
            ),
        ))
    })
}

pub struct Query;

#[Object]
impl Query {
    /// Networks: the federal root, the states and the regions.
    async fn networks(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        level: Option<String>,
        parent_id: Option<ID>,
    ) -> Result<List<Network>> {
        let level = level
            .map(|l| NetworkLevel::parse(&l))
            .transpose()
            .map_err(|r| {
                gql(StoreError::Invalid(
                    verbund_domain::ValidationErrors::single("level", r),
                ))
            })?;
        let parent_id = parent_id.map(|p| parse_id(&p, "parentId")).transpose()?;
        let filter = NetworkFilter {
            level,
            parent_id,
            ..Default::default()
        };
        list::<Networks, _>(scoped(ctx)?, filter, page_request(first, after)?, Network).await
    }

    async fn network(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Network>> {
        match scoped(ctx)?.get::<Networks>(parse_id(&id, "id")?).await {
            Ok(r) => Ok(Some(Network(r))),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(gql(e)),
        }
    }

    /// Organisations the caller may see (the public directory for anonymous callers).
    async fn organisations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        within: Option<ID>,
        kind: Option<String>,
    ) -> Result<List<Organisation>> {
        let kind = kind
            .map(|k| OrganisationKind::parse(&k))
            .transpose()
            .map_err(|r| {
                gql(StoreError::Invalid(
                    verbund_domain::ValidationErrors::single("kind", r),
                ))
            })?;
        let within = within.map(|w| parse_id(&w, "within")).transpose()?;
        let filter = OrganisationFilter {
            within,
            kind,
            ..Default::default()
        };
        list::<Organisations, _>(
            scoped(ctx)?,
            filter,
            page_request(first, after)?,
            Organisation,
        )
        .await
    }
}

pub struct Network(Record<NetworkData>);

#[Object]
impl Network {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn level(&self) -> &str {
        self.0.data.level.as_str()
    }
    async fn name(&self) -> &str {
        &self.0.data.name
    }
    /// ISO 3166-2 for states, the district key for regions, `DE` for the federal root.
    async fn code(&self) -> &str {
        &self.0.data.code
    }
    async fn parent_id(&self) -> Option<ID> {
        self.0.data.parent_id.map(|p| ID(p.to_string()))
    }
    async fn version(&self) -> i32 {
        self.0.version
    }
}

pub struct Organisation(Record<OrganisationData>);

#[Object]
impl Organisation {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn kind(&self) -> &str {
        self.0.data.kind.as_str()
    }
    async fn sector(&self) -> &str {
        self.0.data.sector.as_str()
    }
    async fn name(&self) -> &str {
        &self.0.data.name
    }
    async fn network_id(&self) -> ID {
        ID(self.0.data.network_id.to_string())
    }
    async fn parent_organisation_id(&self) -> Option<ID> {
        self.0
            .data
            .parent_organisation_id
            .map(|p| ID(p.to_string()))
    }
    async fn postcode(&self) -> Option<&str> {
        self.0.data.postcode.as_deref()
    }
    async fn city(&self) -> Option<&str> {
        self.0.data.city.as_deref()
    }
    async fn website(&self) -> Option<&str> {
        self.0.data.website.as_deref()
    }
    async fn description(&self) -> Option<&str> {
        self.0.data.description.as_deref()
    }
    /// Not shown in the public directory.
    async fn email(&self) -> Option<&str> {
        self.0.data.email.as_deref()
    }
    /// Not shown in the public directory.
    async fn phone(&self) -> Option<&str> {
        self.0.data.phone.as_deref()
    }
    async fn version(&self) -> i32 {
        self.0.version
    }
}
