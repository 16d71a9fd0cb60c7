//! An email address as repmail sends to it: whether it can travel as it
//! stands (ASCII before the `@`, an IDNA domain, a form lettre can write
//! and read back), and the key that matches log rows to recipients.

use lettre::message::Mailbox;
use lettre::Address;

/// Why an address cannot go into a letter as it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsendable {
    /// Non-ASCII before the `@` (RFC 6531): deliverable only where every
    /// server on the way speaks SMTPUTF8, so repmail does not try.
    NonAsciiLocalPart,
    /// A form that lettre cannot write into a header and read back (a
    /// quoted local part with spaces or specials, an IP-address domain).
    NotWritable,
}

impl Unsendable {
    /// What is wrong, in the user's terms.
    pub fn reason(self) -> &'static str {
        match self {
            Unsendable::NonAsciiLocalPart => "it has non-ASCII characters before the @ (an internationalised address), which most mail servers cannot deliver; ask the office for a plain ASCII address",
            Unsendable::NotWritable => "it cannot be written in a mail header as it stands (a quoted part with spaces or special characters, or an IP address after the @); use the plain form of the address",
        }
    }
}

/// The address as it travels: an internationalised domain in IDNA
/// A-labels (`bücher.test` → `xn--bcher-kva.test`) so that any server takes
/// it without SMTPUTF8, and the local part in the plain form lettre writes
/// into the To header. lettre builds the SMTP envelope by reading that
/// header back, so an address that does not survive the round trip would
/// have no envelope at all; it is refused here instead, with its reason.
pub fn sendable_address(addr: &Address) -> Result<Address, Unsendable> {
    if !addr.user().is_ascii() {
        return Err(Unsendable::NonAsciiLocalPart);
    }
    let ascii = if addr.domain().is_ascii() {
        addr.clone()
    } else {
        let domain = idna::domain_to_ascii(addr.domain()).map_err(|_| Unsendable::NotWritable)?;
        Address::new(addr.user(), domain).map_err(|_| Unsendable::NotWritable)?
    };
    let as_header: &str = ascii.as_ref();
    as_header
        .parse::<Mailbox>()
        .map(|m| m.email)
        .map_err(|_| Unsendable::NotWritable)
}

/// How log rows are matched to recipients: the address trimmed and
/// lower-cased (addresses are treated case-insensitively), with a Unicode
/// domain in the IDNA form recipients travel with, so that an address typed
/// as in the spreadsheet (`--recipient rep@bücher.test`) finds them.
pub fn recipient_key(email: &str) -> String {
    let email = email.trim();
    if !email.is_ascii() {
        if let Some(a) = email.parse().ok().and_then(|a| sendable_address(&a).ok()) {
            return a.to_string().to_lowercase();
        }
    }
    email.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sendable_addresses() {
        let ok = |a: &str| sendable_address(&a.parse().unwrap()).unwrap().to_string();
        assert_eq!(ok("Ann@Example.org"), "Ann@Example.org");
        assert_eq!(ok("rep@bücher.test"), "rep@xn--bcher-kva.test");
        assert_eq!(ok("\"rep\"@example.org"), "rep@example.org");
        let no = |a: &str| sendable_address(&a.parse().unwrap()).unwrap_err();
        assert_eq!(no("josé@example.org"), Unsendable::NonAsciiLocalPart);
        assert_eq!(no("\"john doe\"@example.org"), Unsendable::NotWritable);
        assert_eq!(no("rep@[127.0.0.1]"), Unsendable::NotWritable);
    }
}
