//! Rosters: the current representatives, fetched from their publishers
//! into one contacts layout that `check` and `send` read with nothing but
//! `[contacts] path`.
//!
//! One small module per publisher ([`openstates`], [`congress`], [`uk`],
//! [`represent`]) turns the publisher's answers into [`Member`]s; the HTTP
//! client and its manners live in [`http`] alone; [`file`] writes the
//! contacts file whole or not at all and remembers when; [`diff`] says who
//! joined, left or changed address. The library never prints: progress
//! goes through [`FetchProgress`], which the CLI implements.

pub mod congress;
pub mod diff;
mod error;
pub mod file;
pub mod http;
pub mod openstates;
pub mod represent;
mod table;
pub mod uk;

use std::time::Duration;

pub use error::RosterError;
use http::Http;

/// The columns every roster has, in this order, whatever its source; the
/// source's own useful fields follow them.
pub const COLUMNS: [&str; 12] = [
    "title",
    "name",
    "given_name",
    "family_name",
    "chamber",
    "district",
    "party",
    "email",
    "contact_form",
    "source",
    "source_id",
    "salutation",
];

/// One representative, in the common layout.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Member {
    /// Form of address that goes before the family name (`Senator`,
    /// `Representative`, `MP`); may be empty.
    pub title: String,
    /// The name as the publisher displays it.
    pub name: String,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// The chamber's name (`Senate`, `House of Representatives`, `House of
    /// Commons`…), to follow "member of the".
    pub chamber: String,
    /// District or constituency.
    pub district: String,
    /// Party.
    pub party: String,
    /// Address, empty when the publisher has none.
    pub email: String,
    /// Web form URL, empty when none.
    pub contact_form: String,
    /// The publisher's own identifier: what `roster update` matches on.
    pub source_id: String,
    /// What follows "Dear": `Senator Smith`, or the name.
    pub salutation: String,
    /// The source's extra columns, in the order of [`Roster::extra`].
    pub extra: Vec<String>,
}

/// A fetched roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roster {
    /// The source's name (`openstates/il`).
    pub source: String,
    /// Names of the source's extra columns.
    pub extra: Vec<&'static str>,
    /// The members, in the publisher's order.
    pub members: Vec<Member>,
}

/// A roster source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Publisher {
    /// Open States, one US state (two-letter abbreviation, lower case).
    OpenStates(String),
    /// unitedstates/congress-legislators.
    UsCongress,
    /// UK House of Commons (Members API).
    UkCommons,
    /// Represent (Open North): one representative set; `canada-commons`
    /// is `house-of-commons`.
    Represent(String),
}

/// What `roster list` shows: (name, covers, publisher and rate).
pub const SOURCES: &[(&str, &str, &str)] = &[
    (
        "openstates/<state>",
        "a US state legislature, e.g. openstates/il (both chambers)",
        "Open States, data.openstates.org, one CSV per state, nightly, CC0",
    ),
    (
        "us-congress",
        "US Senate and House (contact forms only: Congress publishes no addresses)",
        "unitedstates/congress-legislators, CC0",
    ),
    (
        "uk-commons",
        "UK House of Commons, every MP",
        "UK Parliament Members API, Open Parliament Licence; 1 request per MP, 4 a second",
    ),
    (
        "canada-commons",
        "Canada's House of Commons",
        "Represent (Open North); 60 requests a minute",
    ),
    (
        "represent/<set>",
        "any Represent set: provinces, cities (e.g. represent/ontario-legislature)",
        "Represent (Open North); 60 requests a minute",
    ),
];

