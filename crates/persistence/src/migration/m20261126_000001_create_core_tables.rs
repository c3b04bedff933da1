//! The core tables of the domain, their foreign keys, unique constraints and indexes.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// id, version, created_at, updated_at: the bookkeeping columns of every mutable record.
fn record(name: &'static str) -> TableCreateStatement {
    Table::create()
        .table(name)
        .col(uuid("id").primary_key())
        .col(integer("version").default(1))
        .col(timestamp_with_time_zone("created_at"))
        .col(timestamp_with_time_zone("updated_at"))
        .to_owned()
}

fn fk(
    from: &'static str,
    col: &'static str,
    to: &'static str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from}_{col}"))
        .from(from, col)
        .to(to, "id")
        .on_delete(on_delete)
        .to_owned()
}

fn index(table: &'static str, cols: &[&'static str], unique: bool) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(format!(
        "{}_{}_{}",
        if unique { "ux" } else { "ix" },
        table,
        cols.join("_")
    ))
    .table(table);
    for c in cols {
        i.col(*c);
    }
    if unique {
        i.unique();
    }
    i.to_owned()
}

/// Tables owned by an organisation: the owner's key and the owner's unique `external_id`.
fn owned(name: &'static str) -> TableCreateStatement {
    record(name)
        .col(uuid("organisation_id"))
        .col(string_null("external_id"))
        .foreign_key(&mut fk(
            name,
            "organisation_id",
            "organisations",
            ForeignKeyAction::Restrict,
        ))
        .to_owned()
}

