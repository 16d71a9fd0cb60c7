//! UK House of Commons: the Members API.
//!
//! Layout (2026-12-05; recorded answers in beatonma/snommoc @ 450e6bc
//! `…/members/tests/data/{search,contact}.json`, the OpenAPI document
//! `members-api.parliament.uk/swagger/v1/swagger.json` as kept in
//! ChrisBrooksbank/uk-parliament-data-mcp @ f89917d):
//! - `GET /api/Members/Search?House=1&IsCurrentMember=true&skip=N&take=20`
//!   answers `{items:[{value:{id, nameListAs, nameDisplayAs, nameFullTitle,
//!   nameAddressAs, gender, latestParty:{name}, latestHouseMembership:
//!   {membershipFrom}}}], totalResults, skip, take, links}`; `take` is at
//!   most 20. The `links` drop the filter parameters and on the last page
//!   `page.next` equals `self`, so paging follows `skip + take <
//!   totalResults`, never the links.
//! - `GET /api/Members/{id}/Contact` answers `{value:[{type, typeId,
//!   isWebAddress, line1…, phone?, email?}]}`: an entry without an address
//!   has no `email` key at all; an MP may have none.
//!
//! No rate is published; four requests a second keeps it polite (one per
//! MP: about 165 s for 650 MPs).

use super::http::Http;
use super::table::{need, need_array, need_count, need_str, opt_str};
use super::{Member, RosterError};

/// The publisher's origin (replaced by `--url`).
pub const ORIGIN: &str = "https://members-api.parliament.uk";
/// Results per page: the API's maximum.
pub const TAKE: usize = 20;
/// Requests a minute.
pub const PER_MINUTE: u32 = 240;
/// `typeId` of the Parliamentary office, whose address is preferred.
const PARLIAMENTARY_OFFICE: u64 = 1;

const EXTRA: [&str; 3] = ["full_title", "gender", "phone"];

/// Fetches every current MP and each one's contact details.
pub fn fetch(http: &mut Http<'_>) -> Result<(Vec<&'static str>, Vec<Member>), RosterError> {
    let mut members: Vec<(u64, Member)> = Vec::new();
    let mut skip = 0;
    let (total, last_url) = loop {
        let url = http.url(
            ORIGIN,
            &format!("/api/Members/Search?House=1&IsCurrentMember=true&skip={skip}&take={TAKE}"),
        );
        let page = http.get_json(&url)?;
        let total = need_count(http, &url, &page, "totalResults")?;
        let items = need_array(http, &url, &page, "items")?;
        for item in items {
            let (id, member) = summary(http, &url, item)?;
            if !members.iter().any(|(seen, _)| *seen == id) {
                members.push((id, member));
            }
        }
        http.members(0, Some(total));
        if items.is_empty() || skip + TAKE >= total {
            break (total, url);
        }
        skip += TAKE;
    };
    if members.len() < total {
        return Err(RosterError::Incomplete {
            source_name: http.source().to_string(),
            url: last_url,
            expected: total,
            got: members.len(),
        });
    }
    let count = members.len();
    for (done, (id, member)) in members.iter_mut().enumerate() {
        let url = http.url(ORIGIN, &format!("/api/Members/{id}/Contact"));
        let contact = http.get_json(&url)?;
        let (email, phone) = address(http, &url, &contact)?;
        member.email = email;
        member.extra[2] = phone;
        http.members(done + 1, Some(count));
    }
    Ok((
        EXTRA.to_vec(),
        members.into_iter().map(|(_, m)| m).collect(),
    ))
}

/// One search item: its id and the member without contact details.
fn summary(
    http: &Http<'_>,
    url: &str,
    item: &serde_json::Value,
) -> Result<(u64, Member), RosterError> {
    let value = need(http, url, item, "value")?;
    let id = need(http, url, value, "id")?
        .as_u64()
        .ok_or_else(|| RosterError::layout(http, url, "value.id"))?;
    let name = need_str(http, url, value, "nameDisplayAs")?;
    let (family_name, given_name) = split_list_name(&need_str(http, url, value, "nameListAs")?);
    let address_as = opt_str(value, "nameAddressAs");
    Ok((
        id,
        Member {
            title: "MP".to_string(),
            salutation: if address_as.is_empty() {
                name.clone()
            } else {
                address_as
            },
            name,
            given_name,
            family_name,
            chamber: "House of Commons".to_string(),
            district: need_str(http, url, value, "latestHouseMembership.membershipFrom")?,
            // The Speaker's party is "Speaker"; a null party reads as empty.
            party: opt_str(value, "latestParty.name"),
            email: String::new(),
            contact_form: String::new(),
            source_id: id.to_string(),
            extra: vec![
                opt_str(value, "nameFullTitle"),
                opt_str(value, "gender"),
                String::new(),
            ],
        },
    ))
}

/// The MP's address and phone: the Parliamentary office's if it has an
/// address, else the first entry that has one.
fn address(
    http: &Http<'_>,
    url: &str,
    contact: &serde_json::Value,
) -> Result<(String, String), RosterError> {
    let entries = need_array(http, url, contact, "value")?;
    let with_email = |e: &&serde_json::Value| !opt_str(e, "email").is_empty();
    let chosen = entries
        .iter()
        .filter(with_email)
        .find(|e| e.get("typeId").and_then(|t| t.as_u64()) == Some(PARLIAMENTARY_OFFICE))
        .or_else(|| entries.iter().find(with_email));
    Ok(match chosen {
        Some(e) => (opt_str(e, "email"), opt_str(e, "phone")),
        None => (String::new(), String::new()),
    })
}

/// `Starmer, Sir Keir` → (`Starmer`, `Keir`): the list name is "family,
/// given" with honorifics before the given name.
fn split_list_name(list: &str) -> (String, String) {
    const HONORIFICS: [&str; 12] = [
        "Sir", "Dame", "Dr", "Mr", "Mrs", "Ms", "Miss", "Lord", "Lady", "Rev", "Revd", "Prof",
    ];
    let Some((family, given)) = list.split_once(',') else {
        return (list.trim().to_string(), String::new());
    };
    let mut words: Vec<&str> = given.split_whitespace().collect();
    while words.len() > 1 && HONORIFICS.contains(&words[0].trim_end_matches('.')) {
        words.remove(0);
    }
    (family.trim().to_string(), words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_names_split_without_honorifics() {
        assert_eq!(
            split_list_name("Starmer, Sir Keir"),
            ("Starmer".into(), "Keir".into())
        );
        assert_eq!(
            split_list_name("Ní Chuilín, Órfhlaith"),
            ("Ní Chuilín".into(), "Órfhlaith".into())
        );
        assert_eq!(
            split_list_name("Madonna"),
            ("Madonna".into(), String::new())
        );
    }
}
