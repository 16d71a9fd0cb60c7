//! A follow-up as a reply in the thread of the letters before it
//! (issue 21): `In-Reply-To` names the letter just before, `References`
//! the whole chain, oldest first (RFC 5322 §3.6.4), so the office's mail
//! program shows one conversation.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use tera::Context;

use crate::address::recipient_key;
use crate::config::Campaign;
use crate::problem::Problems;

use super::Renderer;

/// The letters a recipient already got, as the delivery logs record them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    /// The Message-ID of each earlier letter's `sent` row, first letter
    /// first, with angle brackets.
    pub message_ids: Vec<String>,
    /// When the first letter was accepted.
    pub first_sent_on: DateTime<Utc>,
    /// When the letter just before this one was accepted.
    pub previous_sent_on: DateTime<Utc>,
}

impl Thread {
    /// `In-Reply-To`: the letter just before.
    pub fn in_reply_to(&self) -> Option<&str> {
        self.message_ids.last().map(String::as_str)
    }

    /// `References`: every earlier letter, oldest first, space-separated.
    pub fn references(&self) -> String {
        self.message_ids.join(" ")
    }

    /// The names of the values [`Thread::fill`] adds.
    pub(super) const VARIABLES: [&'static str; 2] = ["first_sent_on", "previous_sent_on"];

    /// The template's extra values: `first_sent_on` and
    /// `previous_sent_on` as dates (YYYY-MM-DD, UTC).
    pub(super) fn fill(&self, ctx: &mut Context) {
        ctx.insert(
            "first_sent_on",
            &self.first_sent_on.format("%Y-%m-%d").to_string(),
        );
        ctx.insert(
            "previous_sent_on",
            &self.previous_sent_on.format("%Y-%m-%d").to_string(),
        );
    }
}

/// The threads of a stage's recipients, by recipient key.
#[derive(Debug, Clone, Default)]
pub struct Threads {
    by_key: HashMap<String, Thread>,
    /// For `check` and `preview`: the thread of anyone not in `by_key`.
    /// Never set for `send`, where a recipient without a recorded thread
    /// gets no follow-up.
    fallback: Option<Thread>,
}

impl Threads {
    /// Every recipient gets `thread` (`check`, `preview --stage`).
    pub fn everyone(thread: Thread) -> Threads {
        Threads {
            by_key: HashMap::new(),
            fallback: Some(thread),
        }
    }

    /// Adds (or replaces) the thread of `email`.
    pub fn insert(&mut self, email: &str, thread: Thread) {
        self.by_key.insert(recipient_key(email), thread);
    }

    /// The thread of `email`, if known.
    pub fn get(&self, email: &str) -> Option<&Thread> {
        self.by_key
            .get(&recipient_key(email))
            .or(self.fallback.as_ref())
    }
}

impl Renderer {
    /// The renderer of follow-up stage `stage` (1-based): the stage's
    /// letter and subject in place of the first letter's, the campaign's
    /// `[vars]`, sender and attachments kept. Variants apply to the first
    /// letter only. Each letter needs its recipient's thread
    /// ([`Renderer::set_threads`]); without one it is not rendered.
    pub fn for_stage(campaign: &Campaign, stage: usize) -> Result<Renderer, Problems> {
        let Some(f) = stage.checked_sub(1).and_then(|i| campaign.followups.get(i)) else {
            return Err(Problems(vec![crate::problem::Diagnostic::error(
                campaign.path.display().to_string(),
                format!(
                    "there is no follow-up stage {stage}: the campaign has {} ([[followup]] tables)",
                    campaign.followups.len()
                ),
            )]));
        };
        let mut c = campaign.clone();
        c.campaign.subject = f.subject.clone();
        c.campaign.letter = f.letter.clone();
        c.variants.clear();
        c.campaign.variant_by = None;
        let mut renderer = Renderer::new(&c)?;
        renderer.threads = Some(Threads::default());
        Ok(renderer)
    }

    /// The threads the stage's letters reply to.
    pub fn set_threads(&mut self, threads: Threads) {
        self.threads = Some(threads);
    }

    /// Whether this renders a follow-up.
    pub fn is_followup(&self) -> bool {
        self.threads.is_some()
    }
}

/// A stand-in thread for `check` and `preview` of a recipient that has
/// none yet: dated today, Message-IDs on the sender's domain.
pub fn placeholder(stage: usize, domain: &str, now: DateTime<Utc>) -> Thread {
    Thread {
        message_ids: (0..stage)
            .map(|i| format!("<preview.stage-{i}@{domain}>"))
            .collect(),
        first_sent_on: now,
        previous_sent_on: now,
    }
}
