//! The `verbund` gateway: configuration, CLI, the axum router with GraphQL and health
//! endpoints, and the mapping of storage outcomes to HTTP and GraphQL errors. Thin by
//! design: parse, authenticate, call the store, render.

pub mod auth;
pub mod cli;
pub mod config;
pub mod error;
pub mod filters;
pub mod graphql;
pub mod http;
pub mod observe;
pub mod rate;
pub mod rest;
pub mod serve;
pub mod state;
pub mod statistics;
pub mod views;
pub mod webhooks;
