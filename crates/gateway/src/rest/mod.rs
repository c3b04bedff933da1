//! The REST API under `/api/v1`: every entity as a resource (list, get, create, replace,
//! delete) plus mentorship transitions, documented by an OpenAPI 3.1 document generated
//! from the handlers themselves (`/api/v1/openapi.json`, Swagger UI at `/api/v1/docs`).

pub mod changes;
pub mod csv;
pub mod dto;
pub mod extract;
pub mod handlers;
pub mod hsds;
pub mod problem;
pub mod stat_formats;
pub mod statistics;
pub mod webhooks;

use crate::error::ApiError;
use crate::filters::*;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use dto::*;
use extract::{Body, Caller, ListQuery, Paging, Writer, parse_id};
use handlers::Page;
use problem::{Problem, responses::*};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use verbund_domain::committee::{CommitteeInput, MeetingInput};
use verbund_domain::contact::ContactInput;
use verbund_domain::cooperation::CooperationInput;
use verbund_domain::funding::FundingInput;
use verbund_domain::mentorship::MentorshipInput;
use verbund_domain::network::NetworkInput;
use verbund_domain::offering::OfferingInput;
use verbund_domain::organisation::OrganisationInput;
use verbund_domain::people::{StaffInput, VolunteerInput};
use verbund_persistence::tables::*;

