//! CSV import and export for the spreadsheets organisations keep: organisations, contacts,
//! offerings, volunteers and mentorships. Import reads what people really export (UTF-8
//! with or without BOM, comma or semicolon, quoted fields, German dates `31.12.2025`), is
//! all-or-nothing with a report of every bad row (row, column, reason), and upserts by the
//! organisation's own `externalId`, so importing the same file twice changes nothing.
//! Export writes the same columns (plus `id`), page by page as a stream.

use super::extract::{Caller, Writer};
use super::problem::{Problem, malformed, responses::*};
use crate::error::{ApiError, Code};
use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use verbund_domain::Record;
use verbund_persistence::tables::*;
use verbund_persistence::{Importable, PageRequest, Scoped, StoreError, Table};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Id,
    Int,
    Bool,
    Date,
    List,
}

/// A file's columns: the fields of the resource's one input type, in its order (the key
/// `externalId` first), each read as the type its schema declares.
type Columns = std::sync::Arc<[(String, Kind)]>;

fn columns_of<I: utoipa::PartialSchema>() -> Columns {
    use utoipa::openapi::{RefOr, schema::Schema};
    let RefOr::T(Schema::Object(object)) = I::schema() else {
        return Vec::new().into();
    };
    let mut columns = Vec::new();
    // The properties keep their declaration order (utoipa's `preserve_order`).
    for (name, property) in object.properties {
        let p = serde_json::to_value(property).unwrap_or_default();
        let types = match &p["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let kind = if types.contains(&"array") {
            Kind::List
        } else if types.contains(&"boolean") {
            Kind::Bool
        } else if types.contains(&"integer") {
            Kind::Int
        } else {
            match p["format"].as_str() {
                Some("uuid") => Kind::Id,
                Some("date") => Kind::Date,
                _ => Kind::Text,
            }
        };
        columns.push((name, kind));
    }
    if let Some(at) = columns.iter().position(|(c, _)| c == "externalId") {
        let key = columns.remove(at);
        columns.insert(0, key);
    }
    columns.into()
}

/// Columns an export adds and an import ignores.
const BOOKKEEPING: &[&str] = &["id", "version", "createdAt", "updatedAt"];

/// What an import did.
#[derive(Serialize, ToSchema)]
pub struct ImportResult {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

fn date(raw: &str) -> Result<String, String> {
    let d = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| chrono::NaiveDate::parse_from_str(raw, "%d.%m.%Y"))
        .or_else(|_| chrono::NaiveDate::parse_from_str(raw, "%d.%m.%y"))
        .map_err(|_| format!("`{raw}` is not a date (31.12.2025 or 2025-12-31)"))?;
    Ok(d.format("%Y-%m-%d").to_string())
}

fn cell(kind: Kind, raw: &str) -> Result<Value, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(match kind {
            Kind::List => Value::Array(vec![]),
            _ => Value::Null,
        });
    }
    let t = from_cell_text(t);
    Ok(match kind {
        Kind::Text | Kind::Id => Value::String(t.to_owned()),
        Kind::Int => Value::from(
            t.parse::<i64>()
                .map_err(|_| format!("`{t}` is not a whole number"))?,
        ),
        Kind::Bool => Value::Bool(match t.to_lowercase().as_str() {
            "ja" | "yes" | "true" | "1" | "x" | "wahr" => true,
            "nein" | "no" | "false" | "0" | "falsch" => false,
            _ => return Err(format!("`{t}` is not yes/no (ja/nein, true/false, 1/0)")),
        }),
        Kind::Date => Value::String(date(t)?),
        Kind::List => Value::Array(
            t.split(['|', ','])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_owned()))
                .collect(),
        ),
    })
}

/// Problems with rows, as (row number counted like a spreadsheet, column, reason).
fn report(rows: Vec<(usize, String, String)>) -> ApiError {
    let n = rows.len();
    ApiError {
        code: Code::Validation,
        message: format!("{n} problem(s) in the file; nothing was imported"),
        fields: rows
            .into_iter()
            .map(|(r, c, reason)| (format!("row {r}, column {c}"), reason))
            .collect(),
        retry_after: None,
    }
}

