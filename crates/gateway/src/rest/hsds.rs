//! Open Referral HSDS 3.0 export of published offerings ("services") and their
//! organisations, with HSDS's page-number paging. Offerings are public directory data;
//! contacts are people and appear only where the caller may read them.

use super::extract::{Caller, Params};
use super::problem::{Problem, responses::*};
use crate::error::{ApiError, Code};
use crate::state::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use verbund_domain::Record;
use verbund_domain::offering::Offering;
use verbund_domain::organisation::Organisation;
use verbund_domain::policy::Caller as Who;
use verbund_persistence::Scoped;
use verbund_persistence::tables::{
    Contacts, Networks, OfferingFilter, Offerings, OrganisationFilter, Organisations,
};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HsdsParams {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u64>,
    /// Items per page, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u64>,
    /// Only records changed after this moment: `2026-12-31T08:00:00Z` or a day (its start,
    /// UTC).
    pub modified_after: Option<String>,
}

/// An HSDS page.
#[derive(Serialize, ToSchema)]
pub struct HsdsPage<T> {
    pub total_items: u64,
    pub total_pages: u64,
    pub page_number: u64,
    pub size: u64,
    pub first_page: bool,
    pub last_page: bool,
    pub empty: bool,
    pub contents: Vec<T>,
}

#[derive(Serialize, ToSchema)]
pub struct HsdsOrganization {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_organization_id: Option<Uuid>,
    /// The association register entry, where the organisation has one.
    pub organization_identifiers: Vec<HsdsOrganizationIdentifier>,
}

/// A third-party identifier: here the association register entry (Vereinsregister).
#[derive(Serialize, ToSchema)]
pub struct HsdsOrganizationIdentifier {
    /// The organisation's id: it has at most one register entry.
    pub id: Uuid,
    pub organization_id: Uuid,
    /// `Vereinsregister <court>` (org-id.guide lists no scheme per German court).
    pub identifier_type: String,
    pub identifier: String,
}

#[derive(Serialize, ToSchema)]
pub struct HsdsServiceArea {
    pub id: Uuid,
    pub service_id: Uuid,
    pub name: String,
    /// The network's code: ISO 3166-2 for a state, the district key for a region.
    pub extent: String,
    pub extent_type: String,
}