macro_rules! resource {
    (
        $m:ident, $table:ty, $in:ty, $out:ty, $params:ty,
        $path:literal, $item:literal, $tag:literal,
        reads: $reads:literal, writes: $writes:literal
    ) => {
        pub mod $m {
            use super::*;

            #[doc = "List"]
            #[utoipa::path(get, path = $path, tag = $tag, params(Paging, $params), description = $reads,
                security((), ("bearer" = [])),
                responses(
                    (status = 200, description = "A page of records, in a stable order", body = Page<$out>),
                    (status = 422, description = "A parameter value that is not allowed", body = Problem, content_type = "application/problem+json"),
                    Malformed, Unauthorized,
                ))]
            pub async fn list(Caller(s): Caller, q: ListQuery<$params>, uri: Uri) -> Result<Response, ApiError> {
                handlers::list::<$table, $params, $out>(s, q, &uri).await
            }

            #[doc = "Create"]
            #[utoipa::path(post, path = $path, tag = $tag, request_body = $in, description = $writes,
                params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response to this key for 24 hours")),
                security(("bearer" = [])),
                responses(
                    (status = 201, description = "Created", body = $out,
                        headers(("ETag" = String, description = "The version"), ("Location" = String, description = "The new record"))),
                    (status = 409, description = "A duplicate external id, or the same key still in progress", body = Problem, content_type = "application/problem+json"),
                    (status = 422, description = "Invalid fields (named), or a key reused for another body", body = Problem, content_type = "application/problem+json"),
                    Malformed, Unauthorized, Forbidden, BodyRefused,
                ))]
            pub async fn create(State(state): State<AppState>, Writer(s): Writer, headers: HeaderMap, body: Body<$in>) -> Result<Response, ApiError> {
                handlers::create::<$table, $in, $out>(&state, s, &headers, body.value, &body.hash, $path).await
            }

            #[doc = "Get"]
            #[utoipa::path(get, path = $item, tag = $tag, description = $reads,
                params(("id" = uuid::Uuid, Path, description = "The record's id"),
                       ("If-None-Match" = Option<String>, Header, description = "An ETag read before: 304 without a body while the record has not changed")),
                security((), ("bearer" = [])),
                responses(
                    (status = 200, description = "The record", body = $out, headers(("ETag" = String, description = "The version, for If-Match"))),
                    (status = 304, description = "Not changed since the ETag in If-None-Match", headers(("ETag" = String, description = "The version"))),
                    Malformed, Unauthorized, NotFound,
                ))]
            pub async fn get(Caller(s): Caller, Path(id): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
                handlers::get::<$table, $out>(s, parse_id(&id)?, &headers).await
            }

            #[doc = "Replace"]
            #[utoipa::path(put, path = $item, tag = $tag, request_body = $in, description = $writes,
                params(("id" = uuid::Uuid, Path, description = "The record's id"),
                       ("If-Match" = Option<String>, Header, description = "Required: the ETag read before (`*` for any). Without it: 428; with an old one: 412")),
                security(("bearer" = [])),
                responses(
                    (status = 200, description = "The changed record", body = $out, headers(("ETag" = String, description = "The new version"))),
                    Rewritten, Malformed, Unauthorized, Forbidden, NotFound, BodyRefused, Versioned,
                ))]
            pub async fn replace(Writer(s): Writer, Path(id): Path<String>, headers: HeaderMap, body: Body<serde_json::Value>) -> Result<Response, ApiError> {
                handlers::write::<$table, $in, $out>(s, parse_id(&id)?, &headers, body.value, handlers::Write::Replace).await
            }

            #[doc = "Change some fields (JSON Merge Patch)"]
            #[utoipa::path(patch, path = $item, tag = $tag,
                request_body(content = serde_json::Value, content_type = "application/merge-patch+json",
                    description = "RFC 7396: the members to change; `null` clears one. Merged into the record's current representation, which must then be valid as a whole."),
                description = $writes,
                params(("id" = uuid::Uuid, Path, description = "The record's id"),
                       ("If-Match" = Option<String>, Header, description = "Required: the ETag read before (`*` for any). Without it: 428; with an old one: 412")),
                security(("bearer" = [])),
                responses(
                    (status = 200, description = "The changed record", body = $out, headers(("ETag" = String, description = "The new version"))),
                    Rewritten, Malformed, Unauthorized, Forbidden, NotFound, BodyRefused, Versioned,
                ))]
            pub async fn patch(Writer(s): Writer, Path(id): Path<String>, headers: HeaderMap, body: Body<serde_json::Value>) -> Result<Response, ApiError> {
                handlers::write::<$table, $in, $out>(s, parse_id(&id)?, &headers, body.value, handlers::Write::MergePatch).await
            }

            #[doc = "Delete"]
            #[utoipa::path(delete, path = $item, tag = $tag, description = $writes,
                params(("id" = uuid::Uuid, Path, description = "The record's id"),
                       ("If-Match" = Option<String>, Header, description = "Required: the ETag read before (`*` for any). Without it: 428; with an old one: 412")),
                security(("bearer" = [])),
                responses(
                    (status = 204, description = "Deleted"),
                    (status = 409, description = "Other records still refer to it", body = Problem, content_type = "application/problem+json"),
                    Malformed, Unauthorized, Forbidden, NotFound, Versioned,
                ))]
            pub async fn delete(Writer(s): Writer, Path(id): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
                handlers::delete::<$table>(s, parse_id(&id)?, &headers).await
            }
        }
    };
}

resource!(networks, Networks, NetworkInput, crate::views::Network, NetworkFilterInput, "/api/v1/networks", "/api/v1/networks/{id}", "networks",
    reads: "Every role, also without a token: networks are public.",
    writes: "Roles: federal_admin; state_coordinator and regional_coordinator within their network's subtree.");
resource!(organisations, Organisations, OrganisationInput, crate::views::Organisation, OrganisationFilterInput, "/api/v1/organisations", "/api/v1/organisations/{id}", "organisations",
    reads: "Every role. federal_admin all; coordinators their subtree; org_admin and org_member their organisation and its members; ministry_analyst and anonymous the public directory (no street, e-mail, phone).",
    writes: "Roles: federal_admin; coordinators within their subtree; org_admin its own organisation (update only).");
