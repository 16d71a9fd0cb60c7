//! US Congress: unitedstates/congress-legislators' current legislators.
//!
//! Layout (2026-12-05): `https://unitedstates.github.io/congress-legislators/legislators-current.csv`
//! (gh-pages @ 61c9ce6, 2026-06-15; written by `scripts/alternate_bulk_formats.py`):
//! 36 columns, `last_name,first_name,…,full_name,…,type,state,district,…,
//! party,url,address,phone,contact_form,…,bioguide_id,…`. There is no
//! address column: Congress publishes only web forms (`contact_form`,
//! empty for most of the House), so every member is a form-only office or
//! unreachable.

use super::http::Http;
use super::table::PublishedCsv;
use super::{salutation, Member, RosterError};

/// The publisher's origin (replaced by `--url`).
pub const ORIGIN: &str = "https://unitedstates.github.io";
/// The file's path.
pub const PATH: &str = "/congress-legislators/legislators-current.csv";

const REQUIRED: [&str; 9] = [
    "last_name",
    "first_name",
    "full_name",
    "type",
    "state",
    "district",
    "party",
    "contact_form",
    "bioguide_id",
];

const EXTRA: [&str; 4] = ["state", "phone", "address", "website"];

/// Fetches the members of Congress.
pub fn fetch(http: &mut Http<'_>) -> Result<(Vec<&'static str>, Vec<Member>), RosterError> {
    let url = http.url(ORIGIN, PATH);
    let text = http.get(&url)?;
    let table = PublishedCsv::read(http, &url, &text, &REQUIRED)?;
    let members: Vec<Member> = table
        .rows()
        .map(|get| {
            let state = get("state");
            let kind = get("type");
            let (title, chamber, district) = match kind.as_str() {
                "sen" => ("Senator", "Senate", state.clone()),
                _ => (
                    house_title(&state),
                    "House of Representatives",
                    format!("{state}-{}", get("district")),
                ),
            };
            let family_name = get("last_name");
            let name = get("full_name");
            Member {
                salutation: salutation(title, &family_name, &name),
                title: title.to_string(),
                given_name: get("first_name"),
                family_name,
                name,
                chamber: chamber.to_string(),
                district,
                party: get("party"),
                email: String::new(),
                contact_form: get("contact_form"),
                source_id: get("bioguide_id"),
                extra: vec![state, get("phone"), get("address"), get("url")],
            }
        })
        .collect();
    http.members(members.len(), Some(members.len()));
    Ok((EXTRA.to_vec(), members))
}

/// The House's non-voting members are Delegates, Puerto Rico's a Resident
/// Commissioner.
fn house_title(state: &str) -> &'static str {
    match state {
        "PR" => "Resident Commissioner",
        "DC" | "GU" | "VI" | "AS" | "MP" => "Delegate",
        _ => "Representative",
    }
}
