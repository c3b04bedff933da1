//! Query parameters of the list endpoints, turned into the store's filters. Unknown
//! parameters are refused; a value that does not parse names its parameter.

use crate::error::{ApiError, Code};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;
use verbund_domain::Reason;
use verbund_domain::cooperation::CooperationStatus;
use verbund_domain::mentorship::MentorshipStatus;
use verbund_domain::network::NetworkLevel;
use verbund_domain::offering::{Category, TargetGroup};
use verbund_domain::organisation::OrganisationKind;
use verbund_persistence::tables::*;

/// Paging and filters of one list endpoint.
pub trait ListParams {
    type Filter;
    fn paging(&self) -> (Option<u32>, Option<&str>);
    /// Whether the page should carry `total` (`?total=true`).
    fn wants_total(&self) -> bool;
    fn into_filter(self) -> Result<Self::Filter, ApiError>;
}

fn word<T>(
    name: &str,
    raw: Option<String>,
    parse: fn(&str) -> Result<T, Reason>,
) -> Result<Option<T>, ApiError> {
    raw.map(|r| {
        parse(&r).map_err(|reason| ApiError {
            code: Code::Validation,
            message: format!("query parameter `{name}`: {reason}"),
            fields: vec![(name.to_owned(), reason.to_string())],
            retry_after: None,
        })
    })
    .transpose()
}