resource!(contacts, Contacts, ContactInput, crate::views::Contact, OwnedFilterInput, "/api/v1/contacts", "/api/v1/contacts/{id}", "contacts",
    reads: "Roles: federal_admin; coordinators within their subtree; org_admin and org_member their organisation and its members. Never ministry_analyst or anonymous.",
    writes: "Roles: federal_admin; coordinators within their subtree; org_admin its organisation.");
resource!(offerings, Offerings, OfferingInput, crate::views::Offering, OfferingFilterInput, "/api/v1/offerings", "/api/v1/offerings/{id}", "offerings",
    reads: "Every role; ministry_analyst and anonymous see published offerings only.",
    writes: "Roles: federal_admin; coordinators within their subtree; org_admin its organisation.");
resource!(volunteers, Volunteers, VolunteerInput, crate::views::Volunteer, OwnedFilterInput, "/api/v1/volunteers", "/api/v1/volunteers/{id}", "volunteers",
    reads: "Roles: federal_admin; coordinators within their subtree; org_admin and org_member their organisation and its members.",
    writes: "Roles: federal_admin; coordinators within their subtree; org_admin and org_member their organisation.");
resource!(staff, StaffMembers, StaffInput, crate::views::Staff, OwnedFilterInput, "/api/v1/staff", "/api/v1/staff/{id}", "staff",
    reads: "Roles: federal_admin; coordinators within their subtree; org_admin and org_member their organisation and its members.",
    writes: "Roles: federal_admin; coordinators within their subtree; org_admin its organisation.");
resource!(mentorships, Mentorships, MentorshipInput, crate::views::Mentorship, MentorshipFilterInput, "/api/v1/mentorships", "/api/v1/mentorships/{id}", "mentorships",
    reads: "Roles: federal_admin; coordinators within their subtree; org_admin and org_member their organisation and its members.",
    writes: "Roles: federal_admin; coordinators within their subtree; org_admin and org_member their organisation.");
resource!(cooperations, Cooperations, CooperationInput, crate::views::Cooperation, CooperationFilterInput, "/api/v1/cooperations", "/api/v1/cooperations/{id}", "cooperations",
    reads: "Roles: federal_admin; coordinators within their subtree; org_admin and org_member the cooperations their organisation (or a member) leads or joins.",
    writes: "Roles: federal_admin; coordinators within their subtree; org_admin the cooperations its organisation leads.");
resource!(committees, Committees, CommitteeInput, crate::views::Committee, CommitteeFilterInput, "/api/v1/committees", "/api/v1/committees/{id}", "committees",
    reads: "Roles: federal_admin; coordinators within their subtree; org_admin and org_member the committees their organisation sits on.",
    writes: "Roles: federal_admin; state_coordinator and regional_coordinator within their network's subtree.");
resource!(meetings, Meetings, MeetingInput, crate::views::Meeting, MeetingFilterInput, "/api/v1/meetings", "/api/v1/meetings/{id}", "committees",
    reads: "Like the meeting's committee.",
    writes: "Roles: federal_admin; state_coordinator and regional_coordinator within their network's subtree.");
resource!(fundings, Fundings, FundingInput, crate::views::Funding, OwnedFilterInput, "/api/v1/fundings", "/api/v1/fundings/{id}", "fundings",
    reads: "Roles: federal_admin; coordinators within their subtree; org_admin and org_member their organisation and its members.",
    writes: "Roles: federal_admin; coordinators within their subtree; org_admin its organisation.");

/// Move a mentorship along requested → matched → active ⇄ paused → ended | cancelled.
#[utoipa::path(post, path = "/api/v1/mentorships/{id}/transitions", tag = "mentorships", request_body = TransitionIn,
    description = "Roles: federal_admin; coordinators within their subtree; org_admin and org_member their organisation. Any move not along the arrows is a 422 naming both states.",
    params(("id" = uuid::Uuid, Path, description = "The mentorship"),
           ("If-Match" = Option<String>, Header, description = "Required: the ETag read before (`*` for any). Without it: 428; with an old one: 412")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The moved mentorship", body = crate::views::Mentorship, headers(("ETag" = String, description = "The new version"))),
        (status = 422, description = "A move the status machine does not allow, or an unknown status", body = Problem, content_type = "application/problem+json"),
        Malformed, Unauthorized, Forbidden, NotFound, BodyRefused, Versioned,
    ))]
