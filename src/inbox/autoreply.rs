//! Automatic answers: RFC 3834 `Auto-Submitted`, the de-facto headers of
//! common responders, and out-of-office subjects in common languages.

use super::mail::Mail;

/// Subject beginnings of out-of-office replies, lower-case: the defaults
/// of Outlook / Exchange, Gmail, Thunderbird and common webmail in English,
/// German, French, Spanish, Italian, Dutch, Portuguese, Polish, Swedish,
/// Danish / Norwegian, Finnish, Russian, Persian, Arabic, Turkish,
/// Japanese and Chinese.
const SUBJECTS: [&str; 30] = [
    "out of office",
    "out of the office",
    "automatic reply",
    "auto reply",
    "auto-reply",
    "autoreply",
    "auto:",
    "auto response",
    "away from the office",
    "abwesenheitsnotiz",
    "automatische antwort",
    "réponse automatique",
    "absence du bureau",
    "respuesta automática",
    "fuera de la oficina",
    "risposta automatica",
    "fuori sede",
    "automatisch antwoord",
    "afwezig",
    "resposta automática",
    "automatyczna odpowiedź",
    "autosvar",
    "automatisk svar",
    "poissaolo",
    "автоматический ответ",
    "پاسخ خودکار",
    "رد تلقائي",
    "otomatik yanıt",
    "自動返信",
    "自动回复",
];

/// Whether the message is an automatic answer.
pub fn is_auto_reply(mail: &Mail) -> bool {
    // RFC 3834 section 5: any value but `no` marks an automatic message.
    if mail
        .header("auto-submitted")
        .is_some_and(|v| !v.trim().eq_ignore_ascii_case("no"))
    {
        return true;
    }
    if ["x-autoreply", "x-autorespond", "x-autoresponder"]
        .iter()
        .any(|h| mail.header(h).is_some())
    {
        return true;
    }
    if mail
        .header("precedence")
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("auto_reply"))
    {
        return true;
    }
    let subject = mail.subject.trim().to_lowercase();
    SUBJECTS
        .iter()
        .any(|s| subject.starts_with(s) || subject.contains(&format!(": {s}")))
}

/// Mail sent to many (lists, newsletters) or from a mailbox nobody reads:
/// never a person's answer.
pub fn is_bulk(mail: &Mail) -> bool {
    let local = mail.from.split('@').next().unwrap_or_default();
    [
        "noreply",
        "no-reply",
        "no_reply",
        "donotreply",
        "do-not-reply",
    ]
    .iter()
    .any(|n| local.contains(n))
        || mail.header("list-id").is_some()
        || mail.header("list-unsubscribe").is_some()
        || mail.header("precedence").is_some_and(|p| {
            matches!(
                p.trim().to_ascii_lowercase().as_str(),
                "bulk" | "list" | "junk"
            )
        })
}
