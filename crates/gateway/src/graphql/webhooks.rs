//! Webhook subscriptions in the graph: the same store calls as REST's `/api/v1/webhooks`.

use super::page::scoped;
use crate::error::gql;
use crate::webhooks::WebhookConfig;
use async_graphql::{Context, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use uuid::Uuid;
use verbund_domain::webhook::{Webhook, WebhookInput};
use verbund_persistence::webhooks::{Delivery, Subscription, SubscriptionWithSecret, WebhookPatch};

fn config<'a>(ctx: &Context<'a>) -> Result<&'a Arc<WebhookConfig>> {
    ctx.data::<Arc<WebhookConfig>>()
}

/// A token is needed: anonymous callers have no subscriptions.
fn owner<'a>(ctx: &Context<'a>) -> Result<&'a verbund_persistence::Scoped> {
    let s = scoped(ctx)?;
    if s.caller().role == verbund_domain::policy::Role::Anonymous {
        return Err(gql(verbund_persistence::StoreError::Forbidden));
    }
    Ok(s)
}

#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// The caller's webhook subscriptions, oldest first.
    async fn webhooks(&self, ctx: &Context<'_>) -> Result<Vec<Subscription>> {
        owner(ctx)?.webhooks().await.map_err(gql)
    }

    /// One of the caller's webhook subscriptions.
    async fn webhook(&self, ctx: &Context<'_>, id: Uuid) -> Result<Subscription> {
        owner(ctx)?.webhook(id).await.map_err(gql)
    }

    /// A subscription's deliveries, newest first, with every attempt; `state` `pending`,
    /// `delivered` or `failed`; `first` 1 to 100 (default 50).
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        state: Option<String>,
        first: Option<i32>,
    ) -> Result<Vec<Delivery>> {
        owner(ctx)?
            .webhook_deliveries(id, state.as_deref(), ("first", first.map(i64::from)))
            .await
            .map_err(gql)
    }
}

/// What `updateWebhook` changes; absent fields stay as they are (`description: null`
/// removes it).
#[derive(InputObject)]
pub struct WebhookPatchInput {
    pub url: Option<String>,
    pub types: Option<Vec<String>>,
    pub description: MaybeUndefined<String>,
    /// `true` enables a disabled subscription again, from the present on.
    pub enabled: Option<bool>,
}

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Subscribes the caller to the changes it may read (see REST `POST /api/v1/webhooks`);
    /// the secret is returned only here.
    async fn create_webhook(
        &self,
        ctx: &Context<'_>,
        input: WebhookInput,
    ) -> Result<SubscriptionWithSecret> {
        let config = config(ctx)?;
        let hook = Webhook::parse(input, config.targets()).map_err(|e| gql(e.into()))?;
        owner(ctx)?
            .create_webhook(hook, config.max_per_owner)
            .await
            .map_err(gql)
    }

    /// Changes a subscription if its version is still `version`: the fields given replace
    /// the current ones; `enabled: true` goes on from the present.
    async fn update_webhook(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        version: i32,
        input: WebhookPatchInput,
    ) -> Result<Subscription> {
        let s = owner(ctx)?;
        let current = s.webhook(id).await.map_err(gql)?;
        let WebhookPatchInput {
            url,
            types,
            description,
            enabled,
        } = input;
        let description = match description {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(d) => Some(Some(d)),
        };
        let webhook = current
            .patched(url, types, description)
            .map(|input| Webhook::parse(input, config(ctx)?.targets()).map_err(|e| gql(e.into())))
            .transpose()?;
        s.update_webhook(id, version, WebhookPatch { webhook, enabled })
            .await
            .map_err(gql)
    }

    /// Deletes a subscription with its deliveries.
    async fn delete_webhook(&self, ctx: &Context<'_>, id: Uuid) -> Result<Uuid> {
        owner(ctx)?.delete_webhook(id).await.map_err(gql)?;
        Ok(id)
    }

    /// A new secret, shown once; the old one keeps signing for the overlap.
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
    ) -> Result<SubscriptionWithSecret> {
        let hours = i64::try_from(config(ctx)?.rotation_overlap_hours).unwrap_or(24);
        owner(ctx)?
            .rotate_webhook_secret(id, chrono::Duration::hours(hours))
            .await
            .map_err(gql)
    }

    /// Queues deliveries again: one (`delivery`), or those created from `from` to `to`.
    /// Returns how many.
    async fn redeliver_webhook(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        delivery: Option<Uuid>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<u64> {
        let range = match (delivery, from, to) {
            (Some(_), None, None) => None,
            (None, Some(f), Some(t)) if t >= f && t - f <= chrono::Duration::days(31) => {
                Some((f, t))
            }
            _ => {
                return Err(gql(verbund_persistence::StoreError::Invalid(
                    verbund_domain::ValidationErrors::single(
                        "delivery",
                        verbund_domain::Reason::Rule(
                            "give either a delivery, or `from` and `to` at most 31 days apart",
                        ),
                    ),
                )));
            }
        };
        owner(ctx)?
            .redeliver(id, delivery, range)
            .await
            .map_err(gql)
    }
}