pub async fn transition(
    Writer(s): Writer,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body<TransitionIn>,
) -> Result<Response, ApiError> {
    handlers::transition(s, parse_id(&id)?, &headers, body.value).await
}

macro_rules! personal {
    ($m:ident, $table:ty, $out:ty, $erase:literal, $access:literal, $tag:literal) => {
        pub mod $m {
            use super::*;

            #[doc = "Erase the person (Art. 17 GDPR)"]
            #[utoipa::path(post, path = $erase, tag = $tag,
                description = "Overwrites the person's fields (see `erasable` in personal-data) in a new version with an audit event `erase`, and drops every idempotency replay that holds the record. The record stays, so the counts it contributed and the records that point at it stay valid. Roles: whoever may change the record.",
                params(("id" = uuid::Uuid, Path, description = "The record's id"),
                       ("If-Match" = Option<String>, Header, description = "Required: the ETag read before (`*` for any). Without it: 428; with an old one: 412")),
                security(("bearer" = [])),
                responses(
                    (status = 200, description = "The erased record", body = $out, headers(("ETag" = String, description = "The new version"))),
                    Malformed, Unauthorized, Forbidden, NotFound, Versioned,
                ))]
            pub async fn erase(Writer(s): Writer, Path(id): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
                handlers::erase::<$table, $out>(s, parse_id(&id)?, &headers).await
            }

            #[doc = "Everything held about the person (Art. 15 GDPR)"]
            #[utoipa::path(get, path = $access, tag = $tag,
                description = "The record, its audit trail (field names, never values), the records that point at it and the number of stored idempotency replays that hold it. Roles: whoever may read the record.",
                params(("id" = uuid::Uuid, Path, description = "The record's id")),
                security(("bearer" = [])),
                responses(
                    (status = 200, description = "What is held", body = PersonalDataOut),
                    Malformed, Unauthorized, NotFound,
                ))]
            pub async fn personal_data(Caller(s): Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
                handlers::personal_data::<$table, $out>(s, parse_id(&id)?).await
            }
        }
    };
}

personal!(
    contact_rights,
    Contacts,
    crate::views::Contact,
    "/api/v1/contacts/{id}/erasure",
    "/api/v1/contacts/{id}/personal-data",
    "contacts"
);
personal!(
    volunteer_rights,
    Volunteers,
    crate::views::Volunteer,
    "/api/v1/volunteers/{id}/erasure",
    "/api/v1/volunteers/{id}/personal-data",
    "volunteers"
);
personal!(
    staff_rights,
    StaffMembers,
    crate::views::Staff,
    "/api/v1/staff/{id}/erasure",
    "/api/v1/staff/{id}/personal-data",
    "staff"
);

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A token from your identity provider, or `verbund token` in development",
                    ))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Verbund REST API", description = "The data backbone of the Menschen stärken Menschen umbrella association. Errors are RFC 9457 problems with a stable `code`. Writes need `If-Match`; POSTs accept `Idempotency-Key` (bound to the caller: subject, role and scope). Every operation may also answer 429 `RATE_LIMITED` with `Retry-After` (per client address, per token subject, and a smaller budget for failed authentication), 408 `REQUEST_TIMEOUT` when the body is not sent in time, 503 `TIMEOUT` when the server takes too long, and 503 `UNAVAILABLE` with `Retry-After` under overload."),
    modifiers(&BearerAuth),
    components(schemas(Problem, statistics::MeasureName)),
)]
struct ApiDoc;