macro_rules! params {
    ($name:ident { $($(#[$m:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        #[derive(Deserialize, IntoParams, Default)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            /// Page size, 1 to 100 (default 20).
            pub first: Option<u32>,
            /// Cursor from the previous page's `nextCursor`.
            #[param(pattern = "^[A-Za-z0-9_-]{22}$")]
            pub after: Option<String>,
            /// `true`: the page also says how many records match across all pages (`total`;
            /// one more count in the database).
            pub total: Option<bool>,
            $($(#[$m])* pub $field: $ty,)*
        }
    };
}

macro_rules! paging {
    () => {
        fn paging(&self) -> (Option<u32>, Option<&str>) {
            (self.first, self.after.as_deref())
        }
        fn wants_total(&self) -> bool {
            self.total == Some(true)
        }
    };
}

params!(NetworkParams {
    /// `federal`, `state` or `regional`.
    level: Option<String>,
    parent_id: Option<Uuid>,
    /// Networks at or below this network.
    within: Option<Uuid>,
    search: Option<String>,
});

impl ListParams for NetworkParams {
    type Filter = NetworkFilter;
    paging!();
    fn into_filter(self) -> Result<NetworkFilter, ApiError> {
        Ok(NetworkFilter {
            level: word("level", self.level, NetworkLevel::parse)?,
            parent_id: self.parent_id,
            within: self.within,
            search: self.search,
            ..Default::default()
        })
    }
}

params!(OrganisationParams {
    /// Organisations at home in this network or below it.
    within: Option<Uuid>,
    /// `programme_partner`, `member`, `coordination_office`, `welcome_centre`, `administration`, `other`.
    kind: Option<String>,
    parent_organisation_id: Option<Uuid>,
    /// Text in the name.
    search: Option<String>,
});

impl ListParams for OrganisationParams {
    type Filter = OrganisationFilter;
    paging!();
    fn into_filter(self) -> Result<OrganisationFilter, ApiError> {
        Ok(OrganisationFilter {
            within: self.within,
            kind: word("kind", self.kind, OrganisationKind::parse)?,
            parent_organisation_id: self.parent_organisation_id,
            search: self.search,
            ..Default::default()
        })
    }
}

params!(OwnedParams {
    organisation_id: Option<Uuid>,
    /// Records of organisations at home in this network or below it.
    within: Option<Uuid>,
    search: Option<String>,
});

impl ListParams for OwnedParams {
    type Filter = OwnedFilter;
    paging!();
    fn into_filter(self) -> Result<OwnedFilter, ApiError> {
        Ok(OwnedFilter {
            organisation_id: self.organisation_id,
            within: self.within,
            search: self.search,
        })
    }
}

params!(OfferingParams {
    organisation_id: Option<Uuid>,
    within: Option<Uuid>,
    /// Text in title or description.
    search: Option<String>,
    /// `mentorship`, `language`, `counselling`, `education`, `employment`, `leisure`, `other`.
    category: Option<String>,
    target_group: Option<String>,
    /// ISO 639-1 code.
    language: Option<String>,
    published: Option<bool>,
    /// Offerings whose service area lies in this network or below it.
    serving: Option<Uuid>,
    /// A postcode or its first digits.
    #[param(pattern = "^[0-9]{1,5}$")]
    postcode: Option<String>,
});

impl ListParams for OfferingParams {
    type Filter = OfferingFilter;
    paging!();
    fn into_filter(self) -> Result<OfferingFilter, ApiError> {
        // The same parsers as GraphQL's filter: the same bad value, the same 422.
        let postcode = word(
            "postcode",
            self.postcode,
            verbund_domain::values::postcode_prefix,
        )?;
        let language = word("language", self.language, verbund_domain::values::language)?;
        Ok(OfferingFilter {
            owned: OwnedFilter {
                organisation_id: self.organisation_id,
                within: self.within,
                search: self.search,
            },
            category: word("category", self.category, Category::parse)?,
            target_group: word("targetGroup", self.target_group, TargetGroup::parse)?,
            language,
            published: self.published,
            serving: self.serving,
            postcode,
        })
    }
}

params!(MentorshipParams {
    organisation_id: Option<Uuid>,
    within: Option<Uuid>,
    /// Text in the mentee reference.
    search: Option<String>,
    /// `requested`, `matched`, `active`, `paused`, `ended`, `cancelled`.
    status: Option<String>,
    target_group: Option<String>,
    mentor_id: Option<Uuid>,
    /// Requested on or after this day (YYYY-MM-DD).
    requested_from: Option<NaiveDate>,
    /// Requested on or before this day.
    requested_until: Option<NaiveDate>,
});

impl ListParams for MentorshipParams {
    type Filter = MentorshipFilter;
    paging!();
    fn into_filter(self) -> Result<MentorshipFilter, ApiError> {
        Ok(MentorshipFilter {
            owned: OwnedFilter {
                organisation_id: self.organisation_id,
                within: self.within,
                search: self.search,
            },
            status: word("status", self.status, MentorshipStatus::parse)?,
            target_group: word("targetGroup", self.target_group, TargetGroup::parse)?,
            mentor_id: self.mentor_id,
            requested_from: self.requested_from,
            requested_until: self.requested_until,
        })
    }
}

params!(CooperationParams {
    within: Option<Uuid>,
    /// `planned`, `active`, `completed`, `dissolved`.
    status: Option<String>,
    /// Cooperations this organisation leads or is a partner of.
    organisation_id: Option<Uuid>,
});

impl ListParams for CooperationParams {
    type Filter = CooperationFilter;
    paging!();
    fn into_filter(self) -> Result<CooperationFilter, ApiError> {
        Ok(CooperationFilter {
            within: self.within,
            status: word("status", self.status, CooperationStatus::parse)?,
            organisation_id: self.organisation_id,
            ..Default::default()
        })
    }
}

params!(CommitteeParams { within: Option<Uuid>, network_id: Option<Uuid>, search: Option<String> });

impl ListParams for CommitteeParams {
    type Filter = CommitteeFilter;
    paging!();
    fn into_filter(self) -> Result<CommitteeFilter, ApiError> {
        Ok(CommitteeFilter {
            within: self.within,
            network_id: self.network_id,
            search: self.search,
            ..Default::default()
        })
    }
}

params!(MeetingParams { committee_id: Option<Uuid> });

impl ListParams for MeetingParams {
    type Filter = MeetingFilter;
    paging!();
    fn into_filter(self) -> Result<MeetingFilter, ApiError> {
        Ok(MeetingFilter {
            committee_id: self.committee_id,
            ..Default::default()
        })
    }
}
