//! What a reader gets of each record: one type per resource, used as it is by both doors —
//! the REST response and its OpenAPI schema (serde, utoipa) and the GraphQL object (its
//! plain fields; the links to other records as objects are added in `graphql::types`).
//! What a writer sends is the domain's input type (e.g. `ContactInput`), likewise shared.
//!
//! A field named `…Id` holds a record's UUID in every door (REST, GraphQL, CSV); in GraphQL
//! `id` is the opaque global id of `node(id:)` and `uuid` the record's UUID.

use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;
use verbund_domain::Record;
use verbund_domain::change::Change;
use verbund_domain::committee::{Committee as CommitteeData, Meeting as MeetingData, Member};
use verbund_domain::contact::Contact as ContactData;
use verbund_domain::cooperation::{Cooperation as CooperationData, Partner as PartnerData};
use verbund_domain::funding::Funding as FundingData;
use verbund_domain::mentorship::Mentorship as MentorshipData;
use verbund_domain::network::Network as NetworkData;
use verbund_domain::offering::Offering as OfferingData;
use verbund_domain::organisation::Organisation as OrganisationData;
use verbund_domain::people::{Staff as StaffData, Volunteer as VolunteerData};
use verbund_persistence::changes::ChangePage;

/// Identity and bookkeeping of every record.
#[derive(Serialize, ToSchema, SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(visible = false)]
pub struct Meta {
    /// The record's UUID (in GraphQL `uuid`; `id` there is the opaque global id).
    #[graphql(name = "uuid")]
    pub id: Uuid,
    /// Optimistic concurrency: send it back in `If-Match` (it is also the `ETag`), or with
    /// a GraphQL update or delete.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A resource as readers get it: the record's `Meta` and the domain's fields (and, for a
/// few, fields computed from them), one object in every door (serde, utoipa,
/// async-graphql), read through `Deref`.
macro_rules! view {
    (
        $(#[$doc:meta])* $name:ident($data:ty)
        $(, |$d:ident| { $($field:ident: $fty:ty = $init:expr),* $(,)? })?
    ) => {
        $(#[$doc])*
        #[derive(Serialize, ToSchema, SimpleObject)]
        #[serde(rename_all = "camelCase")]
        #[graphql(complex)]
        pub struct $name {
            #[serde(flatten)]
            #[graphql(flatten)]
            pub meta: Meta,
            #[serde(flatten)]
            #[graphql(flatten)]
            #[schema(inline)]
            pub data: $data,
            $($(pub $field: $fty,)*)?
        }

        impl From<Record<$data>> for $name {
            fn from(r: Record<$data>) -> Self {
                $(let $d = &r.data; $(let $field = $init;)*)?
                $name {
                    meta: Meta::from(&r),
                    $($($field,)*)?
                    data: r.data,
                }
            }
        }

        impl std::ops::Deref for $name {
            type Target = $data;
            fn deref(&self) -> &$data {
                &self.data
            }
        }
    };
}

impl<T> From<&Record<T>> for Meta {
    fn from(r: &Record<T>) -> Self {
        Meta {
            id: r.id,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

view!(
    /// A network: the federal root, a state or a region.
    Network(NetworkData)
);

view!(
    /// An organisation: a programme partner, a member organisation, an office.
    Organisation(OrganisationData)
);

view!(
    /// A contact person of an organisation.
    Contact(ContactData)
);

view!(
    /// An offering in the directory.
    Offering(OfferingData)
);

view!(
    /// A volunteer, by the organisation's pseudonymous reference.
    Volunteer(VolunteerData)
);

view!(
    /// A paid staff member, by the organisation's pseudonymous reference.
    Staff(StaffData)
);

view!(
    /// A mentorship (tandem) between a volunteer and a mentee.
    Mentorship(MentorshipData)
);

/// An organisation taking part in a cooperation.
#[derive(Serialize, ToSchema, SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(complex)]
pub struct Partner {
    pub organisation_id: Uuid,
    pub role: String,
    pub resources: Option<String>,
}

impl From<&PartnerData> for Partner {
    fn from(p: &PartnerData) -> Self {
        Partner {
            organisation_id: p.organisation_id,
            role: p.role.clone(),
            resources: p.resources.clone(),
        }
    }
}

view!(
    /// A cooperation of organisations in a network.
    Cooperation(CooperationData),
    |d| {
        partners: Vec<Partner> = d.partners.iter().map(Partner::from).collect(),
    }
);

view!(
    /// A committee (Gremium) of a network.
    Committee(CommitteeData),
    |d| {
        member_organisation_ids: Vec<Uuid> = members(d, |m| match m {
            Member::Organisation(o) => Some(*o),
            Member::Contact(_) => None,
        }),
        member_contact_ids: Vec<Uuid> = members(d, |m| match m {
            Member::Contact(c) => Some(*c),
            Member::Organisation(_) => None,
        }),
    }
);

fn members(d: &CommitteeData, pick: impl Fn(&Member) -> Option<Uuid>) -> Vec<Uuid> {
    d.members.iter().filter_map(pick).collect()
}

view!(
    /// A meeting of a committee.
    Meeting(MeetingData)
);

view!(
    /// Money granted to an organisation.
    Funding(FundingData)
);

/// A page of the change feed.
#[derive(Serialize, ToSchema, SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(name = "ChangePage")]
pub struct ChangesOut {
    /// Changes in commit order.
    pub items: Vec<Change>,
    /// Send it back as `after` for the next page (also when `items` is empty).
    pub next_cursor: String,
    /// Whether more changes are there already (ask again at once).
    pub has_more: bool,
}

impl From<ChangePage> for ChangesOut {
    fn from(p: ChangePage) -> Self {
        ChangesOut {
            items: p.items,
            next_cursor: p.next_cursor,
            has_more: p.has_more,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use verbund_domain::change::ChangeAction;
    use verbund_domain::cooperation::CooperationStatus;
    use verbund_domain::funding::FunderKind;
    use verbund_domain::mentorship::{EndReason, MentorshipFormat, MentorshipStatus};
    use verbund_domain::network::NetworkLevel;
    use verbund_domain::offering::{Category, TargetGroup};
    use verbund_domain::organisation::{OrganisationKind, Sector};
    use verbund_domain::policy::EntityKind;

    /// The words a door shows for an enum: OpenAPI's, GraphQL's and serde's are the domain's.
    fn same_words<T>(words: &[&str])
    where
        T: utoipa::PartialSchema + async_graphql::EnumType + Serialize + Copy + 'static,
    {
        let schema = serde_json::to_value(T::schema()).expect("schema");
        let openapi: Vec<&str> = schema["enum"]
            .as_array()
            .expect("an enum")
            .iter()
            .filter_map(|w| w.as_str())
            .collect();
        assert_eq!(openapi, words, "OpenAPI");
        let graphql: Vec<&str> = T::items().iter().map(|i| i.name).collect();
        assert_eq!(graphql, words, "GraphQL");
        let serde: Vec<String> = T::items()
            .iter()
            .map(|i| {
                serde_json::to_value(i.value)
                    .expect("word")
                    .as_str()
                    .unwrap_or("")
                    .to_owned()
            })
            .collect();
        assert_eq!(serde, words, "JSON");
    }

    #[test]
    fn enums_have_the_domains_words_in_every_door() {
        same_words::<NetworkLevel>(NetworkLevel::WORDS);
        same_words::<OrganisationKind>(OrganisationKind::WORDS);
        same_words::<Sector>(Sector::WORDS);
        same_words::<Category>(Category::WORDS);
        same_words::<TargetGroup>(TargetGroup::WORDS);
        same_words::<MentorshipFormat>(MentorshipFormat::WORDS);
        same_words::<MentorshipStatus>(MentorshipStatus::WORDS);
        same_words::<EndReason>(EndReason::WORDS);
        same_words::<CooperationStatus>(CooperationStatus::WORDS);
        same_words::<FunderKind>(FunderKind::WORDS);
        same_words::<EntityKind>(EntityKind::WORDS);
        same_words::<ChangeAction>(ChangeAction::WORDS);
    }
}