/// The REST routes and their OpenAPI document, built from the same handler list.
pub fn router() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(networks::list, networks::create))
        .routes(routes!(
            networks::get,
            networks::replace,
            networks::patch,
            networks::delete
        ))
        .routes(routes!(organisations::list, organisations::create))
        .routes(routes!(
            organisations::get,
            organisations::replace,
            organisations::patch,
            organisations::delete
        ))
        .routes(routes!(contacts::list, contacts::create))
        .routes(routes!(
            contacts::get,
            contacts::replace,
            contacts::patch,
            contacts::delete
        ))
        .routes(routes!(offerings::list, offerings::create))
        .routes(routes!(
            offerings::get,
            offerings::replace,
            offerings::patch,
            offerings::delete
        ))
        .routes(routes!(volunteers::list, volunteers::create))
        .routes(routes!(
            volunteers::get,
            volunteers::replace,
            volunteers::patch,
            volunteers::delete
        ))
        .routes(routes!(staff::list, staff::create))
        .routes(routes!(
            staff::get,
            staff::replace,
            staff::patch,
            staff::delete
        ))
        .routes(routes!(mentorships::list, mentorships::create))
        .routes(routes!(
            mentorships::get,
            mentorships::replace,
            mentorships::patch,
            mentorships::delete
        ))
        .routes(routes!(transition))
        .routes(routes!(contact_rights::erase))
        .routes(routes!(contact_rights::personal_data))
        .routes(routes!(volunteer_rights::erase))
        .routes(routes!(volunteer_rights::personal_data))
        .routes(routes!(staff_rights::erase))
        .routes(routes!(staff_rights::personal_data))
        .routes(routes!(cooperations::list, cooperations::create))
        .routes(routes!(
            cooperations::get,
            cooperations::replace,
            cooperations::patch,
            cooperations::delete
        ))
        .routes(routes!(committees::list, committees::create))
        .routes(routes!(
            committees::get,
            committees::replace,
            committees::patch,
            committees::delete
        ))
        .routes(routes!(meetings::list, meetings::create))
        .routes(routes!(
            meetings::get,
            meetings::replace,
            meetings::patch,
            meetings::delete
        ))
        .routes(routes!(fundings::list, fundings::create))
        .routes(routes!(
            fundings::get,
            fundings::replace,
            fundings::patch,
            fundings::delete
        ))
        .routes(routes!(csv::import_organisations))
        .routes(routes!(csv::export_organisations))
        .routes(routes!(csv::import_contacts))
        .routes(routes!(csv::export_contacts))
        .routes(routes!(csv::import_offerings))
        .routes(routes!(csv::export_offerings))
        .routes(routes!(csv::import_volunteers))
        .routes(routes!(csv::export_volunteers))
        .routes(routes!(csv::import_mentorships))
        .routes(routes!(csv::export_mentorships))
        .routes(routes!(csv::import_staff))
        .routes(routes!(csv::export_staff))
        .routes(routes!(csv::import_fundings))
        .routes(routes!(csv::export_fundings))
        .routes(routes!(csv::import_meetings))
        .routes(routes!(csv::export_meetings))
        .routes(routes!(statistics::snapshots, statistics::create_snapshot))
        .routes(routes!(statistics::statistics))
        .routes(routes!(statistics::overlaps))
        .routes(routes!(statistics::overload))
        .routes(routes!(statistics::funding_risks))
        .routes(routes!(changes::changes))
        .routes(routes!(webhooks::create, webhooks::list))
        .routes(routes!(webhooks::get, webhooks::patch, webhooks::delete))
        .routes(routes!(webhooks::rotate_secret))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::redeliver_one))
        .routes(routes!(webhooks::redeliver_range))
        .routes(routes!(hsds::hsds_services))
        .routes(routes!(hsds::hsds_organizations))
        .split_for_parts()
}

/// The OpenAPI document as committed in `schema/openapi.json`.
pub fn openapi_json() -> String {
    let (_, api) = router();
    api.to_pretty_json().unwrap_or_default() + "\n"
}
