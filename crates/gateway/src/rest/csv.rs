//! CSV import and export for the spreadsheets organisations keep: organisations, contacts,
//! offerings, volunteers, staff, mentorships, fundings and meetings. Import reads files as
//! people save them (UTF-8 with or without BOM or Windows-1252; `;`, `,` or tab; CRLF;
//! German dates `31.12.2025`, numbers `1.234`, euros `1.234,56 €`, `ja`/`nein`; German
//! column names), is all-or-nothing with a report of every bad row (row, the file's own
//! column name, reason), and matches rows by the `id` an export wrote (checking its
//! `version`), else by the organisation's own `externalId`, so an edited export changes
//! exactly the edited rows; `dryRun=true` answers the same without writing. Export writes
//! `id`, `version` and the same columns, page by page as a stream, for German Excel unless
//! asked for RFC 4180.

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
use verbund_persistence::{
    IMPORT_CHUNK, ImportRow, Importable, PageRequest, Scoped, StoreError, Table,
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Id,
    Int,
    /// An amount in euros (`1.234,56 €`), kept in cents.
    Euros,
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

/// Columns an export adds: `id` and `version` name the record a row came from (an import
/// matches by them); an import ignores `createdAt` and `updatedAt`.
const BOOKKEEPING: &[&str] = &["id", "version", "createdAt", "updatedAt"];

/// Other headers people give the columns (German ones, from lists kept in Excel), each for
/// the field it names; an alias applies where its field is a column of the resource. Headers
/// are compared without case, spaces, `-`, `_` or `.`, so `external_id` and `External ID`
/// are `externalId` too.
pub const ALIASES: &[(&str, &str)] = &[
    ("ID", "id"),
    ("Datensatz-ID", "id"),
    ("Stand", "version"),
    ("Erstellt", "createdAt"),
    ("Angelegt", "createdAt"),
    ("Geändert", "updatedAt"),
    ("Aktualisiert", "updatedAt"),
    ("Externe ID", "externalId"),
    ("Eigene ID", "externalId"),
    ("Kennung", "externalId"),
    ("Organisation", "organisationId"),
    ("Organisations-ID", "organisationId"),
    ("Art", "kind"),
    ("Bereich", "sector"),
    ("Netzwerk", "networkId"),
    ("Übergeordnete Organisation", "parentOrganisationId"),
    ("Dachorganisation", "parentOrganisationId"),
    ("Straße", "street"),
    ("Strasse", "street"),
    ("PLZ", "postcode"),
    ("Postleitzahl", "postcode"),
    ("Ort", "city"),
    ("Stadt", "city"),
    ("E-Mail", "email"),
    ("Mail", "email"),
    ("Telefon", "phone"),
    ("Webseite", "website"),
    ("Internetseite", "website"),
    ("Beschreibung", "description"),
    ("Registergericht", "registerCourt"),
    ("Registernummer", "registerNumber"),
    ("Funktion", "function"),
    ("Hauptkontakt", "primary"),
    ("Themen", "topics"),
    ("Titel", "title"),
    ("Kategorie", "category"),
    ("Zielgruppen", "targetGroups"),
    ("Sprachen", "languages"),
    ("Einzugsgebiet", "serviceArea"),
    ("Kapazität", "capacity"),
    ("Plätze", "capacity"),
    ("Beginn", "startsOn"),
    ("Ende", "endsOn"),
    ("Veröffentlicht", "published"),
    ("Referenz", "reference"),
    ("Kürzel", "reference"),
    ("Aktiv", "active"),
    ("Angebot", "offeringId"),
    ("Mentor", "mentorId"),
    ("Mentorin", "mentorId"),
    ("Mentee", "menteeRef"),
    ("Zielgruppe", "targetGroup"),
    ("Angefragt am", "requestedOn"),
    ("Vermittelt am", "matchedOn"),
    ("Begonnen am", "startedOn"),
    ("Beginn", "startedOn"),
    ("Beendet am", "endedOn"),
    ("Ende", "endedOn"),
    ("Beendigungsgrund", "endReason"),
    ("Wochenstunden", "weeklyHours"),
    ("Art des Fördergebers", "funderKind"),
    ("Fördergeber", "funderName"),
    ("Programm", "programme"),
    ("Betrag in Cent", "amountCents"),
    ("Kontingent", "contingentMentorships"),
    ("Weitergeleitet von", "passedOnFromId"),
    ("Gremium", "committeeId"),
    ("Datum", "heldOn"),
    ("Thema", "topic"),
    ("Ergebnis", "outcome"),
];

/// Headers of an amount given in euros rather than cents, each for the cents field it fills.
pub const EURO_ALIASES: &[(&str, &str)] = &[
    ("Betrag", "amountCents"),
    ("Betrag (€)", "amountCents"),
    ("Betrag in Euro", "amountCents"),
    ("Fördersumme", "amountCents"),
    ("amountEuros", "amountCents"),
];

/// A header as compared: lower case, without spaces, `-`, `_` or `.`.
fn folded(header: &str) -> String {
    header
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_' | '.' | '\u{a0}'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The field a header names among `fields`, if any: the field itself, or an alias of it.
fn field_of<'a>(header: &str, fields: impl Iterator<Item = &'a str> + Clone) -> Option<&'a str> {
    let h = folded(header);
    fields.clone().find(|f| folded(f) == h).or_else(|| {
        ALIASES
            .iter()
            .filter(|(alias, _)| folded(alias) == h)
            .find_map(|(_, field)| fields.clone().find(|f| f == field))
    })
}

