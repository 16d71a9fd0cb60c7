//! Open States: one CSV of a state's current legislators.
//!
//! Layout (2026-12-05): `https://data.openstates.org/people/current/<abbr>.csv`,
//! written by `write_csv` in openstates/openstates-core `openstates/cli/people.py`
//! (@ 1d4d594): `id,name,current_party,current_district,current_chamber,
//! given_name,family_name,gender,email,…,district_address,district_voice,…`;
//! a missing address is an empty cell; for the `us` jurisdiction `email`
//! holds contact-form URLs. The `capitol_*` columns are always empty (an
//! upstream bug since 2021), so the district office is the one kept.

use super::http::Http;
use super::table::PublishedCsv;
use super::{salutation, split_address, Member, RosterError};

/// The publisher's origin (replaced by `--url`).
pub const ORIGIN: &str = "https://data.openstates.org";

/// Columns read (a file without one of them has changed layout).
const REQUIRED: [&str; 8] = [
    "id",
    "name",
    "current_party",
    "current_district",
    "current_chamber",
    "given_name",
    "family_name",
    "email",
];

/// Open States' extra columns kept in the roster.
const EXTRA: [&str; 4] = ["gender", "phone", "address", "state"];

/// Fetches the state `abbr`'s legislators.
pub fn fetch(
    http: &mut Http<'_>,
    abbr: &str,
) -> Result<(Vec<&'static str>, Vec<Member>), RosterError> {
    let url = http.url(ORIGIN, &format!("/people/current/{abbr}.csv"));
    let text = http.get(&url)?;
    let table = PublishedCsv::read(http, &url, &text, &REQUIRED)?;
    let members: Vec<Member> = table
        .rows()
        .map(|get| {
            let (title, chamber) = office(abbr, &get("current_chamber"));
            let (title, chamber) = (title.to_string(), chamber.to_string());
            let (email, contact_form) = split_address(&get("email"));
            let family_name = get("family_name");
            let name = get("name");
            let phone = first(&get("district_voice"), &get("capitol_voice"));
            let address = first(&get("district_address"), &get("capitol_address"));
            Member {
                salutation: salutation(&title, &family_name, &name),
                title,
                given_name: get("given_name"),
                family_name,
                name,
                chamber,
                district: get("current_district"),
                party: get("current_party"),
                email,
                contact_form,
                source_id: get("id"),
                extra: vec![get("gender"), phone, address, abbr.to_ascii_uppercase()],
            }
        })
        .collect();
    http.members(members.len(), Some(members.len()));
    Ok((EXTRA.to_vec(), members))
}

fn first(a: &str, b: &str) -> String {
    if a.is_empty() { b } else { a }.to_string()
}

/// How a member of `chamber` (`upper`, `lower`, `legislature`) in state
/// `abbr` is addressed, and the chamber's name, so that a letter can say
/// "member of the {{ chamber }}". Most lower houses are a House of
/// Representatives; California, Nevada, New York and Wisconsin have an
/// Assembly, Maryland, Virginia and West Virginia a House of Delegates;
/// Nebraska's one chamber is a Legislature of senators, DC's a Council.
fn office(abbr: &str, chamber: &str) -> (&'static str, &'static str) {
    match (chamber, abbr) {
        ("upper", _) => ("Senator", "Senate"),
        ("lower", "ca" | "nv" | "ny" | "wi") => ("Assemblymember", "Assembly"),
        ("lower", "md" | "va" | "wv") => ("Delegate", "House of Delegates"),
        ("lower", _) => ("Representative", "House of Representatives"),
        ("legislature", "ne") => ("Senator", "Legislature"),
        ("legislature", "dc") => ("Councilmember", "Council"),
        _ => ("", "Legislature"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_follow_the_chamber_and_state() {
        assert_eq!(office("il", "upper"), ("Senator", "Senate"));
        assert_eq!(office("il", "lower").0, "Representative");
        assert_eq!(office("ny", "lower"), ("Assemblymember", "Assembly"));
        assert_eq!(office("va", "lower").0, "Delegate");
        assert_eq!(office("ne", "legislature").0, "Senator");
    }
}