#[derive(Serialize, ToSchema)]
pub struct HsdsLanguage {
    pub id: Uuid,
    pub service_id: Uuid,
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct HsdsContact {
    pub id: Uuid,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct HsdsService {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `active`, or `inactive` once the offering's period has ended.
    pub status: String,
    pub last_modified: String,
    pub organization: Option<HsdsOrganization>,
    pub service_areas: Vec<HsdsServiceArea>,
    pub languages: Vec<HsdsLanguage>,
    pub contacts: Vec<HsdsContact>,
}

fn paging(p: &HsdsParams) -> Result<(u64, u64), ApiError> {
    let page = p.page.unwrap_or(1);
    let per_page = p.per_page.unwrap_or(50);
    if !(1..=1_000_000).contains(&page) || !(1..=100).contains(&per_page) {
        return Err(ApiError {
            code: Code::Validation,
            message: "page must be between 1 and 1000000 and per_page between 1 and 100".into(),
            fields: vec![
                ("page".into(), "1 to 1000000".into()),
                ("per_page".into(), "1 to 100".into()),
            ],
            retry_after: None,
        });
    }
    Ok((page, per_page))
}

/// `modified_after`, read by the domain's parser (422 naming it otherwise).
fn modified_after(p: &HsdsParams) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
    p.modified_after
        .as_deref()
        .map(|raw| {
            verbund_domain::values::instant(raw).map_err(|reason| {
                verbund_persistence::StoreError::Invalid(verbund_domain::ValidationErrors::single(
                    "modified_after",
                    reason,
                ))
                .into()
            })
        })
        .transpose()
}

fn envelope<T>(total: u64, page: u64, per_page: u64, contents: Vec<T>) -> HsdsPage<T> {
    let total_pages = total.div_ceil(per_page);
    HsdsPage {
        total_items: total,
        total_pages,
        page_number: page,
        size: per_page,
        first_page: page == 1,
        last_page: page >= total_pages,
        empty: contents.is_empty(),
        contents,
    }
}

fn organization(r: &Record<Organisation>) -> HsdsOrganization {
    HsdsOrganization {
        id: r.id,
        name: r.data.name.clone(),
        description: r
            .data
            .description
            .clone()
            .unwrap_or_else(|| r.data.name.clone()),
        website: r.data.website.clone(),
        parent_organization_id: r.data.parent_organisation_id,
        organization_identifiers: r
            .data
            .register_court
            .iter()
            .zip(&r.data.register_number)
            .map(|(court, number)| HsdsOrganizationIdentifier {
                id: r.id,
                organization_id: r.id,
                identifier_type: format!("Vereinsregister {court}"),
                identifier: number.clone(),
            })
            .collect(),
    }
}

/// A stable id for a child row HSDS wants identified (service area, language): derived
/// from the service and the value, so that repeated exports agree.
fn derived_id(service: Uuid, what: &str) -> Uuid {
    use sha2::Digest;
    let hash = sha2::Sha256::digest(format!("{service}:{what}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

async fn services(
    public: &Scoped,
    caller: &Scoped,
    (page, per_page): (u64, u64),
    modified_after: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<(u64, Vec<HsdsService>), ApiError> {
    let filter = OfferingFilter {
        published: Some(true),
        modified_after,
        ..Default::default()
    };
    let total = public.count::<Offerings>(&filter).await?;
    let offerings: Vec<Record<Offering>> = public
        .list_numbered::<Offerings>(&filter, page, per_page)
        .await?;
    let mut org_ids: Vec<Uuid> = offerings.iter().map(|o| o.data.organisation_id).collect();
    org_ids.sort();
    org_ids.dedup();
    let orgs: HashMap<Uuid, Record<Organisation>> = public
        .get_many::<Organisations>(&org_ids)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let net_ids = Offering::service_areas(offerings.iter().map(|o| &o.data));
    let nets: HashMap<Uuid, _> = public
        .get_many::<Networks>(&net_ids)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    // Contacts are people: only those the caller may read.
    let mut contacts: HashMap<Uuid, Vec<HsdsContact>> = HashMap::new();
    for c in caller
        .list_for_organisations::<Contacts>(&org_ids, &Default::default())
        .await?
    {
        if c.data.primary {
            contacts
                .entry(c.data.organisation_id)
                .or_default()
                .push(HsdsContact {
                    id: c.id,
                    name: c.data.name,
                    title: c.data.function,
                    email: c.data.email,
                });
        }
    }
    let today = chrono::Utc::now().date_naive();
    let contents = offerings
        .into_iter()
        .map(|o| {
            let d = &o.data;
            HsdsService {
                id: o.id,
                organization_id: d.organisation_id,
                name: d.title.clone(),
                description: d.description.clone(),
                status: if d.period.end.is_some_and(|e| e < today) {
                    "inactive"
                } else {
                    "active"
                }
                .into(),
                last_modified: o
                    .updated_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                organization: orgs.get(&d.organisation_id).map(organization),
                service_areas: d
                    .service_area
                    .iter()
                    .filter_map(|n| nets.get(n))
                    .map(|n| HsdsServiceArea {
                        id: derived_id(o.id, &n.id.to_string()),
                        service_id: o.id,
                        name: n.data.name.clone(),
                        extent: n.data.code.clone(),
                        extent_type: format!("verbund:{}", n.data.level),
                    })
                    .collect(),
                languages: d
                    .languages
                    .iter()
                    .map(|l| HsdsLanguage {
                        id: derived_id(o.id, l),
                        service_id: o.id,
                        code: l.clone(),
                    })
                    .collect(),
                contacts: contacts
                    .get(&d.organisation_id)
                    .map(|v| {
                        v.iter()
                            .map(|c| HsdsContact {
                                id: c.id,
                                name: c.name.clone(),
                                title: c.title.clone(),
                                email: c.email.clone(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        })
        .collect();
    Ok((total, contents))
}

/// Published offerings as HSDS services.
#[utoipa::path(get, path = "/api/v1/hsds/services", tag = "hsds", params(HsdsParams),
    description = "Every role, also without a token: published offerings are public. Contacts appear only where the caller may read them.",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of HSDS 3.0 services", body = HsdsPage<HsdsService>),
        (status = 422, description = "Page or size out of range, or a `modified_after` that is not a day or a time", body = Problem, content_type = "application/problem+json"),
        Malformed, Unauthorized,
    ))]
pub async fn hsds_services(
    State(state): State<AppState>,
    Caller(s): Caller,
    Params(p): Params<HsdsParams>,
) -> Result<Response, ApiError> {
    let (page, per_page) = paging(&p)?;
    let public = state.store.scoped(Who::anonymous()).await?;
    let (total, contents) = services(&public, &s, (page, per_page), modified_after(&p)?).await?;
    Ok(axum::Json(envelope(total, page, per_page, contents)).into_response())
}

/// Organisations of the public directory as HSDS organizations.
#[utoipa::path(get, path = "/api/v1/hsds/organizations", tag = "hsds", params(HsdsParams),
    description = "Every role, also without a token: the public directory.",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of HSDS 3.0 organizations", body = HsdsPage<HsdsOrganization>),
        (status = 422, description = "Page or size out of range, or a `modified_after` that is not a day or a time", body = Problem, content_type = "application/problem+json"),
        Malformed, Unauthorized,
    ))]
pub async fn hsds_organizations(
    State(state): State<AppState>,
    Caller(_s): Caller,
    Params(p): Params<HsdsParams>,
) -> Result<Response, ApiError> {
    let (page, per_page) = paging(&p)?;
    let public = state.store.scoped(Who::anonymous()).await?;
    let filter = OrganisationFilter {
        modified_after: modified_after(&p)?,
        ..Default::default()
    };
    let total = public.count::<Organisations>(&filter).await?;
    let contents = public
        .list_numbered::<Organisations>(&filter, page, per_page)
        .await?
        .iter()
        .map(organization)
        .collect();
    Ok(axum::Json(envelope(total, page, per_page, contents)).into_response())
}