/// A number as typed, without spaces (also narrow and non-breaking ones) and `€`.
fn bare(raw: &str) -> String {
    raw.chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '€'))
        .collect()
}

/// Whether `digits` are grouped in thousands by `.` (`1.234.567`).
fn thousands(digits: &str) -> bool {
    let mut groups = digits.split('.');
    let head = groups.next().unwrap_or("");
    digits.contains('.') && !head.is_empty() && head.len() <= 3 && groups.all(|g| g.len() == 3)
}

/// A whole number as spreadsheets write it: `1234`, `1.234` or `1 234` (German thousands),
/// `2,0` (a decimal comma with nothing after it), with or without `€`.
fn whole(raw: &str) -> Result<i64, String> {
    let bad = || format!("`{raw}` is not a whole number");
    let t = bare(raw);
    let (int, fraction) = t.split_once(',').unwrap_or((&t, ""));
    let digits = int.strip_prefix('-').unwrap_or(int);
    if !fraction.chars().all(|c| c == '0') || (digits.contains('.') && !thousands(digits)) {
        return Err(bad());
    }
    int.replace('.', "").parse::<i64>().map_err(|_| bad())
}

/// An amount in euros as people write it — `1.234,56 €`, `1234,5`, `1.234` (German
/// thousands), `1234.56` — in cents.
fn cents(raw: &str) -> Result<i64, String> {
    let bad = || format!("`{raw}` is not an amount in euros (1.234,56 € or 1234.56)");
    let t = bare(raw);
    let t = t.strip_suffix("EUR").unwrap_or(&t);
    let (euros, fraction) = match t.split_once(',') {
        Some((e, f)) => (e, f),
        None if thousands(t) => (t, ""),
        None => t.split_once('.').unwrap_or((t, "")),
    };
    if fraction.len() > 2 || !fraction.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let euros = whole(euros).map_err(|_| bad())?;
    let fraction: i64 = format!("{fraction:0<2}").parse().map_err(|_| bad())?;
    euros
        .checked_mul(100)
        .and_then(|c| c.checked_add(if euros < 0 { -fraction } else { fraction }))
        .ok_or_else(bad)
}

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
        Kind::Int => Value::from(whole(t)?),
        Kind::Euros => Value::from(cents(t)?),
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

/// The file's text: in the `charset` the Content-Type names, else UTF-8 (a BOM is
/// dropped), else Windows-1252 (what German Excel saves as "CSV (Trennzeichen-getrennt)").
fn decode(bytes: &[u8], charset: Option<&str>) -> Result<String, ApiError> {
    let windows = || {
        let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
        text.into_owned()
    };
    let text = match charset.map(str::to_ascii_lowercase).as_deref() {
        None => match std::str::from_utf8(bytes) {
            Ok(t) => t.to_owned(),
            Err(_) => windows(),
        },
        Some("utf-8" | "utf8") => std::str::from_utf8(bytes)
            .map_err(|_| {
                malformed("the file is not UTF-8 (a file saved by Excel as plain CSV is charset=windows-1252)")
            })?
            .to_owned(),
        Some("windows-1252" | "cp1252" | "iso-8859-1" | "latin1" | "latin-1") => windows(),
        Some(other) => {
            return Err(ApiError::new(
                Code::UnsupportedMediaType,
                format!("charset `{other}` is not supported: utf-8 or windows-1252"),
            ));
        }
    };
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}

/// One data row: its spreadsheet row number, the record it names (`id`, `version`, from an
/// export), and its cells as JSON under their field names.
struct Row {
    number: usize,
    id: Option<uuid::Uuid>,
    version: Option<i32>,
    fields: Map<String, Value>,
}

/// A file's header row as read: where each column's cells go, and the header each field
/// came under (for naming columns).
struct Layout {
    headers: Vec<String>,
    /// Each header's field and how its cells read (None: a column passed over).
    fields: Vec<Option<(String, Option<Kind>)>>,
    columns: std::collections::HashMap<String, String>,
}

