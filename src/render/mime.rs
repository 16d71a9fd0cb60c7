//! The MIME structure of a letter: plain text alone; text and HTML as
//! alternatives; either of those with the attachments after it in a
//! mixed part (RFC 2046 §5.1.3 and §5.1.4).

use lettre::message::{Attachment, Body, MessageBuilder, MultiPart, SinglePart};
use lettre::Message;

use super::attachments::File;

/// Builds the message from its headers (`builder`) and its parts, each
/// already encoded (`body::encoded`).
pub(super) fn assemble(
    builder: MessageBuilder,
    text: Body,
    html: Option<Body>,
    files: &[&File],
) -> Result<Message, lettre::error::Error> {
    match (html, files.is_empty()) {
        (None, true) => builder.singlepart(SinglePart::plain(text)),
        (Some(html), true) => builder.multipart(MultiPart::alternative_plain_html(text, html)),
        (body, false) => {
            let mut mixed = match body {
                Some(html) => {
                    MultiPart::mixed().multipart(MultiPart::alternative_plain_html(text, html))
                }
                None => MultiPart::mixed().singlepart(SinglePart::plain(text)),
            };
            for file in files {
                mixed = mixed.singlepart(
                    Attachment::new(file.name.clone())
                        .body(file.bytes.as_ref().clone(), file.content_type.clone()),
                );
            }
            builder.multipart(mixed)
        }
    }
}
