//! The GraphQL API: one graph from the federal root down to a single mentorship, an Apollo
//! Federation v2 subgraph. Resolvers reach records only through the request's [`Scoped`]
//! handle (and loaders built on it); there is no unscoped store in the schema.

pub mod ids;
pub mod insights;
pub mod limits;
pub mod loaders;
pub mod mutation;
pub mod order;
pub mod page;
pub mod query;
pub mod statistics;
pub mod types;
pub mod webhooks;

use async_graphql::{EmptySubscription, Schema};

pub type VerbundSchema = Schema<query::Query, mutation::Mutation, EmptySubscription>;

/// Builds the schema with the protections of the configuration.
pub fn schema(config: &crate::config::GraphqlConfig) -> VerbundSchema {
    let mut b = Schema::build(
        query::Query::default(),
        mutation::Mutation::default(),
        EmptySubscription,
    )
    .enable_federation()
    .limit_depth(config.max_depth)
    .limit_complexity(config.max_complexity)
    .limit_recursive_depth(config.max_depth * 2);
    if !config.introspection {
        b = b.disable_introspection().disable_suggestions();
    }
    b.finish()
}

/// The schema's SDL as a federation gateway sees it (`_service { sdl }`): the contract in
/// `schema/schema.graphql`. The schema's shape does not depend on configuration.
pub fn sdl() -> String {
    let schema = schema(&crate::config::GraphqlConfig::default());
    schema.sdl_with_options(
        async_graphql::SDLExportOptions::new()
            .federation()
            .compose_directive(),
    )
}