impl Layout {
    /// The column a field came from, as the file calls it.
    fn column(&self, field: &str) -> String {
        self.columns
            .get(field)
            .cloned()
            .unwrap_or_else(|| field.to_owned())
    }
}

/// A sheet as read, row by row: its rows of cell texts, the header row first, each with its
/// row number as a spreadsheet counts it (or why it does not parse). Read as the import
/// goes, so that a file's rows are never all held as records at once.
type Sheet<'a> = Box<dyn Iterator<Item = (usize, Result<Vec<String>, String>)> + Send + 'a>;

fn csv_sheet(text: &str) -> Sheet<'_> {
    let first_line = text.lines().next().unwrap_or("");
    let delimiter = [b';', b',', b'\t']
        .into_iter()
        .max_by_key(|d| {
            (
                first_line.matches(char::from(*d)).count(),
                // Ties: `;` (German Excel) before `,` before tab.
                std::cmp::Reverse(match d {
                    b';' => 0,
                    b',' => 1,
                    _ => 2,
                }),
            )
        })
        .unwrap_or(b',');
    Box::new(
        csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .has_headers(false)
            .from_reader(text.as_bytes())
            .into_records()
            .enumerate()
            .map(|(i, r)| {
                (
                    i + 1,
                    r.map(|r| r.iter().map(str::to_owned).collect())
                        .map_err(|e| format!("does not parse: {e}")),
                )
            }),
    )
}

