//! A statistic as files: the table for spreadsheets (CSV, XLSX) and the formats official
//! statistics exchange: JSON-stat 2.0, SDMX-CSV 2.0 and a Frictionless (tabular) Data
//! Package. The last three are written from one reading of the answer ([`Cube`]): its
//! dimensions with their codes and names, and its cells.
//!
//! Codes: a network by its official code (ISO 3166-2, the district key), every other key by
//! its value, `_Z` (SDMX: not applicable) for an empty value such as "no programme
//! partner". A suppressed cell has no value and the status `.`; in SDMX its confidentiality
//! is `A` (primary: a small count) or `D` (secondary), shown cells are `F` (free).

use crate::error::{ApiError, Code};
use crate::statistics::{Key, Row, Table};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// The symbol of a suppressed count in a table (as in official statistics: "Zahlenwert
/// unbekannt oder geheim zu halten").
pub const SUPPRESSED: &str = ".";

/// A statistic as a table, one row per cell: each group's value and name (and a network's
/// official code), the filters, the
/// snapshot's deadline, the count (or [`SUPPRESSED`]), the amount, and why a cell is hidden.
pub(super) fn table_records(table: &Table) -> Vec<Vec<String>> {
    // Networks also by their official code (ISO 3166-2, the district key), for maps.
    let coded = |d: &str| d == "state" || d == "region";
    let mut header: Vec<String> = Vec::new();
    for d in &table.group_by {
        header.push(d.clone());
        header.push(format!("{d}_label"));
        if coded(d) {
            header.push(format!("{d}_code"));
        }
    }
    for f in &table.filters {
        header.push(format!("filter_{}", f.dimension));
    }
    if table.snapshot.is_some() {
        header.push("snapshot_as_of".into());
    }
    header.push("count".into());
    if table.amount_of.is_some() {
        header.push("amount".into());
    }
    header.extend(["suppression", "suppression_reason"].map(str::to_owned));
    let mut records = vec![header];
    let total = std::iter::once(&table.total);
    for (row, is_total) in table
        .rows
        .iter()
        .map(|r| (r, false))
        .chain(total.map(|r| (r, true)))
    {
        let mut record = Vec::new();
        for d in &table.group_by {
            match row.keys.iter().find(|k| &k.dimension == d) {
                Some(k) => {
                    record.push(k.value.clone());
                    record.push(k.readable());
                }
                None => {
                    record.push(String::new());
                    record.push(if is_total {
                        "total".into()
                    } else {
                        String::new()
                    });
                }
            }
            if coded(d) {
                let key = row.keys.iter().find(|k| &k.dimension == d);
                record.push(key.and_then(|k| k.code.clone()).unwrap_or_default());
            }
        }
        for f in &table.filters {
            record.push(f.readable());
        }
        if let Some(snapshot) = &table.snapshot {
            record.push(snapshot.as_of.to_string());
        }
        let number = |n: Option<i64>| match (row.suppressed, n) {
            (true, _) => SUPPRESSED.to_owned(),
            (false, Some(n)) => n.to_string(),
            (false, None) => String::new(),
        };
        record.push(number(row.count));
        if table.amount_of.is_some() {
            record.push(number(row.amount));
        }
        record.push(row.suppression.clone().unwrap_or_default());
        record.push(row.suppression_reason.clone().unwrap_or_default());
        records.push(record);
    }
    records
}

/// A statistic as a workbook: the table (counts and amounts as numbers) and `about`.
pub(super) fn table_sheets(table: &Table) -> Vec<super::csv::XSheet> {
    use super::csv::XCell;
    let mut records = table_records(table).into_iter();
    let header = records.next().unwrap_or_default();
    let numeric: Vec<bool> = header
        .iter()
        .map(|h| h == "count" || h == "amount")
        .collect();
    let rows = records
        .map(|r| {
            r.into_iter()
                .zip(&numeric)
                .map(|(v, numeric)| match v.parse::<i64>() {
                    Ok(n) if *numeric => XCell::Number(n as f64),
                    _ if v.is_empty() => XCell::Empty,
                    _ => XCell::Text(v),
                })
                .collect()
        })
        .collect();
    let text = |s: &str| XCell::Text(s.to_owned());
    let mut about = vec![
        vec![text("measure"), text(&table.measure)],
        vec![text("groupBy"), text(&table.group_by.join(", "))],
        vec![text("protected"), XCell::Bool(table.protected)],
    ];
    if let Some(k) = table.k {
        about.push(vec![
            text("k (the smallest count shown)"),
            XCell::Number(k as f64),
        ]);
    }
    for f in &table.filters {
        about.push(vec![
            text(&format!("filter {}", f.dimension)),
            text(&f.readable()),
        ]);
    }
    if let Some(snapshot) = &table.snapshot {
        about.push(vec![text("snapshot"), text(&snapshot.label)]);
        about.push(vec![text("snapshot as of"), XCell::Date(snapshot.as_of)]);
    }
    if let Some(a) = &table.amount_of {
        about.push(vec![text("amount"), text(a)]);
    }
    about.push(vec![
        text(SUPPRESSED),
        text("suppressed (secret): see suppression and suppression_reason"),
    ]);
    vec![
        ("statistic".to_owned(), header, rows),
        (
            "about".to_owned(),
            vec!["what".to_owned(), "value".to_owned()],
            about,
        ),
    ]
}

