//! What a delivery report states about one recipient, as every decoder
//! reads it ([`super::decoders`]) and as [`super::reason`] judges it. A
//! type of its own so that neither of the two needs the other.

/// What the report says happened to one recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Given up: a bounce.
    Failed,
    /// Still trying: a delayed-delivery notice, not a bounce.
    Delayed,
}

/// One recipient's failure, as the report states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedFailure {
    /// The failed address (Final-Recipient, or as the report prints it),
    /// lower-cased; `None` when the report does not say.
    pub recipient: Option<String>,
    /// The address as the sender gave it, when the report states it apart
    /// (RFC 3464 `Original-Recipient`, kept by forwarding servers).
    pub original: Option<String>,
    /// The enhanced status the report states (`5.1.1`), if it states one.
    pub status: Option<String>,
    /// The remote reply code the report states, if it states one.
    pub smtp_code: Option<u16>,
    /// The remote server's words.
    pub diagnostic: String,
    /// Failed or delayed.
    pub action: Action,
}