const RESTRICT: ForeignKeyAction = ForeignKeyAction::Restrict;
const CASCADE: ForeignKeyAction = ForeignKeyAction::Cascade;
const SET_NULL: ForeignKeyAction = ForeignKeyAction::SetNull;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            record("networks")
                .col(string("level"))
                .col(uuid_null("parent_id"))
                .col(string("name"))
                .col(string("code"))
                .col(string("path"))
                .foreign_key(&mut fk("networks", "parent_id", "networks", RESTRICT))
                .to_owned(),
            record("organisations")
                .col(string("kind"))
                .col(string("sector"))
                .col(uuid("network_id"))
                .col(string("network_path"))
                .col(uuid_null("parent_organisation_id"))
                .col(string("name"))
                .col(string_null("street"))
                .col(string_null("postcode"))
                .col(string_null("city"))
                .col(string_null("email"))
                .col(string_null("phone"))
                .col(string_null("website"))
                .col(text_null("description"))
                .col(string_null("external_id"))
                .foreign_key(&mut fk("organisations", "network_id", "networks", RESTRICT))
                .foreign_key(&mut fk(
                    "organisations",
                    "parent_organisation_id",
                    "organisations",
                    RESTRICT,
                ))
                .to_owned(),
            owned("contacts")
                .col(string("name"))
                .col(string_null("function"))
                .col(string_null("email"))
                .col(string_null("phone"))
                .col(boolean("is_primary"))
                .col(text("topics"))
                .to_owned(),
            owned("offerings")
                .col(string("title"))
                .col(text_null("description"))
                .col(string("category"))
                .col(string("target_groups"))
                .col(string("languages"))
                .col(string_null("postcode"))
                .col(string_null("city"))
                .col(integer_null("capacity"))
                .col(date("starts_on"))
                .col(date_null("ends_on"))
                .col(boolean("published"))
                .to_owned(),
            Table::create()
                .table("offering_service_areas")
                .col(uuid("offering_id"))
                .col(uuid("network_id"))
                .primary_key(Index::create().col("offering_id").col("network_id"))
                .foreign_key(&mut fk(
                    "offering_service_areas",
                    "offering_id",
                    "offerings",
                    CASCADE,
                ))
                .foreign_key(&mut fk(
                    "offering_service_areas",
                    "network_id",
                    "networks",
                    RESTRICT,
                ))
                .to_owned(),
            owned("volunteers")
                .col(string("reference"))
                .col(integer("capacity"))
                .col(string("languages"))
                .col(boolean("active"))
                .to_owned(),
            owned("staff")
                .col(string("reference"))
                .col(string_null("function"))
                .col(integer("weekly_hours"))
                .to_owned(),
            owned("mentorships")
                .col(uuid_null("offering_id"))
                .col(uuid_null("mentor_id"))
                .col(string_null("mentee_ref"))
                .col(string("format"))
                .col(string("target_group"))
                .col(string("status"))
                .col(date("requested_on"))
                .col(date_null("matched_on"))
                .col(date_null("started_on"))
                .col(date_null("ended_on"))
                .col(string_null("end_reason"))
                .foreign_key(&mut fk("mentorships", "offering_id", "offerings", SET_NULL))
                .foreign_key(&mut fk("mentorships", "mentor_id", "volunteers", SET_NULL))
                .to_owned(),
            record("cooperations")
                .col(string("title"))
                .col(text("goal"))
                .col(uuid("lead_organisation_id"))
                .col(uuid("network_id"))
                .col(string("status"))
                .col(date("starts_on"))
                .col(date_null("ends_on"))
                .foreign_key(&mut fk(
                    "cooperations",
                    "lead_organisation_id",
                    "organisations",
                    RESTRICT,
                ))
                .foreign_key(&mut fk("cooperations", "network_id", "networks", RESTRICT))
                .to_owned(),
            Table::create()
                .table("cooperation_partners")
                .col(uuid("cooperation_id"))
                .col(uuid("organisation_id"))
                .col(string("role"))
                .col(text_null("resources"))
                .primary_key(Index::create().col("cooperation_id").col("organisation_id"))
                .foreign_key(&mut fk(
                    "cooperation_partners",
                    "cooperation_id",
                    "cooperations",
                    CASCADE,
                ))
                .foreign_key(&mut fk(
                    "cooperation_partners",
                    "organisation_id",
                    "organisations",
                    RESTRICT,
                ))
                .to_owned(),
            record("committees")
                .col(uuid("network_id"))
                .col(string("name"))
                .col(text_null("purpose"))
                .foreign_key(&mut fk("committees", "network_id", "networks", RESTRICT))
                .to_owned(),
            Table::create()
                .table("committee_members")
                .col(uuid("committee_id"))
                .col(uuid("member_id"))
                .col(string("member_kind"))
                .primary_key(Index::create().col("committee_id").col("member_id"))
                .foreign_key(&mut fk(
                    "committee_members",
                    "committee_id",
                    "committees",
                    CASCADE,
                ))
                .to_owned(),
            record("committee_meetings")
                .col(uuid("committee_id"))
                .col(date("held_on"))
                .col(string("topic"))
                .col(text_null("outcome"))
                .foreign_key(&mut fk(
                    "committee_meetings",
                    "committee_id",
                    "committees",
                    CASCADE,
                ))
                .to_owned(),
            owned("fundings")
                .col(string("funder_kind"))
                .col(string("funder_name"))
                .col(string("programme"))
                .col(big_integer("amount_cents"))
                .col(date("starts_on"))
                .col(date_null("ends_on"))
                .col(uuid_null("passed_on_from_id"))
                .col(integer_null("contingent_mentorships"))
                .foreign_key(&mut fk(
                    "fundings",
                    "passed_on_from_id",
                    "fundings",
                    RESTRICT,
                ))
                .to_owned(),
            Table::create()
                .table("audit_events")
                .col(uuid("id").primary_key())
                .col(timestamp_with_time_zone("at"))
                .col(string("actor"))
                .col(string("role"))
                .col(string("entity"))
                .col(uuid("entity_id"))
                .col(string("action"))
                .col(text("fields"))
                .col(string("network_path"))
                .col(uuid_null("organisation_id"))
                .to_owned(),
        ];
        for t in tables {
            m.create_table(t).await?;
        }
        let indexes = [
            index("networks", &["code"], true),
            index("networks", &["parent_id"], false),
            index("networks", &["path"], false),
            index("organisations", &["network_path"], false),
            index("organisations", &["network_id"], false),
            index(
                "organisations",
                &["parent_organisation_id", "external_id"],
                true,
            ),
            index("organisations", &["kind"], false),
            index("contacts", &["organisation_id", "external_id"], true),
            index("offerings", &["organisation_id", "external_id"], true),
            index("offerings", &["published", "category"], false),
            index("offering_service_areas", &["network_id"], false),
            index("volunteers", &["organisation_id", "external_id"], true),
            index("staff", &["organisation_id", "external_id"], true),
            index("mentorships", &["organisation_id", "external_id"], true),
            index("mentorships", &["organisation_id", "status"], false),
            index("mentorships", &["mentor_id"], false),
            index("mentorships", &["offering_id"], false),
            index("cooperations", &["network_id"], false),
            index("cooperations", &["lead_organisation_id"], false),
            index("cooperation_partners", &["organisation_id"], false),
            index("committees", &["network_id"], false),
            index("committee_members", &["member_id"], false),
            index("committee_meetings", &["committee_id"], false),
            index("fundings", &["organisation_id", "external_id"], true),
            index("fundings", &["passed_on_from_id"], false),
            index("audit_events", &["entity", "entity_id"], false),
            index("audit_events", &["network_path"], false),
            index("audit_events", &["organisation_id"], false),
        ];
        for i in indexes {
            m.create_index(i).await?;
        }
        Ok(())
    }
}