impl Layout {
    /// Reads the header row: which field each column holds (by name or German alias), and
    /// the problems of headers that name no field or the same field twice.
    #[allow(clippy::type_complexity)]
    fn read(
        header: Option<(usize, Result<Vec<String>, String>)>,
        columns: &Columns,
    ) -> Result<(Layout, Vec<(usize, String, String)>), ApiError> {
        let headers: Vec<String> = match header {
            Some((_, Ok(h))) => h.iter().map(|h| h.trim().to_owned()).collect(),
            Some((_, Err(e))) => return Err(malformed(format!("the header row {e}"))),
            None => return Err(report(vec![(1, "-".into(), "the file is empty".into())])),
        };
        let names = columns
            .iter()
            .map(|(c, _)| c.as_str())
            .chain(BOOKKEEPING.iter().copied());
        let mut problems = Vec::new();
        let mut fields: Vec<Option<(String, Option<Kind>)>> = Vec::new();
        let mut seen: std::collections::HashMap<String, String> = std::collections::HashMap::new();
        for h in &headers {
            if h.is_empty() {
                fields.push(None);
                continue;
            }
            let euros = EURO_ALIASES
                .iter()
                .find(|(alias, field)| {
                    folded(alias) == folded(h) && columns.iter().any(|(c, _)| c == field)
                })
                .map(|(_, field)| *field);
            match euros.or_else(|| field_of(h, names.clone())) {
                Some(f) => {
                    if let Some(earlier) = seen.insert(f.to_owned(), h.clone()) {
                        problems.push((
                            1,
                            h.clone(),
                            format!("names the same field as `{earlier}`"),
                        ));
                    }
                    let kind = match euros {
                        Some(_) => Some(Kind::Euros),
                        None => columns.iter().find(|(c, _)| c == f).map(|(_, k)| *k),
                    };
                    fields.push(Some((f.to_owned(), kind)));
                }
                None => {
                    problems.push((
                        1,
                        h.clone(),
                        format!(
                            "unknown column; the columns are id, version, {} (or their German names)",
                            columns
                                .iter()
                                .map(|c| c.0.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                    fields.push(None);
                }
            }
        }
        let layout = Layout {
            headers,
            fields,
            columns: seen,
        };
        Ok((layout, problems))
    }

    /// One row of the sheet as a JSON object (with its `id` and `version`), or nothing when
    /// it is empty or has a bad cell (each one added to `problems`).
    fn row(
        &self,
        number: usize,
        record: Vec<String>,
        problems: &mut Vec<(usize, String, String)>,
    ) -> Option<Row> {
        if record.iter().all(|c| c.trim().is_empty()) {
            return None;
        }
        let before = problems.len();
        let headers = &self.headers;
        let fields = &self.fields;
        let mut row = Row {
            number,
            id: None,
            version: None,
            fields: Map::new(),
        };
        for (at, value) in record.iter().enumerate() {
            let header = headers.get(at).map_or("-", String::as_str);
            let Some(Some((field, kind))) = fields.get(at) else {
                // A column without a header (or beyond the header row) may only be empty; an
                // unknown column is reported once, in the header row.
                if (at >= headers.len() || header.is_empty()) && !value.trim().is_empty() {
                    problems.push((
                        number,
                        format!("{}", at + 1),
                        "a value in a column without a header".into(),
                    ));
                }
                continue;
            };
            let value = value.trim();
            match (field.as_str(), kind) {
                ("id", _) if !value.is_empty() => match uuid::Uuid::parse_str(value) {
                    Ok(id) => row.id = Some(id),
                    Err(_) => problems.push((
                        number,
                        header.into(),
                        format!("`{value}` is not an id (a UUID from an export)"),
                    )),
                },
                ("version", _) if !value.is_empty() => {
                    match whole(value).ok().and_then(|v| i32::try_from(v).ok()) {
                        Some(v) if v > 0 => row.version = Some(v),
                        _ => problems.push((
                            number,
                            header.into(),
                            format!("`{value}` is not a version (a whole number from an export)"),
                        )),
                    }
                }
                (_, Some(kind)) => match cell(*kind, value) {
                    Ok(Value::Null) => {}
                    Ok(v) => {
                        row.fields.insert(field.clone(), v);
                    }
                    Err(reason) => problems.push((number, header.into(), reason)),
                },
                _ => {}
            }
        }
        (problems.len() == before).then_some(row)
    }
}

/// The most a workbook's parts may unpack to, by what they say of themselves.
const MAX_UNPACKED: u64 = 256 * 1024 * 1024;

/// The media type of an Excel workbook (.xlsx).
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The rows of an Excel workbook's first sheet, each cell as the text a CSV file would
/// hold: numbers as written (`2`, `1234.56`), dates as `2025-12-31`, yes/no as
/// `true`/`false`; a formula's last value; an error value (`#N/A`) is refused where read.
fn xlsx_sheet(bytes: &[u8]) -> Result<(usize, Sheet<'static>), ApiError> {
    use calamine::{Data, Reader, Xlsx};
    // A workbook is a zip file: one that says it unpacks to far more than any sheet of
    // records needs (a "zip bomb") is refused before it is unpacked.
    let mut parts = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| malformed(format!("the file is not an Excel workbook (.xlsx): {e}")))?;
    let mut unpacked = 0u64;
    for i in 0..parts.len() {
        let part = parts
            .by_index_raw(i)
            .map_err(|e| malformed(format!("the file is not an Excel workbook (.xlsx): {e}")))?;
        unpacked = unpacked.saturating_add(part.size());
    }
    if unpacked > MAX_UNPACKED {
        return Err(ApiError::new(
            Code::PayloadTooLarge,
            format!("the workbook unpacks to more than {MAX_UNPACKED} bytes"),
        ));
    }
    let not_xlsx = |e: calamine::XlsxError| {
        malformed(format!("the file is not an Excel workbook (.xlsx): {e}"))
    };
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).map_err(not_xlsx)?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| malformed("the workbook has no sheet"))?
        .map_err(not_xlsx)?;
    // Row numbers as the spreadsheet shows them (the used range may start lower).
    let (first_row, first_column) = range.start().unwrap_or((0, 0));
    let lead = first_column as usize;
    let rows = range
        .rows()
        .enumerate()
        .map(|(i, cells)| {
            let number = first_row as usize + i + 1;
            let mut texts = vec![String::new(); lead];
            for cell in cells {
                texts.push(match cell {
                    Data::Empty => String::new(),
                    Data::String(s) => s.clone(),
                    Data::Int(n) => n.to_string(),
                    Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
                        format!("{}", *f as i64)
                    }
                    Data::Float(f) => f.to_string(),
                    Data::Bool(b) => b.to_string(),
                    Data::DateTime(d) => excel_date(d.as_f64()),
                    Data::DateTimeIso(d) => d.chars().take(10).collect(),
                    Data::DurationIso(d) => d.clone(),
                    Data::Error(e) => {
                        return (number, Err(format!("holds the Excel error {e}")));
                    }
                });
            }
            (number, Ok(texts))
        })
        .collect::<Vec<_>>();
    let filled = rows
        .iter()
        .filter(|(_, r)| {
            r.as_ref()
                .map_or(true, |cells| cells.iter().any(|c| !c.trim().is_empty()))
        })
        .count();
    Ok((filled, Box::new(rows.into_iter())))
}

/// The lines of `text` that hold more than separators, quotes and blanks.
fn content_lines(text: &str) -> usize {
    text.lines()
        .filter(|l| {
            l.bytes()
                .any(|b| !matches!(b, b';' | b',' | b'\t' | b' ' | b'"' | b'\r'))
        })
        .count()
}

/// An Excel date serial (days since 1899-12-30) as `YYYY-MM-DD`.
fn excel_date(serial: f64) -> String {
    let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap_or_default();
    epoch
        .checked_add_signed(chrono::Duration::days(serial.floor() as i64))
        .map_or_else(|| serial.to_string(), |d| d.format("%Y-%m-%d").to_string())
}