/// Reads the file into one JSON object per row, or reports every bad cell.
/// One data row: its spreadsheet row number and its cells as JSON.
type Row = (usize, Map<String, Value>);

fn read(bytes: &[u8], columns: Columns) -> Result<Vec<Row>, ApiError> {
    let text = std::str::from_utf8(bytes).map_err(|_| malformed("the file is not UTF-8"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first_line = text.lines().next().unwrap_or("");
    let delimiter = if first_line.matches(';').count() > first_line.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| malformed(format!("the header row does not parse: {e}")))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let mut problems = Vec::new();
    let mut kinds = Vec::new();
    for h in &headers {
        match columns.iter().find(|(c, _)| c == h) {
            Some((_, k)) => kinds.push(Some(*k)),
            None if BOOKKEEPING.contains(&h.as_str()) => kinds.push(None),
            None => {
                problems.push((
                    1,
                    h.clone(),
                    format!(
                        "unknown column; the columns are {}",
                        columns
                            .iter()
                            .map(|c| c.0.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
                kinds.push(None);
            }
        }
    }
    if !headers.iter().any(|h| h == "externalId") {
        problems.push((
            1,
            "externalId".into(),
            "is required: imports upsert by the organisation's own key".into(),
        ));
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push((row, "-".into(), format!("does not parse: {e}")));
                continue;
            }
        };
        let mut obj = Map::new();
        for ((h, kind), value) in headers.iter().zip(&kinds).zip(record.iter()) {
            let Some(kind) = kind else { continue };
            match cell(*kind, value) {
                Ok(Value::Null) => {}
                Ok(v) => {
                    obj.insert(h.clone(), v);
                }
                Err(reason) => problems.push((row, h.clone(), reason)),
            }
        }
        if obj.get("externalId").is_none_or(Value::is_null) {
            problems.push((row, "externalId".into(), "is required".into()));
        }
        rows.push((row, obj));
    }
    if rows.is_empty() && problems.is_empty() {
        return Err(report(vec![(2, "-".into(), "the file has no rows".into())]));
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(report(problems))
    }
}

async fn import<T>(
    s: Scoped,
    charge: Option<crate::rate::Charge>,
    headers: &HeaderMap,
    body: Bytes,
    columns: Columns,
) -> Result<Response, ApiError>
where
    T: Importable,
    T::Data: PartialEq,
    T::Input: DeserializeOwned,
{
    let csv_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|v| v == "text/csv" || v == "application/csv");
    if !csv_type {
        return Err(ApiError::new(
            Code::UnsupportedMediaType,
            "the body must be CSV (Content-Type: text/csv)",
        ));
    }
    let rows = read(&body, columns)?;
    // An import costs by its rows, not as one request.
    if let Some(c) = &charge {
        c.take_rows(rows.len())
            .map_err(|wait| crate::rate::rate_limited(wait, "(imports count by their rows)"))?;
    }
    let mut problems = Vec::new();
    let mut data = Vec::new();
    let mut numbers = Vec::new();
    for (row, mut obj) in rows {
        // An empty cell is an absent field: its default (an organisation's own id, no value).
        obj.retain(|_, v| !v.is_null());
        let input: T::Input = match serde_json::from_value(Value::Object(obj)) {
            Ok(i) => i,
            Err(e) => {
                let text = e.to_string();
                let column = text.split('`').nth(1).unwrap_or("-").to_owned();
                problems.push((row, column, text));
                continue;
            }
        };
        match s.parse_input::<T>(input).await {
            Ok(d) => {
                data.push(d);
                numbers.push(row);
            }
            Err(StoreError::Invalid(v)) => problems.extend(
                v.0.into_iter()
                    .map(|f| (row, f.field, f.reason.to_string())),
            ),
            Err(e) => problems.push((row, "-".into(), ApiError::from(e).message)),
        }
    }
    if !problems.is_empty() {
        return Err(report(problems));
    }
    match s.import::<T>(data).await {
        Ok(r) => Ok(axum::Json(ImportResult {
            created: r.created,
            updated: r.updated,
            unchanged: r.unchanged,
        })
        .into_response()),
        Err((i, e)) => {
            let row = numbers.get(i).copied().unwrap_or(0);
            // A rule the write path checks against the stored record (a status move) names
            // its row and column like the checks above.
            if let StoreError::Invalid(v) = e {
                return Err(report(
                    v.0.into_iter()
                        .map(|f| (row, f.field, f.reason.to_string()))
                        .collect(),
                ));
            }
            let e = ApiError::from(e);
            Err(ApiError {
                code: e.code,
                message: format!("row {row}: {}; nothing was imported", e.message),
                fields: vec![(format!("row {row}"), e.message)],
                retry_after: None,
            })
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `comma` (default) or `semicolon` (what German spreadsheet programs expect).
    #[param(pattern = "^(comma|semicolon)$")]
    pub delimiter: Option<String>,
}

/// Whether a spreadsheet would run the text as a formula: it starts (after any quote
/// marks) with `=`, `+`, `-`, `@`, a tab or a carriage return.
fn formula_like(text: &str) -> bool {
    text.trim_start_matches('\'')
        .starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// A text cell as exported: formula-like text gets a leading `'`, which spreadsheets take
/// as "this is text" and do not show; [`from_cell_text`] takes it off again on import.
fn to_cell_text(text: &str) -> String {
    if formula_like(text) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// An imported text cell: the `'` an export put before formula-like text is removed.
fn from_cell_text(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if formula_like(rest) => rest,
        _ => text,
    }
}

fn text_of(kind: Kind, v: &Value) -> String {
    match (kind, v) {
        (_, Value::Null) => String::new(),
        (Kind::List, Value::Array(items)) => to_cell_text(
            &items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| i.to_string())
                })
                .collect::<Vec<_>>()
                .join("|"),
        ),
        (_, Value::String(s)) => to_cell_text(s),
        (_, other) => other.to_string(),
    }
}

async fn export<T, O>(
    s: Scoped,
    params: ExportParams,
    columns: Columns,
) -> Result<Response, ApiError>
where
    T: Table,
    O: Serialize + From<Record<T::Data>> + 'static,
{
    let delimiter = match params.delimiter.as_deref() {
        None | Some("comma") => b',',
        Some("semicolon") => b';',
        Some(other) => {
            return Err(malformed(format!(
                "delimiter `{other}` is not comma or semicolon"
            )));
        }
    };
    // Check access and the first page before the status line is sent.
    let first = s
        .list::<T>(
            &T::Filter::default(),
            &PageRequest {
                first: 500,
                after: None,
            },
        )
        .await?;
    let line = move |fields: Vec<String>| -> Bytes {
        let mut w = csv::WriterBuilder::new()
            .delimiter(delimiter)
            .from_writer(Vec::new());
        let _ = w.write_record(&fields);
        Bytes::from(w.into_inner().unwrap_or_default())
    };
    let header: Vec<String> = std::iter::once("id".to_owned())
        .chain(columns.iter().map(|c| c.0.to_owned()))
        .collect();
    let rows = move |items: Vec<Record<T::Data>>| -> Bytes {
        let mut out = Vec::new();
        for r in items {
            let v = serde_json::to_value(O::from(r)).unwrap_or_default();
            let mut fields = vec![text_of(Kind::Id, &v["id"])];
            fields.extend(columns.iter().map(|(c, k)| text_of(*k, &v[c.as_str()])));
            out.extend_from_slice(&line(fields));
        }
        Bytes::from(out)
    };
    let head = line(header);
    let state = (Some(first), s);
    let stream = futures::stream::unfold(state, move |(page, s)| {
        let rows = rows.clone();
        async move {
            let page = page?;
            let cursor = if page.has_next {
                page.end_cursor()
            } else {
                None
            };
            let chunk = rows(page.items);
            let next = match cursor {
                Some(after) => match s
                    .list::<T>(
                        &T::Filter::default(),
                        &PageRequest {
                            first: 500,
                            after: Some(after),
                        },
                    )
                    .await
                {
                    Ok(p) => Some(p),
                    Err(e) => {
                        tracing::error!(error = %e, "export stopped");
                        None
                    }
                },
                None => None,
            };
            Some((Ok::<Bytes, std::io::Error>(chunk), (next, s)))
        }
    });
    let body = futures::stream::once(async move { Ok::<Bytes, std::io::Error>(head) })
        .chain_stream(stream);
    Ok((
        StatusCode::OK,
        [(CONTENT_TYPE, "text/csv; charset=utf-8")],
        axum::body::Body::from_stream(body),
    )
        .into_response())
}

trait Chain: futures::Stream + Sized {
    fn chain_stream<S: futures::Stream<Item = Self::Item>>(
        self,
        other: S,
    ) -> futures::stream::Chain<Self, S> {
        futures::StreamExt::chain(self, other)
    }
}
impl<S: futures::Stream> Chain for S {}

macro_rules! csv_resource {
    ($import:ident, $export:ident, $table:ty, $out:ty, $import_path:literal, $export_path:literal, $tag:literal) => {
        #[doc = "Import a CSV file"]
        #[utoipa::path(post, path = $import_path, tag = $tag,
            request_body(content = String, content_type = "text/csv", description = "UTF-8 (BOM allowed), comma or semicolon, a header row with the export's columns; `externalId` required"),
            description = "Roles: as for creating and changing these records. All rows or none; a row whose externalId exists is updated (or left alone when equal).",
            security(("bearer" = [])),
            responses(
                (status = 200, description = "Imported", body = ImportResult),
                (status = 400, description = "Not UTF-8 or not CSV", body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "A row conflicts with stored records", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "Bad rows, each with row, column and reason; nothing imported", body = Problem, content_type = "application/problem+json"),
                (status = 429, description = "Over the rate limit (an import counts by its rows)", body = Problem, content_type = "application/problem+json"),
                Unauthorized, Forbidden, BodyRefused,
            ))]
        pub async fn $import(Writer(s): Writer, charge: Option<axum::Extension<crate::rate::Charge>>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
            import::<$table>(s, charge.map(|c| c.0), &headers, body, columns_of::<<$table as Table>::Input>()).await
        }

        #[doc = "Export as CSV"]
        #[utoipa::path(get, path = $export_path, tag = $tag, params(ExportParams),
            description = "Roles: as for reading these records; the caller's scope applies. Streamed, with the import's columns and `id`.",
            security((), ("bearer" = [])),
            responses(
                (status = 200, description = "The records as CSV", body = String, content_type = "text/csv"),
                Malformed, Unauthorized,
            ))]
        pub async fn $export(Caller(s): Caller, super::extract::Params(p): super::extract::Params<ExportParams>) -> Result<Response, ApiError> {
            export::<$table, $out>(s, p, columns_of::<<$table as Table>::Input>()).await
        }
    };
}