impl Publisher {
    /// Reads a source name as `roster list` shows them.
    pub fn parse(name: &str) -> Result<Publisher, RosterError> {
        let unknown = || RosterError::UnknownSource(name.to_string());
        let name = name.trim();
        if let Some(state) = name.strip_prefix("openstates/") {
            let state = state.to_ascii_lowercase();
            if state.len() == 2 && state.bytes().all(|b| b.is_ascii_lowercase()) {
                return Ok(Publisher::OpenStates(state));
            }
            return Err(unknown());
        }
        if let Some(set) = name.strip_prefix("represent/") {
            if !set.is_empty()
                && set
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Ok(Publisher::Represent(set.to_string()));
            }
            return Err(unknown());
        }
        match name {
            "us-congress" => Ok(Publisher::UsCongress),
            "uk-commons" => Ok(Publisher::UkCommons),
            "canada-commons" => Ok(Publisher::Represent(
                represent::HOUSE_OF_COMMONS.to_string(),
            )),
            _ => Err(unknown()),
        }
    }

    /// The name as the user writes it (`canada-commons` for Represent's
    /// House of Commons).
    pub fn name(&self) -> String {
        match self {
            Publisher::OpenStates(s) => format!("openstates/{s}"),
            Publisher::UsCongress => "us-congress".to_string(),
            Publisher::UkCommons => "uk-commons".to_string(),
            Publisher::Represent(s) if s == represent::HOUSE_OF_COMMONS => {
                "canada-commons".to_string()
            }
            Publisher::Represent(s) => format!("represent/{s}"),
        }
    }

    /// A file name for the roster: `openstates-il.csv`.
    pub fn file_name(&self) -> String {
        format!("{}.csv", self.name().replace('/', "-"))
    }

    /// The publisher's published rate, in requests a minute.
    fn per_minute(&self) -> u32 {
        match self {
            // One request each: the rate never binds.
            Publisher::OpenStates(_) | Publisher::UsCongress => 60,
            // No published limit; "a few a second" keeps it polite.
            Publisher::UkCommons => uk::PER_MINUTE,
            Publisher::Represent(_) => represent::PER_MINUTE,
        }
    }
}

/// Fetches `source` (at `base` instead of the publisher's origin, if
/// given), reporting to `progress`.
pub fn fetch(
    source: &Publisher,
    base: Option<&str>,
    progress: &mut dyn FetchProgress,
) -> Result<Roster, RosterError> {
    let base = base.map(http::check_base).transpose()?;
    let name = source.name();
    let mut http = Http::new(&name, source.per_minute(), base.as_deref(), progress);
    let (extra, members) = match source {
        Publisher::OpenStates(state) => openstates::fetch(&mut http, state)?,
        Publisher::UsCongress => congress::fetch(&mut http)?,
        Publisher::UkCommons => uk::fetch(&mut http)?,
        Publisher::Represent(set) => represent::fetch(&mut http, set)?,
    };
    if members.is_empty() {
        return Err(RosterError::Empty(name));
    }
    Ok(Roster {
        source: name,
        extra,
        members,
    })
}

/// Where a fetch reports how it goes.
pub trait FetchProgress {
    /// A request is about to go out.
    fn request(&mut self, _url: &str) {}
    /// `done` members of `total` (when known) are in.
    fn members(&mut self, _done: usize, _total: Option<usize>) {}
    /// A request is retried after `wait` because of `why`.
    fn retry(&mut self, _url: &str, _why: &str, _wait: Duration) {}
}

/// A [`FetchProgress`] that shows nothing.
pub struct Quiet;

impl FetchProgress for Quiet {}

/// `Senator Smith`, or the name when there is no title or family name.
pub fn salutation(title: &str, family_name: &str, name: &str) -> String {
    if title.is_empty() || family_name.is_empty() {
        name.to_string()
    } else {
        format!("{title} {family_name}")
    }
}

/// An address cell as published: a URL goes to the contact form (Open
/// States' `us` jurisdiction), anything without `@` is no address.
pub fn split_address(cell: &str) -> (String, String) {
    let cell = cell.trim();
    if cell.starts_with("http://") || cell.starts_with("https://") {
        (String::new(), cell.to_string())
    } else if cell.contains('@') {
        (cell.to_string(), String::new())
    } else {
        (String::new(), String::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_read_back_by_their_names() {
        for name in [
            "openstates/il",
            "us-congress",
            "uk-commons",
            "canada-commons",
            "represent/quebec-assemblee-nationale",
        ] {
            assert_eq!(Publisher::parse(name).unwrap().name(), name);
        }
        assert_eq!(
            Publisher::parse("openstates/IL").unwrap(),
            Publisher::OpenStates("il".into())
        );
        for bad in ["openstates/illinois", "openstates/", "uk", "represent/../x"] {
            assert!(Publisher::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Publisher::parse("openstates/il").unwrap().file_name(),
            "openstates-il.csv"
        );
    }

    #[test]
    fn address_cells() {
        assert_eq!(
            split_address(" a@example.org "),
            ("a@example.org".into(), String::new())
        );
        assert_eq!(
            split_address("https://x.example.org/contact"),
            (String::new(), "https://x.example.org/contact".into())
        );
        assert_eq!(
            split_address("No email found"),
            (String::new(), String::new())
        );
    }
}