/// The `charset` parameter of a Content-Type, if any.
fn charset(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"'))
    })
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// Check the file and answer what an import would do (created, updated, unchanged, or
    /// the report of bad rows) without writing anything.
    pub dry_run: Option<bool>,
}

async fn import<T>(
    s: Scoped,
    charge: Option<crate::rate::Charge>,
    headers: &HeaderMap,
    (body, dry_run): (Bytes, bool),
    columns: Columns,
) -> Result<Response, ApiError>
where
    T: Importable,
    T::Data: PartialEq,
    T::Input: DeserializeOwned,
{
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if media != "text/csv" && media != "application/csv" && media != XLSX {
        return Err(ApiError::new(
            Code::UnsupportedMediaType,
            format!("the body must be CSV (Content-Type: text/csv) or an Excel workbook ({XLSX})"),
        ));
    }
    let text;
    let (hint, mut sheet) = if media == XLSX {
        let (rows, sheet) = xlsx_sheet(&body)?;
        (rows.saturating_sub(1), sheet)
    } else {
        text = decode(&body, charset(content_type))?;
        // Rows are at most the lines that hold anything but separators (a quoted cell may
        // hold a line break); blank rows cost nothing, as they are passed over.
        (content_lines(&text).saturating_sub(1), csv_sheet(&text))
    };
    let (layout, mut problems) = Layout::read(sheet.next(), &columns)?;
    // An import costs by its rows, not as one request.
    if let Some(c) = &charge {
        c.take_rows(hint)
            .map_err(|wait| crate::rate::rate_limited(wait, "(imports count by their rows)"))?;
    }
    // Piece by piece: a thousand rows are read, checked and looked up together, and only
    // their records are kept (the rows' cells and objects go with the piece).
    let mut data = Vec::new();
    let mut numbers = Vec::new();
    loop {
        let mut piece = Vec::with_capacity(IMPORT_CHUNK);
        for (number, record) in sheet.by_ref() {
            match record {
                Ok(record) => {
                    if let Some(row) = layout.row(number, record, &mut problems) {
                        piece.push(row);
                    }
                }
                Err(e) => problems.push((number, "-".into(), e)),
            }
            if piece.len() == IMPORT_CHUNK {
                break;
            }
        }
        if piece.is_empty() {
            break;
        }
        let mut inputs = Vec::with_capacity(piece.len());
        let mut read_rows = Vec::with_capacity(piece.len());
        for row in piece {
            // An empty cell is an absent field: its default (an organisation's own id).
            match serde_path_to_error::deserialize::<_, T::Input>(Value::Object(row.fields)) {
                Ok(i) => {
                    inputs.push(i);
                    read_rows.push((row.number, row.id, row.version));
                }
                Err(e) => {
                    let field = e.path().iter().next().map(|s| s.to_string());
                    let column = field.as_deref().map_or("-".into(), |f| layout.column(f));
                    problems.push((row.number, column, e.into_inner().to_string()));
                }
            }
        }
        // What the rows refer to is looked up for the whole piece.
        for ((number, id, version), parsed) in read_rows
            .into_iter()
            .zip(s.parse_inputs::<T>(inputs).await?)
        {
            match parsed {
                Ok(d) => {
                    data.push(ImportRow {
                        id,
                        version,
                        data: d,
                    });
                    numbers.push(number);
                }
                Err(StoreError::Invalid(v)) => problems.extend(
                    v.0.into_iter()
                        .map(|f| (number, layout.column(&f.field), f.reason.to_string())),
                ),
                Err(e) => problems.push((number, "-".into(), ApiError::from(e).message)),
            }
        }
    }
    // Every row that is not blank was either read or reported.
    if data.is_empty() && problems.is_empty() {
        return Err(report(vec![(2, "-".into(), "the file has no rows".into())]));
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.0);
        return Err(report(problems));
    }
    match s.import::<T>(data, dry_run).await {
        Ok(r) => Ok(axum::Json(ImportResult {
            created: r.created,
            updated: r.updated,
            unchanged: r.unchanged,
        })
        .into_response()),
        Err((i, e)) => {
            let row = numbers.get(i).copied().unwrap_or(0);
            // A rule the write path checks against the stored record (a status move) names
            // its row and column like the checks above; so does an id the caller cannot
            // change (as "not found" everywhere).
            match e {
                StoreError::Invalid(v) => {
                    return Err(report(
                        v.0.into_iter()
                            .map(|f| (row, layout.column(&f.field), f.reason.to_string()))
                            .collect(),
                    ));
                }
                StoreError::NotFound => {
                    return Err(report(vec![(
                        row,
                        layout.column("id"),
                        "no record with this id that you may change".into(),
                    )]));
                }
                _ => {}
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
    /// `excel` (default): CSV that German Excel opens as it is — a UTF-8 BOM and `;`;
    /// `rfc4180`: plain RFC 4180 — no BOM and `,` (both end lines with CRLF); `xlsx`: an
    /// Excel workbook with typed cells (numbers, dates, yes/no), one sheet.
    #[param(pattern = "^(excel|rfc4180|xlsx)$")]
    pub format: Option<String>,
    /// `semicolon`, `comma` or `tab`: instead of the format's own.
    #[param(pattern = "^(comma|semicolon|tab)$")]
    pub delimiter: Option<String>,
}

/// Records as one CSV file: for German Excel (a BOM, `;`) or plain RFC 4180 (`,`); CRLF.
/// Text cells that a spreadsheet would run as a formula are neutralised.
pub(super) fn csv_file(records: &[Vec<String>], excel: bool) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(if excel { b';' } else { b',' })
        .terminator(csv::Terminator::CRLF)
        .from_writer(if excel {
            "\u{feff}".as_bytes().to_vec()
        } else {
            Vec::new()
        });
    for r in records {
        let _ = w.write_record(r.iter().map(|c| to_cell_text(c)));
    }
    w.into_inner().unwrap_or_default()
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

/// An export's columns: `id`, `version`, then the import's.
fn export_header(columns: &Columns) -> Vec<String> {
    ["id", "version"]
        .into_iter()
        .map(str::to_owned)
        .chain(columns.iter().map(|c| c.0.to_owned()))
        .collect()
}

/// A list as one cell: its items separated by `|`.
fn list_text(items: &[Value]) -> String {
    items
        .iter()
        .map(|i| {
            i.as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| i.to_string())
        })
        .collect::<Vec<_>>()
        .join("|")
}

fn text_of(kind: Kind, v: &Value) -> String {
    match (kind, v) {
        (_, Value::Null) => String::new(),
        (Kind::List, Value::Array(items)) => to_cell_text(&list_text(items)),
        (_, Value::String(s)) => to_cell_text(s),
        (_, other) => other.to_string(),
    }
}

/// A representation the exports write: the record as the API gives it.
trait Exported<T: Table>: Serialize + From<Record<T::Data>> + 'static {}
impl<T: Table, O: Serialize + From<Record<T::Data>> + 'static> Exported<T> for O {}

async fn export<T: Table, O: Exported<T>>(
    s: Scoped,
    params: ExportParams,
    columns: Columns,
    name: &'static str,
) -> Result<Response, ApiError> {
    let (bom, delimiter) = match params.format.as_deref() {
        None | Some("excel") => (true, b';'),
        Some("rfc4180") => (false, b','),
        Some("xlsx") => return export_xlsx::<T, O>(s, columns, name).await,
        Some(other) => {
            return Err(malformed(format!(
                "format `{other}` is not excel, rfc4180 or xlsx"
            )));
        }
    };
    let delimiter = match params.delimiter.as_deref() {
        None => delimiter,
        Some("comma") => b',',
        Some("semicolon") => b';',
        Some("tab") => b'\t',
        Some(other) => {
            return Err(malformed(format!(
                "delimiter `{other}` is not comma, semicolon or tab"
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
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        let _ = w.write_record(&fields);
        Bytes::from(w.into_inner().unwrap_or_default())
    };
    let header = export_header(&columns);
    let rows = move |items: Vec<Record<T::Data>>| -> Bytes {
        let mut out = Vec::new();
        for r in items {
            let v = serde_json::to_value(O::from(r)).unwrap_or_default();
            let mut fields = vec![
                text_of(Kind::Id, &v["id"]),
                text_of(Kind::Int, &v["version"]),
            ];
            fields.extend(columns.iter().map(|(c, k)| text_of(*k, &v[c.as_str()])));
            out.extend_from_slice(&line(fields));
        }
        Bytes::from(out)
    };
    let mut head = if bom {
        "\u{feff}".as_bytes().to_vec()
    } else {
        Vec::new()
    };
    head.extend_from_slice(&line(header));
    let head = Bytes::from(head);
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
        [
            (
                CONTENT_TYPE,
                "text/csv; charset=utf-8; header=present".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ),
        ],
        axum::body::Body::from_stream(body),
    )
        .into_response())
}

/// A typed cell of a workbook.
pub(super) enum XCell {
    Empty,
    Text(String),
    Number(f64),
    Date(chrono::NaiveDate),
    Bool(bool),
}

/// One sheet of a workbook: its name, header and rows.
pub(super) type XSheet = (String, Vec<String>, Vec<Vec<XCell>>);

/// A workbook: each sheet with a bold header row that stays in view and a filter on it,
/// dates shown as `31.12.2025`, columns as wide as their contents.
pub(super) fn xlsx_file(sheets: &[XSheet]) -> Result<Vec<u8>, ApiError> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let failed = |e: rust_xlsxwriter::XlsxError| {
        tracing::error!(error = %e, "workbook not written");
        ApiError::new(Code::Internal, "internal error")
    };
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let day = Format::new().set_num_format("dd.mm.yyyy");
    for (name, header, rows) in sheets {
        let sheet = book.add_worksheet();
        sheet.set_name(name).map_err(failed)?;
        for (c, h) in header.iter().enumerate() {
            sheet
                .write_string_with_format(0, c as u16, h, &bold)
                .map_err(failed)?;
        }
        for (r, row) in rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    XCell::Empty => {}
                    XCell::Text(t) => {
                        sheet.write_string(r, c, t).map_err(failed)?;
                    }
                    XCell::Number(n) => {
                        sheet.write_number(r, c, *n).map_err(failed)?;
                    }
                    XCell::Bool(b) => {
                        sheet.write_boolean(r, c, *b).map_err(failed)?;
                    }
                    XCell::Date(d) => {
                        use chrono::Datelike;
                        let at = ExcelDateTime::from_ymd(
                            d.year() as u16,
                            d.month() as u8,
                            d.day() as u8,
                        )
                        .map_err(failed)?;
                        sheet
                            .write_datetime_with_format(r, c, &at, &day)
                            .map_err(failed)?;
                    }
                }
            }
        }
        sheet.set_freeze_panes(1, 0).map_err(failed)?;
        if !header.is_empty() {
            sheet
                .autofilter(0, 0, rows.len() as u32, header.len() as u16 - 1)
                .map_err(failed)?;
        }
        sheet.autofit();
    }
    book.save_to_buffer().map_err(failed)
}

