//! Webhooks: subscriptions (a target URL, the kinds of record, the owner's claims and how
//! far the subscription has followed the change feed), one delivery per change and
//! subscription (leased by the replica sending it), and every attempt of each delivery.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookSubscriptions {
    Table,
    Id,
    Version,
    CreatedAt,
    UpdatedAt,
    Subject,
    Role,
    NetworkId,
    OrganisationId,
    Url,
    Types,
    Description,
    Secret,
    PreviousSecret,
    PreviousUntil,
    Cursor,
    Enabled,
    DisabledReason,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    SubscriptionId,
    Seq,
    EventType,
    Payload,
    State,
    Attempts,
    NextAttemptAt,
    LeaseUntil,
    LeasedBy,
    CreatedAt,
    FinishedAt,
    LastStatus,
    LastError,
}

#[derive(DeriveIden)]
enum WebhookAttempts {
    Table,
    Id,
    DeliveryId,
    At,
    Status,
    Error,
    DurationMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use WebhookSubscriptions as S;
        m.create_table(
            Table::create()
                .table(S::Table)
                .col(ColumnDef::new(S::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(S::Version).integer().not_null())
                .col(
                    ColumnDef::new(S::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(S::UpdatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(ColumnDef::new(S::Subject).string().not_null())
                .col(ColumnDef::new(S::Role).string().not_null())
                .col(ColumnDef::new(S::NetworkId).uuid().null())
                .col(ColumnDef::new(S::OrganisationId).uuid().null())
                .col(ColumnDef::new(S::Url).string().not_null())
                .col(ColumnDef::new(S::Types).string().not_null())
                .col(ColumnDef::new(S::Description).string().null())
                .col(ColumnDef::new(S::Secret).string().not_null())
                .col(ColumnDef::new(S::PreviousSecret).string().null())
                .col(
                    ColumnDef::new(S::PreviousUntil)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(ColumnDef::new(S::Cursor).big_integer().not_null())
                .col(ColumnDef::new(S::Enabled).boolean().not_null())
                .col(ColumnDef::new(S::DisabledReason).string().null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("webhook_subscriptions_subject")
                .table(S::Table)
                .col(S::Subject)
                .to_owned(),
        )
        .await?;
        use WebhookDeliveries as D;
        m.create_table(
            Table::create()
                .table(D::Table)
                .col(ColumnDef::new(D::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(D::SubscriptionId).uuid().not_null())
                .col(ColumnDef::new(D::Seq).big_integer().not_null())
                .col(ColumnDef::new(D::EventType).string().not_null())
                .col(ColumnDef::new(D::Payload).text().not_null())
                .col(ColumnDef::new(D::State).string().not_null())
                .col(ColumnDef::new(D::Attempts).integer().not_null())
                .col(
                    ColumnDef::new(D::NextAttemptAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(D::LeaseUntil)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(ColumnDef::new(D::LeasedBy).uuid().null())
                .col(
                    ColumnDef::new(D::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(D::FinishedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(ColumnDef::new(D::LastStatus).integer().null())
                .col(ColumnDef::new(D::LastError).string().null())
                .foreign_key(
                    ForeignKey::create()
                        .from(D::Table, D::SubscriptionId)
                        .to(S::Table, S::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // One delivery per change and subscription, whichever replica fans it out.
        m.create_index(
            Index::create()
                .name("webhook_deliveries_once")
                .table(D::Table)
                .col(D::SubscriptionId)
                .col(D::Seq)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("webhook_deliveries_due")
                .table(D::Table)
                .col(D::State)
                .col(D::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        use WebhookAttempts as A;
        m.create_table(
            Table::create()
                .table(A::Table)
                .col(ColumnDef::new(A::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(A::DeliveryId).uuid().not_null())
                .col(ColumnDef::new(A::At).timestamp_with_time_zone().not_null())
                .col(ColumnDef::new(A::Status).integer().null())
                .col(ColumnDef::new(A::Error).string().null())
                .col(ColumnDef::new(A::DurationMs).integer().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .from(A::Table, A::DeliveryId)
                        .to(D::Table, D::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("webhook_attempts_delivery")
                .table(A::Table)
                .col(A::DeliveryId)
                .to_owned(),
        )
        .await
    }
}