/// The most cells a JSON-stat answer spells out (it lists every combination of categories;
/// the absent ones are 0).
const MAX_JSONSTAT_CELLS: u64 = 250_000;

struct Dim {
    id: String,
    /// (code, German name, English name, the API's value) in order of first appearance
    /// (periods in time order).
    categories: Vec<(String, String, Option<String>, String)>,
    index: HashMap<String, usize>,
}

/// The code of a key in the machine formats.
fn code(k: &Key) -> String {
    match (&k.code, k.value.as_str()) {
        (Some(c), _) => c.clone(),
        (None, "") => "_Z".to_owned(),
        (None, v) => v.to_owned(),
    }
}

/// A statistic's dimensions and metrics, and the position of each row in the cube.
struct Cube {
    dims: Vec<Dim>,
    /// `count`, and `amount` where the measure sums one.
    metrics: Vec<&'static str>,
}

impl Cube {
    fn of(table: &Table) -> Cube {
        let mut dims: Vec<Dim> = table
            .group_by
            .iter()
            .map(|d| Dim {
                id: d.clone(),
                categories: Vec::new(),
                index: HashMap::new(),
            })
            .collect();
        for row in &table.rows {
            for (dim, key) in dims.iter_mut().zip(&row.keys) {
                let c = code(key);
                if !dim.index.contains_key(&c) {
                    dim.index.insert(c.clone(), dim.categories.len());
                    dim.categories
                        .push((c, key.readable(), key.label.clone(), key.value.clone()));
                }
            }
        }
        // Periods in time order (their codes sort so: `2025`, `2025-Q2`, `2025-06`).
        for dim in &mut dims {
            if matches!(dim.id.as_str(), "year" | "quarter" | "month") {
                dim.categories.sort();
                dim.index = dim
                    .categories
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (c.0.clone(), i))
                    .collect();
            }
        }
        let mut metrics = vec!["count"];
        if table.amount_of.is_some() {
            metrics.push("amount");
        }
        Cube { dims, metrics }
    }

    fn metric(row: &Row, metric: &str) -> Option<i64> {
        if row.suppressed {
            return None;
        }
        if metric == "amount" {
            row.amount
        } else {
            row.count
        }
    }

    /// The period and geography dimensions, by the roles of JSON-stat.
    fn role(&self, wanted: &[&str]) -> Vec<String> {
        self.dims
            .iter()
            .filter(|d| wanted.contains(&d.id.as_str()))
            .map(|d| d.id.clone())
            .collect()
    }
}

fn metric_name(metric: &str, table: &Table) -> (String, String) {
    match metric {
        "amount" => (
            table.amount_of.clone().unwrap_or_else(|| "amount".into()),
            "Betrag".to_owned(),
        ),
        _ => ("count".to_owned(), "Anzahl".to_owned()),
    }
}

fn title(table: &Table) -> String {
    let mut t = table.measure.clone();
    if !table.group_by.is_empty() {
        t.push_str(" by ");
        t.push_str(&table.group_by.join(", "));
    }
    t
}