csv_resource!(
    import_organisations,
    export_organisations,
    Organisations,
    crate::views::Organisation,
    "/api/v1/organisations/import",
    "/api/v1/organisations/export",
    "organisations"
);
csv_resource!(
    import_contacts,
    export_contacts,
    Contacts,
    crate::views::Contact,
    "/api/v1/contacts/import",
    "/api/v1/contacts/export",
    "contacts"
);
csv_resource!(
    import_offerings,
    export_offerings,
    Offerings,
    crate::views::Offering,
    "/api/v1/offerings/import",
    "/api/v1/offerings/export",
    "offerings"
);
csv_resource!(
    import_volunteers,
    export_volunteers,
    Volunteers,
    crate::views::Volunteer,
    "/api/v1/volunteers/import",
    "/api/v1/volunteers/export",
    "volunteers"
);
csv_resource!(
    import_mentorships,
    export_mentorships,
    Mentorships,
    crate::views::Mentorship,
    "/api/v1/mentorships/import",
    "/api/v1/mentorships/export",
    "mentorships"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_come_back_unchanged() {
        for text in [
            "=HYPERLINK(\"http://x\";\"klick\")",
            "+49 30 1234",
            "-1",
            "@SUM(A1)",
            "\tTab",
            "\rCR",
            "'=already quoted",
            "''+twice",
        ] {
            let out = to_cell_text(text);
            assert!(out.starts_with('\''), "{text:?} → {out:?}");
            assert_eq!(from_cell_text(&out), text);
        }
        for text in ["Müller", "'s-Hertogenbosch", "a=b", ""] {
            assert_eq!(to_cell_text(text), text);
            assert_eq!(from_cell_text(text), text);
        }
        assert_eq!(
            text_of(Kind::List, &serde_json::json!(["=1", "b"])),
            "'=1|b"
        );
    }
}
