//! The filters of the lists, declared once for both doors: each struct is the REST list's
//! query parameters (OpenAPI `IntoParams`) and the GraphQL `filter:` argument
//! (`InputObject`), and `parse` turns it into the store's filter with the domain's parsers,
//! so the same bad value is the same 422 `VALIDATION` naming the same field everywhere.
//! Paging (`first`, `after`) is `PageRequest::parse` in the store, also one reader.

use async_graphql::InputObject;
use chrono::NaiveDate;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::IntoParams;
use uuid::Uuid;
use verbund_domain::cooperation::CooperationStatus;
use verbund_domain::mentorship::MentorshipStatus;
use verbund_domain::network::NetworkLevel;
use verbund_domain::offering::{Category, TargetGroup};
use verbund_domain::organisation::OrganisationKind;
use verbund_domain::values;
use verbund_domain::{Reason, ValidationErrors};
use verbund_persistence::StoreError;
use verbund_persistence::tables::*;

/// A filter as callers send it; `parse` checks its words and gives the store's filter.
pub trait ListFilter: DeserializeOwned + IntoParams + Default {
    type Store;
    fn parse(self) -> Result<Self::Store, StoreError>;
}

/// A word of a closed vocabulary (or a code), read by the domain's parser.
fn word<T>(
    field: &str,
    raw: Option<String>,
    parse: fn(&str) -> Result<T, Reason>,
) -> Result<Option<T>, StoreError> {
    raw.map(|r| {
        parse(&r).map_err(|reason| StoreError::Invalid(ValidationErrors::single(field, reason)))
    })
    .transpose()
}

/// One filter: the struct with both doors' derives, and its `parse`.
macro_rules! filter {
    (
        $(#[$doc:meta])* $name:ident => $store:ty {
            $($(#[$m:meta])* $field:ident : $ty:ty),* $(,)?
        }
        |$f:ident| $parse:expr
    ) => {
        $(#[$doc])*
        #[derive(Deserialize, IntoParams, InputObject, Default, Debug)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            $($(#[$m])* pub $field: $ty,)*
        }

        impl ListFilter for $name {
            type Store = $store;
            fn parse(self) -> Result<$store, StoreError> {
                let $f = self;
                Ok($parse)
            }
        }
    };
}

filter!(
    NetworkFilterInput => NetworkFilter {
        /// `federal`, `state` or `regional`.
        #[param(value_type = Option<NetworkLevel>)]
        level: Option<String>,
        parent_id: Option<Uuid>,
        /// Networks at or below this network.
        within: Option<Uuid>,
        /// Text in the name.
        search: Option<String>,
    }
    |f| NetworkFilter {
        level: word("level", f.level, NetworkLevel::parse)?,
        parent_id: f.parent_id,
        within: f.within,
        search: f.search,
        ..Default::default()
    }
);

filter!(
    OrganisationFilterInput => OrganisationFilter {
        /// Organisations at home in this network or below it.
        within: Option<Uuid>,
        #[param(value_type = Option<OrganisationKind>)]
        kind: Option<String>,
        parent_organisation_id: Option<Uuid>,
        /// Text in the name.
        search: Option<String>,
        /// Organisations changed after this moment: `2026-12-31T08:00:00Z` or a day.
        modified_after: Option<String>,
    }
    |f| OrganisationFilter {
        within: f.within,
        kind: word("kind", f.kind, OrganisationKind::parse)?,
        parent_organisation_id: f.parent_organisation_id,
        search: f.search,
        modified_after: word("modifiedAfter", f.modified_after, values::instant)?,
        ..Default::default()
    }
);

filter!(
    /// Filters of records that belong to an organisation.
    OwnedFilterInput => OwnedFilter {
        organisation_id: Option<Uuid>,
        /// Records of organisations at home in this network or below it.
        within: Option<Uuid>,
        /// Text in the name (or title, or the mentee reference).
        search: Option<String>,
    }
    |f| OwnedFilter {
        organisation_id: f.organisation_id,
        within: f.within,
        search: f.search,
    }
);

filter!(
    OfferingFilterInput => OfferingFilter {
        organisation_id: Option<Uuid>,
        /// Offerings of organisations at home in this network or below it.
        within: Option<Uuid>,
        /// Text in the title or description.
        search: Option<String>,
        #[param(value_type = Option<Category>)]
        category: Option<String>,
        #[param(value_type = Option<TargetGroup>)]
        target_group: Option<String>,
        /// ISO 639-1 code.
        language: Option<String>,
        published: Option<bool>,
        /// Offerings whose service area lies in this network or below it.
        serving: Option<Uuid>,
        /// A postcode or its first digits.
        #[param(pattern = "^[0-9]{1,5}$")]
        postcode: Option<String>,
        /// Offerings changed after this moment: `2026-12-31T08:00:00Z` or a day.
        modified_after: Option<String>,
    }
    |f| OfferingFilter {
        modified_after: word("modifiedAfter", f.modified_after, values::instant)?,
        postcode: word("postcode", f.postcode, values::postcode_prefix)?,
        language: word("language", f.language, values::language)?,
        category: word("category", f.category, Category::parse)?,
        target_group: word("targetGroup", f.target_group, TargetGroup::parse)?,
        published: f.published,
        serving: f.serving,
        owned: OwnedFilter {
            organisation_id: f.organisation_id,
            within: f.within,
            search: f.search,
        },
    }
);

filter!(
    MentorshipFilterInput => MentorshipFilter {
        organisation_id: Option<Uuid>,
        /// Mentorships of organisations at home in this network or below it.
        within: Option<Uuid>,
        /// Text in the mentee reference.
        search: Option<String>,
        #[param(value_type = Option<MentorshipStatus>)]
        status: Option<String>,
        #[param(value_type = Option<TargetGroup>)]
        target_group: Option<String>,
        mentor_id: Option<Uuid>,
        /// Requested on or after this day (YYYY-MM-DD).
        requested_from: Option<NaiveDate>,
        /// Requested on or before this day (YYYY-MM-DD).
        requested_until: Option<NaiveDate>,
    }
    |f| MentorshipFilter {
        status: word("status", f.status, MentorshipStatus::parse)?,
        target_group: word("targetGroup", f.target_group, TargetGroup::parse)?,
        mentor_id: f.mentor_id,
        requested_from: f.requested_from,
        requested_until: f.requested_until,
        owned: OwnedFilter {
            organisation_id: f.organisation_id,
            within: f.within,
            search: f.search,
        },
    }
);

filter!(
    CooperationFilterInput => CooperationFilter {
        /// Cooperations of a lead organisation at home in this network or below it.
        within: Option<Uuid>,
        #[param(value_type = Option<CooperationStatus>)]
        status: Option<String>,
        /// Cooperations this organisation leads or is a partner of.
        organisation_id: Option<Uuid>,
    }
    |f| CooperationFilter {
        within: f.within,
        status: word("status", f.status, CooperationStatus::parse)?,
        organisation_id: f.organisation_id,
        ..Default::default()
    }
);

filter!(
    CommitteeFilterInput => CommitteeFilter {
        /// Committees of this network or a network below it.
        within: Option<Uuid>,
        network_id: Option<Uuid>,
        /// Text in the name.
        search: Option<String>,
    }
    |f| CommitteeFilter {
        within: f.within,
        network_id: f.network_id,
        search: f.search,
        ..Default::default()
    }
);

filter!(
    MeetingFilterInput => MeetingFilter {
        committee_id: Option<Uuid>,
    }
    |f| MeetingFilter {
        committee_id: f.committee_id,
        ..Default::default()
    }
);