/// The table as a JSON-stat 2.0 dataset: every combination of categories in row-major
/// order (absent combinations are 0), `measure` as the metric dimension last, suppressed
/// values `null` with the status `.`; the total, the filters and the protection in
/// `extension`.
pub fn json_stat(table: &Table) -> Result<Value, ApiError> {
    let cube = Cube::of(table);
    let mut sizes: Vec<usize> = cube.dims.iter().map(|d| d.categories.len()).collect();
    sizes.push(cube.metrics.len());
    let cells = sizes
        .iter()
        .try_fold(1u64, |n, s| n.checked_mul(*s as u64))
        .filter(|n| *n <= MAX_JSONSTAT_CELLS)
        .ok_or_else(|| {
            ApiError::new(
                Code::TooComplex,
                "too many combinations of categories for JSON-stat, which lists each; group by fewer dimensions or ask for sdmx-csv or csv",
            )
        })? as usize;
    let mut value = vec![Value::from(0); cells];
    let mut status = Map::new();
    let mut reasons = Map::new();
    // A dimension's stride: the product of the sizes after it.
    let strides: Vec<usize> = (0..sizes.len())
        .map(|i| sizes[i + 1..].iter().product())
        .collect();
    for row in &table.rows {
        let base: usize = cube
            .dims
            .iter()
            .zip(&row.keys)
            .zip(&strides)
            .map(|((d, k), s)| d.index.get(&code(k)).copied().unwrap_or(0) * s)
            .sum();
        for (m, metric) in cube.metrics.iter().enumerate() {
            let at = base + m;
            if row.suppressed {
                value[at] = Value::Null;
                status.insert(at.to_string(), SUPPRESSED.into());
                reasons.insert(
                    at.to_string(),
                    json!({"suppression": row.suppression, "reason": row.suppression_reason}),
                );
            } else {
                value[at] = Cube::metric(row, metric).map_or(Value::Null, Value::from);
            }
        }
    }
    let mut dimension = Map::new();
    for d in &cube.dims {
        let index: Vec<&str> = d.categories.iter().map(|c| c.0.as_str()).collect();
        let label: Map<String, Value> = d
            .categories
            .iter()
            .map(|c| (c.0.clone(), c.1.clone().into()))
            .collect();
        let english: Map<String, Value> = d
            .categories
            .iter()
            .filter_map(|c| c.2.clone().map(|en| (c.0.clone(), en.into())))
            .collect();
        let values: Map<String, Value> = d
            .categories
            .iter()
            .filter(|c| c.0 != c.3)
            .map(|c| (c.0.clone(), c.3.clone().into()))
            .collect();
        dimension.insert(
            d.id.clone(),
            json!({
                "label": d.id,
                "category": { "index": index, "label": label },
                "extension": { "labelEn": english, "apiValue": values },
            }),
        );
    }
    let metric_labels: Map<String, Value> = cube
        .metrics
        .iter()
        .map(|m| (m.to_string(), metric_name(m, table).1.into()))
        .collect();
    let units: Map<String, Value> = cube
        .metrics
        .iter()
        .map(|m| {
            (
                m.to_string(),
                json!({"decimals": 0, "label": metric_name(m, table).0}),
            )
        })
        .collect();
    dimension.insert(
        "measure".into(),
        json!({
            "label": "measure",
            "category": { "index": cube.metrics, "label": metric_labels, "unit": units },
        }),
    );
    let mut id: Vec<String> = cube.dims.iter().map(|d| d.id.clone()).collect();
    id.push("measure".into());
    let mut role = Map::new();
    role.insert("metric".into(), json!(["measure"]));
    let time = cube.role(&["year", "quarter", "month"]);
    if !time.is_empty() {
        role.insert("time".into(), json!(time));
    }
    let geo = cube.role(&["state", "region"]);
    if !geo.is_empty() {
        role.insert("geo".into(), json!(geo));
    }
    Ok(json!({
        "version": "2.0",
        "class": "dataset",
        "label": title(table),
        "source": "Verbund – Menschen stärken Menschen",
        "updated": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "id": id,
        "size": sizes,
        "role": role,
        "dimension": dimension,
        "value": value,
        "status": status,
        "note": [format!(
            "{SUPPRESSED} = suppressed (secret): a small count or a cell that would give one away; not zero"
        )],
        "extension": {
            "measure": table.measure,
            "protected": table.protected,
            "k": table.k,
            "filters": table.filters,
            "snapshot": table.snapshot,
            "total": table.total,
            "suppression": reasons,
        },
    }))
}

/// The SDMX-CSV 2.0 columns of a dimension: the period is `TIME_PERIOD`.
fn sdmx_column(dimension: &str) -> String {
    match dimension {
        "year" | "quarter" | "month" => "TIME_PERIOD".to_owned(),
        d => d.to_ascii_uppercase(),
    }
}

