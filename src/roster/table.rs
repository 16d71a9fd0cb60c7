//! A publisher's CSV file read by column name, with the columns the
//! layout always had checked up front (a renamed column names itself).

use std::collections::HashMap;

use super::http::Http;
use super::RosterError;

/// The rows of a CSV answer, each read by column name.
pub struct PublishedCsv {
    index: HashMap<String, usize>,
    rows: Vec<csv::StringRecord>,
}

impl PublishedCsv {
    /// Reads `text` (the answer of `url`), refusing it if one of
    /// `required` is not in its header.
    pub fn read(
        http: &Http<'_>,
        url: &str,
        text: &str,
        required: &[&str],
    ) -> Result<PublishedCsv, RosterError> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(false)
            .from_reader(text.as_bytes());
        let unreadable = |e: csv::Error| RosterError::Unreadable {
            source_name: http.source().to_string(),
            url: url.to_string(),
            why: format!("not a CSV file: {e}"),
        };
        let header = reader.headers().map_err(unreadable)?.clone();
        let index: HashMap<String, usize> = header
            .iter()
            .enumerate()
            .map(|(i, h)| (h.trim().to_string(), i))
            .collect();
        if let Some(missing) = required.iter().find(|c| !index.contains_key(**c)) {
            return Err(RosterError::layout(http, url, missing));
        }
        let rows = reader
            .records()
            .collect::<Result<Vec<_>, _>>()
            .map_err(unreadable)?;
        Ok(PublishedCsv { index, rows })
    }

    /// The rows, each with a getter by column (`""` when the column or
    /// cell is missing).
    pub fn rows(&self) -> impl Iterator<Item = impl Fn(&str) -> String + '_> + '_ {
        self.rows.iter().map(move |r| {
            move |column: &str| {
                self.index
                    .get(column)
                    .and_then(|&i| r.get(i))
                    .unwrap_or("")
                    .trim()
                    .to_string()
            }
        })
    }
}

/// The value at `path` (dot-separated keys) in a JSON answer, or the
/// layout error that names the first missing key.
pub fn need<'v>(
    http: &Http<'_>,
    url: &str,
    value: &'v serde_json::Value,
    path: &str,
) -> Result<&'v serde_json::Value, RosterError> {
    let mut at = value;
    for key in path.split('.') {
        at = at
            .get(key)
            .ok_or_else(|| RosterError::layout(http, url, path))?;
    }
    Ok(at)
}

/// A string at `path` that must be there (`null` reads as empty).
pub fn need_str(
    http: &Http<'_>,
    url: &str,
    value: &serde_json::Value,
    path: &str,
) -> Result<String, RosterError> {
    match need(http, url, value, path)? {
        serde_json::Value::String(s) => Ok(s.trim().to_string()),
        serde_json::Value::Null => Ok(String::new()),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        _ => Err(RosterError::layout(http, url, path)),
    }
}

/// A string at `path` that may be absent or `null`.
pub fn opt_str(value: &serde_json::Value, path: &str) -> String {
    let mut at = value;
    for key in path.split('.') {
        match at.get(key) {
            Some(v) => at = v,
            None => return String::new(),
        }
    }
    match at {
        serde_json::Value::String(s) => s.trim().to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// A count at `path` that must be there.
pub fn need_count(
    http: &Http<'_>,
    url: &str,
    value: &serde_json::Value,
    path: &str,
) -> Result<usize, RosterError> {
    need(http, url, value, path)?
        .as_u64()
        .map(|n| n as usize)
        .ok_or_else(|| RosterError::layout(http, url, path))
}

/// An array at `path` that must be there.
pub fn need_array<'v>(
    http: &Http<'_>,
    url: &str,
    value: &'v serde_json::Value,
    path: &str,
) -> Result<&'v Vec<serde_json::Value>, RosterError> {
    need(http, url, value, path)?
        .as_array()
        .ok_or_else(|| RosterError::layout(http, url, path))
}
