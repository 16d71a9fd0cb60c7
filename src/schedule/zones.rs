//! Each recipient's time zone: their row's `timezone_column`, else
//! `[rate] timezone` (UTC by default).

use chrono_tz::Tz;

use crate::config::{parse_zone, Campaign};
use crate::contacts::{Columns, Recipient};
use crate::problem::Diagnostic;

/// Where recipients' zones come from.
#[derive(Debug, Clone)]
pub struct Zones {
    column: Option<String>,
    default: Tz,
    /// The contacts file, for the place of a problem.
    place: String,
}

impl Zones {
    /// The zones of `campaign`'s recipients.
    pub fn new(campaign: &Campaign) -> Zones {
        Zones {
            column: campaign.contacts.timezone_column.clone(),
            default: campaign.rate.timezone,
            place: campaign.contacts.path.display().to_string(),
        }
    }

    /// Everyone in `default`.
    pub fn fixed(default: Tz) -> Zones {
        Zones {
            column: None,
            default,
            place: String::new(),
        }
    }

    /// An error when the file has no `timezone_column`.
    pub fn check_header(&self, columns: &Columns) -> Result<(), Diagnostic> {
        match &self.column {
            Some(c) if columns.index(c).is_none() => Err(Diagnostic::error(
                format!("{}:1", self.place),
                format!(
                    "no column `{c}` for the recipients' time zones (`timezone_column` under [contacts]); the header has: {}",
                    columns.names.join(", ")
                ),
            )),
            _ => Ok(()),
        }
    }

    /// The recipient's zone: an empty cell means the default; a value that
    /// is not an IANA zone is an error naming the line.
    pub fn of(&self, r: &Recipient) -> Result<Tz, Diagnostic> {
        let Some(cell) = self.column.as_deref().and_then(|c| r.get(c)) else {
            return Ok(self.default);
        };
        if cell.trim().is_empty() {
            return Ok(self.default);
        }
        parse_zone(cell).map_err(|e| {
            Diagnostic::error(
                format!("{}:{}", self.place, r.line),
                format!(
                    "{} (column `{}`)",
                    e.0,
                    self.column.as_deref().unwrap_or_default()
                ),
            )
        })
    }

    /// The recipient's zone, the default for a value `check` would refuse.
    pub fn of_or_default(&self, r: &Recipient) -> Tz {
        self.of(r).unwrap_or(self.default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(names: &[&str]) -> Columns {
        Columns {
            names: names.iter().map(|n| n.to_string()).collect(),
            snake: names.iter().map(|n| n.to_lowercase()).collect(),
            email: Some(0),
            contact_form: None,
        }
    }

    /// A `timezone_column` the header lacks is an error on the header line,
    /// naming the column and the header; without one, any header will do.
    #[test]
    fn a_missing_timezone_column_is_named_on_the_header_line() {
        let zones = Zones {
            column: Some("tz".into()),
            default: Tz::UTC,
            place: "contacts.csv".into(),
        };
        let err = zones
            .check_header(&columns(&["email", "name"]))
            .unwrap_err();
        assert_eq!(err.place, "contacts.csv:1");
        assert!(err.message.contains("no column `tz`") && err.message.contains("email, name"));
        assert!(zones.check_header(&columns(&["email", "TZ"])).is_ok());
        assert!(Zones::fixed(Tz::UTC)
            .check_header(&columns(&["email"]))
            .is_ok());
    }
}
