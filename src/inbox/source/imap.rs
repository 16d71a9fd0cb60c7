//! The campaign account's mailbox over IMAP (RFC 9051 / 3501), read only:
//! every folder is opened with EXAMINE (read-only, RFC 3501 6.3.2) and
//! messages are fetched with `BODY.PEEK[]`, which never sets `\Seen`
//! (RFC 3501 6.4.5). Nothing is deleted, moved or flagged. Connecting and
//! signing in (password or XOAUTH2) is [`crate::imap`]'s.

use futures::TryStreamExt;

use super::RawMessage;
use crate::config::Inbox;
use crate::imap::{connect, protocol};
pub use crate::imap::{ImapError, Login, SignIn};

/// UIDs fetched per command: bounded replies, few round trips.
const FETCH_BATCH: usize = 100;

/// Where a read stands, for a progress display: the folder, messages read
/// in it, and its total. Called after each batch; the library never
/// prints.
pub type FolderProgress<'a> = &'a mut dyn FnMut(&str, usize, usize);

/// Every message in the configured folders (at or after `since`, a date
/// in IMAP's `SINCE` sense, when given), oldest first per folder.
pub async fn fetch_all(
    inbox: &Inbox,
    login: &Login,
    since: Option<chrono::NaiveDate>,
    progress: FolderProgress<'_>,
) -> Result<Vec<RawMessage>, ImapError> {
    let mut session = connect(inbox, login).await?;
    let mut out = Vec::new();
    for folder in &inbox.folders {
        let mailbox = session
            .examine(folder)
            .await
            .map_err(|e| protocol(format!("EXAMINE {folder}"), e))?;
        let validity = mailbox.uid_validity.unwrap_or(0);
        let query = match since {
            // RFC 3501 date: 1-Dec-2026.
            Some(day) => format!("SINCE {}", day.format("%-d-%b-%Y")),
            None => "ALL".to_string(),
        };
        let mut uids: Vec<u32> = session
            .uid_search(&query)
            .await
            .map_err(|e| protocol(format!("UID SEARCH in {folder}"), e))?
            .into_iter()
            .collect();
        uids.sort_unstable();
        progress(folder, 0, uids.len());
        let mut read = 0;
        for batch in uids.chunks(FETCH_BATCH) {
            let set: Vec<String> = batch.iter().map(u32::to_string).collect();
            let fetches: Vec<_> = session
                .uid_fetch(set.join(","), "(UID INTERNALDATE BODY.PEEK[])")
                .await
                .map_err(|e| protocol(format!("UID FETCH in {folder}"), e))?
                .try_collect()
                .await
                .map_err(|e| protocol(format!("UID FETCH in {folder}"), e))?;
            for fetch in fetches {
                if let Some(body) = fetch.body() {
                    out.push(RawMessage {
                        origin: format!(
                            "{folder} UIDVALIDITY {validity} UID {}",
                            fetch.uid.unwrap_or(0)
                        ),
                        bytes: body.to_vec(),
                        received: fetch.internal_date().map(|d| d.to_utc()),
                    });
                }
            }
            read += batch.len();
            progress(folder, read, uids.len());
        }
    }
    let _ = session.logout().await;
    Ok(out)
}
