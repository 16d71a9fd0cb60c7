//! What changed between a campaign's roster and a fresh one, matched by
//! the publisher's `source_id`.

/// One row as `roster update` compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The publisher's identifier.
    pub source_id: String,
    /// Name.
    pub name: String,
    /// District.
    pub district: String,
    /// Address (may be empty).
    pub email: String,
    /// Contact form (may be empty).
    pub contact_form: String,
}

impl Entry {
    /// The address, or the form, or nothing: how the office is reached.
    pub fn reach(&self) -> &str {
        if !self.email.is_empty() {
            &self.email
        } else if !self.contact_form.is_empty() {
            &self.contact_form
        } else {
            "(no address)"
        }
    }
}

impl From<&super::Member> for Entry {
    fn from(m: &super::Member) -> Entry {
        Entry {
            source_id: m.source_id.clone(),
            name: m.name.clone(),
            district: m.district.clone(),
            email: m.email.clone(),
            contact_form: m.contact_form.clone(),
        }
    }
}

/// One change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// In the fresh roster only.
    Joined(Entry),
    /// In the campaign's roster only.
    Left(Entry),
    /// In both, reached differently (address or form).
    Address {
        /// The campaign's row.
        before: Entry,
        /// The fresh row.
        after: Entry,
    },
}

/// The changes from `old` to `new`: who left (in the old order), then who
/// joined and whose address changed (in the new order).
pub fn changes(old: &[Entry], new: &[Entry]) -> Vec<Change> {
    let find = |list: &[Entry], id: &str| list.iter().find(|e| e.source_id == id).cloned();
    let mut out: Vec<Change> = old
        .iter()
        .filter(|o| find(new, &o.source_id).is_none())
        .cloned()
        .map(Change::Left)
        .collect();
    for n in new {
        match find(old, &n.source_id) {
            None => out.push(Change::Joined(n.clone())),
            Some(o) => {
                // Addresses compare without case: `A@Example.org` is the
                // same mailbox as `a@example.org` for any real server.
                if !o.email.eq_ignore_ascii_case(&n.email) || o.contact_form != n.contact_form {
                    out.push(Change::Address {
                        before: o,
                        after: n.clone(),
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(id: &str, email: &str) -> Entry {
        Entry {
            source_id: id.into(),
            name: id.into(),
            district: String::new(),
            email: email.into(),
            contact_form: String::new(),
        }
    }

    #[test]
    fn left_joined_and_changed() {
        let old = [
            e("1", "a@example.org"),
            e("2", "b@example.org"),
            e("3", "c@example.org"),
        ];
        let new = [
            e("1", "A@example.org"),
            e("3", "c2@example.org"),
            e("4", "d@example.org"),
        ];
        let c = changes(&old, &new);
        assert_eq!(
            c,
            vec![
                Change::Left(e("2", "b@example.org")),
                Change::Address {
                    before: e("3", "c@example.org"),
                    after: e("3", "c2@example.org")
                },
                Change::Joined(e("4", "d@example.org")),
            ]
        );
    }
}