/// A workbook's answer, named as a download.
pub(super) fn xlsx_response(file: Vec<u8>, name: &str) -> Response {
    (
        StatusCode::OK,
        [
            (CONTENT_TYPE, XLSX.to_owned()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.xlsx\""),
            ),
        ],
        file,
    )
        .into_response()
}

/// A record's value as a typed cell.
fn xcell(kind: Kind, v: &Value) -> XCell {
    match (kind, v) {
        (_, Value::Null) => XCell::Empty,
        (Kind::Int | Kind::Euros, Value::Number(n)) => {
            n.as_f64().map_or(XCell::Empty, XCell::Number)
        }
        (Kind::Bool, Value::Bool(b)) => XCell::Bool(*b),
        (Kind::Date, Value::String(d)) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_or_else(|_| XCell::Text(d.clone()), XCell::Date),
        (Kind::List, Value::Array(items)) => XCell::Text(list_text(items)),
        (_, Value::String(t)) => XCell::Text(t.clone()),
        (_, other) => XCell::Text(other.to_string()),
    }
}

/// The records the caller may read as a workbook of one sheet (collected page by page: a
/// workbook is written whole).
async fn export_xlsx<T: Table, O: Exported<T>>(
    s: Scoped,
    columns: Columns,
    name: &'static str,
) -> Result<Response, ApiError> {
    let header = export_header(&columns);
    let mut rows = Vec::new();
    let mut after = None;
    loop {
        let page = s
            .list::<T>(&T::Filter::default(), &PageRequest { first: 500, after })
            .await?;
        after = if page.has_next {
            page.end_cursor()
        } else {
            None
        };
        for r in page.items {
            let v = serde_json::to_value(O::from(r)).unwrap_or_default();
            let mut row = vec![xcell(Kind::Id, &v["id"]), xcell(Kind::Int, &v["version"])];
            row.extend(columns.iter().map(|(c, k)| xcell(*k, &v[c.as_str()])));
            rows.push(row);
        }
        if after.is_none() {
            break;
        }
    }
    let file = xlsx_file(&[(name.to_owned(), header, rows)])?;
    Ok(xlsx_response(file, name))
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
        #[utoipa::path(post, path = $import_path, tag = $tag, params(ImportParams),
            request_body(content((String = "text/csv"), (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")), description = "An Excel workbook (its first sheet), or CSV in UTF-8 (BOM allowed) or Windows-1252 (detected, or named by `charset`); `;`, `,` or tab; a header row with the export's columns or their German names (README); German dates and numbers"),
            description = "Roles: as for creating and changing these records. All rows or none. A row with an `id` (from an export) updates that record (refused when its `version` is no longer the record's), else a row whose `externalId` exists updates that one, else it is created; rows equal to their record are left alone.",
            security(("bearer" = [])),
            responses(
                (status = 200, description = "Imported", body = ImportResult),
                (status = 400, description = "Not UTF-8 (with charset=utf-8), not CSV or not an Excel workbook", body = Problem, content_type = "application/problem+json"),
                (status = 409, description = "A row conflicts with stored records, or its record has changed since the export (its `version`)", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "Bad rows, each with row, column and reason; nothing imported", body = Problem, content_type = "application/problem+json"),
                (status = 429, description = "Over the rate limit (an import counts by its rows)", body = Problem, content_type = "application/problem+json"),
                Unauthorized, Forbidden, BodyRefused,
            ))]
        pub async fn $import(Writer(s): Writer, charge: Option<axum::Extension<crate::rate::Charge>>, super::extract::Params(p): super::extract::Params<ImportParams>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
            import::<$table>(s, charge.map(|c| c.0), &headers, (body, p.dry_run.unwrap_or(false)), columns_of::<<$table as Table>::Input>()).await
        }

        #[doc = "Export as CSV"]
        #[utoipa::path(get, path = $export_path, tag = $tag, params(ExportParams),
            description = "Roles: as for reading these records; the caller's scope applies. Streamed: `id`, `version` and the import's columns; for German Excel by default (BOM, `;`), `format=rfc4180` for plain CSV.",
            security((), ("bearer" = [])),
            responses(
                (status = 200, description = "The records as CSV, or as an Excel workbook (`format=xlsx`)", content((String = "text/csv"), (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
                Malformed, Unauthorized,
            ))]
        pub async fn $export(Caller(s): Caller, super::extract::Params(p): super::extract::Params<ExportParams>) -> Result<Response, ApiError> {
            export::<$table, $out>(s, p, columns_of::<<$table as Table>::Input>(), $tag).await
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
    import_staff,
    export_staff,
    StaffMembers,
    crate::views::Staff,
    "/api/v1/staff/import",
    "/api/v1/staff/export",
    "staff"
);
csv_resource!(
    import_fundings,
    export_fundings,
    Fundings,
    crate::views::Funding,
    "/api/v1/fundings/import",
    "/api/v1/fundings/export",
    "fundings"
);
csv_resource!(
    import_meetings,
    export_meetings,
    Meetings,
    crate::views::Meeting,
    "/api/v1/meetings/import",
    "/api/v1/meetings/export",
    "meetings"
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
    fn whole_numbers_as_spreadsheets_write_them() {
        for (raw, n) in [
            ("1234", 1234),
            ("1.234", 1234),
            ("1 234", 1234),
            ("1.234.567", 1_234_567),
            ("2,0", 2),
            ("2,00 €", 2),
            ("-3", -3),
        ] {
            assert_eq!(whole(raw), Ok(n), "{raw}");
        }
        for raw in ["2,5", "1.23", "1.2345", ".123", "zwölf", "1,234.5"] {
            assert!(whole(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn euro_amounts_in_cents() {
        for (raw, c) in [
            ("1.234,56 €", 123_456),
            ("1234,5", 123_450),
            ("1.234", 123_400),
            ("1234.56", 123_456),
            ("12.50", 1_250),
            ("1.000.000 EUR", 100_000_000),
            ("7", 700),
        ] {
            assert_eq!(cents(raw), Ok(c), "{raw}");
        }
        for raw in ["1,234", "12.345,6,7", "viel", "1.2345,00"] {
            assert!(cents(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn headers_name_fields_in_any_spelling_or_in_german() {
        let fields = ["externalId", "reference", "capacity", "startsOn", "id"];
        let of = |h: &str| field_of(h, fields.iter().copied());
        assert_eq!(of("externalId"), Some("externalId"));
        assert_eq!(of("external_id"), Some("externalId"));
        assert_eq!(of("External ID"), Some("externalId"));
        assert_eq!(of("Externe ID"), Some("externalId"));
        assert_eq!(of("KAPAZITÄT"), Some("capacity"));
        assert_eq!(of("Beginn"), Some("startsOn"));
        assert_eq!(of("ID"), Some("id"));
        assert_eq!(of("Lieblingsfarbe"), None);
        // An alias applies only where its field is a column: `Beginn` of a mentorship.
        let mentorship = ["startedOn"];
        assert_eq!(
            field_of("Beginn", mentorship.iter().copied()),
            Some("startedOn")
        );
    }

    #[test]
    fn files_decode_as_saved() {
        let utf8 = "\u{feff}Kapazität;Ort\n".as_bytes();
        assert_eq!(decode(utf8, None).ok().as_deref(), Some("Kapazität;Ort\n"));
        let cp1252 = b"Kapazit\xe4t;\x80\n";
        assert_eq!(decode(cp1252, None).ok().as_deref(), Some("Kapazität;€\n"));
        assert_eq!(
            decode(cp1252, Some("Windows-1252")).ok().as_deref(),
            Some("Kapazität;€\n")
        );
        assert!(decode(cp1252, Some("utf-8")).is_err());
        assert!(decode(utf8, Some("utf-16")).is_err());
        assert_eq!(
            charset("text/csv; charset=\"windows-1252\""),
            Some("windows-1252")
        );
        assert_eq!(charset("text/csv"), None);
    }

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