/// The table as SDMX-CSV 2.0: one observation per cell and metric (a `MEASURE` dimension
/// where the measure also sums an amount), the total with `_T` in every dimension it sums
/// over,
/// `CONF_STATUS` `F`, `A` (primary) or `D` (secondary).
pub fn sdmx_csv(table: &Table) -> Vec<u8> {
    let cube = Cube::of(table);
    let with_measure = cube.metrics.len() > 1;
    let mut header: Vec<String> = ["STRUCTURE", "STRUCTURE_ID", "ACTION"]
        .map(str::to_owned)
        .into();
    header.extend(cube.dims.iter().map(|d| sdmx_column(&d.id)));
    if with_measure {
        header.push("MEASURE".into());
    }
    header.extend(["OBS_VALUE", "CONF_STATUS"].map(str::to_owned));
    let structure = format!("VERBUND:{}(1.0)", table.measure.to_ascii_uppercase());
    let mut records = vec![header];
    for row in table.rows.iter().chain(std::iter::once(&table.total)) {
        for metric in &cube.metrics {
            let mut r = vec!["dataflow".to_owned(), structure.clone(), "I".to_owned()];
            // A total over a dimension is `_T` there (the total of a series keeps its month).
            for dim in &cube.dims {
                r.push(
                    row.keys
                        .iter()
                        .find(|k| k.dimension == dim.id)
                        .map_or_else(|| "_T".to_owned(), code),
                );
            }
            if with_measure {
                r.push(metric.to_ascii_uppercase());
            }
            r.push(Cube::metric(row, metric).map_or(String::new(), |v| v.to_string()));
            r.push(
                match (row.suppressed, row.suppression.as_deref()) {
                    (false, _) => "F",
                    (true, Some("primary")) => "A",
                    (true, _) => "D",
                }
                .to_owned(),
            );
            records.push(r);
        }
    }
    super::csv::csv_file(&records, false)
}

/// The table as a Frictionless tabular Data Package (a zip file): `datapackage.json` and
/// the table as plain CSV (the columns of `format=rfc4180`), with a Table Schema that types
/// the counts as integers and declares the suppression symbol as a missing value.
pub fn data_package(table: &Table) -> Result<Vec<u8>, ApiError> {
    use std::io::Write;
    let records = table_records(table);
    let header = records.first().cloned().unwrap_or_default();
    let fields: Vec<Value> = header
        .iter()
        .map(|h| {
            let mut f = json!({"name": h, "type": "string"});
            match h.as_str() {
                "count" | "amount" => {
                    f["type"] = "integer".into();
                    f["constraints"] = json!({"minimum": 0});
                    f["description"] = if h == "count" {
                        format!("the count; `{SUPPRESSED}` where suppressed").into()
                    } else {
                        table.amount_of.clone().unwrap_or_default().into()
                    };
                }
                "snapshot_as_of" => f["type"] = "date".into(),
                "suppression" => f["constraints"] = json!({"enum": ["primary", "secondary"]}),
                _ => {}
            }
            f
        })
        .collect();
    let name = table.measure.replace('_', "-");
    let descriptor = json!({
        "profile": "tabular-data-package",
        "name": format!("verbund-{name}"),
        "title": title(table),
        "created": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "description": format!(
            "A statistic of Verbund (Menschen stärken Menschen). One row per cell, the total last. `{SUPPRESSED}` in count and amount means suppressed: a small count (below k) or a cell that would give one away, never zero."
        ),
        "resources": [{
            "name": name,
            "path": format!("{name}.csv"),
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "dialect": {"delimiter": ",", "header": true, "lineTerminator": "\r\n"},
            "schema": {"fields": fields, "missingValues": ["", SUPPRESSED]},
        }],
    });
    let failed = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "data package not written");
        ApiError::new(Code::Internal, "internal error")
    };
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let json = serde_json::to_vec_pretty(&descriptor).map_err(|e| failed(&e))?;
    for (file, body) in [
        ("datapackage.json".to_owned(), json),
        (format!("{name}.csv"), super::csv::csv_file(&records, false)),
    ] {
        zip.start_file(file, options).map_err(|e| failed(&e))?;
        zip.write_all(&body).map_err(|e| failed(&e))?;
    }
    let out = zip.finish().map_err(|e| failed(&e))?;
    Ok(out.into_inner())
}
