//! Represent (Open North): Canada's House of Commons, provinces, cities.
//!
//! Layout (2026-12-05; opennorth/represent-reps @ a3b646a `models.py`,
//! represent-canada @ 4ea72c9 `finder/templates/api.html`):
//! `GET /representatives/<set>/?limit=…&offset=…` answers `{objects:[{name,
//! first_name, last_name, elected_office, district_name, party_name, email,
//! url, gender, offices:[{type, postal?, tel?, fax?}], related:{…}}],
//! meta:{next, previous, total_count, limit, offset}}`; `next` is a
//! relative URL or null. `email` is always there, `""` when the
//! representative has none. The API allows 60 requests a minute and
//! answers 503 beyond it.

use super::http::Http;
use super::table::{need, need_array, need_count, need_str, opt_str};
use super::{Member, RosterError};

/// The publisher's origin (replaced by `--url`).
pub const ORIGIN: &str = "https://represent.opennorth.ca";
/// The set `canada-commons` names.
pub const HOUSE_OF_COMMONS: &str = "house-of-commons";
/// Requests a minute (the published limit).
pub const PER_MINUTE: u32 = 60;
/// Representatives per page (the House of Commons in 4 requests).
const LIMIT: usize = 100;

const EXTRA: [&str; 4] = ["gender", "phone", "address", "website"];

/// Fetches the representatives of `set`.
pub fn fetch(
    http: &mut Http<'_>,
    set: &str,
) -> Result<(Vec<&'static str>, Vec<Member>), RosterError> {
    let mut members = Vec::new();
    let mut next = Some(format!("/representatives/{set}/?limit={LIMIT}"));
    let mut seen = Vec::new();
    let mut total = 0;
    let mut url = String::new();
    while let Some(path) = next.take() {
        if seen.contains(&path) {
            break;
        }
        seen.push(path.clone());
        url = http.url(ORIGIN, &path);
        let page = http.get_json(&url)?;
        total = need_count(http, &url, &page, "meta.total_count")?;
        let objects = need_array(http, &url, &page, "objects")?;
        for object in objects {
            members.push(member(http, &url, object)?);
        }
        http.members(members.len(), Some(total));
        next = match need(http, &url, &page, "meta.next")? {
            // An empty page ends the list whatever `next` says: a server
            // that keeps linking onward cannot keep repmail paging.
            serde_json::Value::String(s) if !s.is_empty() && !objects.is_empty() => {
                Some(path_of(s))
            }
            _ => None,
        };
    }
    if members.len() < total {
        return Err(RosterError::Incomplete {
            source_name: http.source().to_string(),
            url,
            expected: total,
            got: members.len(),
        });
    }
    Ok((EXTRA.to_vec(), members))
}

/// A `next` link's path and query (it is relative; an absolute one is cut
/// to its path so that `--url` still holds).
fn path_of(link: &str) -> String {
    match link.split_once("://") {
        Some((_, rest)) => rest
            .find('/')
            .map_or("/".to_string(), |i| rest[i..].to_string()),
        None => link.to_string(),
    }
}

fn member(http: &Http<'_>, url: &str, o: &serde_json::Value) -> Result<Member, RosterError> {
    let name = need_str(http, url, o, "name")?;
    let page = opt_str(o, "url");
    // The member's own page is their lasting identifier; a set without
    // pages falls back to the seat and the name.
    let source_id = if page.is_empty() {
        format!("{}#{name}", opt_str(o, "related.boundary_url"))
    } else {
        page
    };
    let offices = o.get("offices").and_then(|v| v.as_array());
    let office = offices.and_then(|list| {
        list.iter()
            .find(|f| opt_str(f, "type") == "legislature")
            .or_else(|| list.first())
    });
    let office_field = |key: &str| office.map(|f| opt_str(f, key)).unwrap_or_default();
    Ok(Member {
        title: opt_str(o, "elected_office"),
        salutation: name.clone(),
        given_name: opt_str(o, "first_name"),
        family_name: opt_str(o, "last_name"),
        chamber: opt_str(o, "representative_set_name"),
        district: need_str(http, url, o, "district_name")?,
        party: opt_str(o, "party_name"),
        email: need_str(http, url, o, "email")?,
        contact_form: String::new(),
        source_id,
        extra: vec![
            opt_str(o, "gender"),
            office_field("tel"),
            office_field("postal"),
            opt_str(o, "personal_url"),
        ],
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links_keep_path_and_query() {
        assert_eq!(
            path_of("/representatives/x/?offset=2"),
            "/representatives/x/?offset=2"
        );
        assert_eq!(
            path_of("https://represent.opennorth.ca/representatives/x/?offset=2"),
            "/representatives/x/?offset=2"
        );
    }
}
