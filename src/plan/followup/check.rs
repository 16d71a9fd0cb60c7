//! `check` of the follow-ups' letters: every stage's templates compiled
//! and rendered today, as if every recipient had the whole chain before it.

use chrono::Utc;

use crate::config::Campaign;
use crate::contacts::{ContactReader, ContactRow};
use crate::problem::{Diagnostic, Problems};
use crate::render::thread::placeholder;
use crate::render::{Renderer, Threads};

/// Every problem of every follow-up stage's letter, for `check`: each
/// stage's templates compiled and rendered for every recipient, as if
/// each had the whole chain before it (dated today).
pub fn check_stages(campaign: &Campaign) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for stage in 1..=campaign.followups.len() {
        let renderer = match stage_renderer(campaign, stage) {
            Ok(r) => r,
            Err(Problems(p)) => {
                found.extend(p);
                continue;
            }
        };
        let Ok(contacts) = ContactReader::open(&campaign.contacts) else {
            // The first letter's check reports the contacts' problems.
            return found;
        };
        // Every variable no row can fill, once each, rather than the first
        // of them on every row (the newcomer's walk: 31 times).
        let undefined = stage_undefined(&renderer, stage, contacts.columns());
        if !undefined.is_empty() {
            found.extend(undefined);
            continue;
        }
        for row in contacts {
            if let ContactRow::Recipient(r) = row {
                if let Err(mut d) = renderer.render(&r) {
                    d.message = format!("follow-up stage {stage}: {}", d.message);
                    found.push(d);
                }
            }
        }
    }
    found
}

/// Every template variable of every follow-up stage that no column and
/// no `[vars]` name fills, each with its place and the closest name: with
/// the first letter's, in the one `check` that lists them all.
pub fn undefined_in_stages(campaign: &Campaign) -> Vec<Diagnostic> {
    let Ok(contacts) = ContactReader::open(&campaign.contacts) else {
        return Vec::new();
    };
    (1..=campaign.followups.len())
        .filter_map(|stage| {
            let renderer = stage_renderer(campaign, stage).ok()?;
            Some(stage_undefined(&renderer, stage, contacts.columns()))
        })
        .flatten()
        .collect()
}

/// A stage's renderer, every recipient given a placeholder thread (for
/// `check`: the dates a real thread would fill).
fn stage_renderer(campaign: &Campaign, stage: usize) -> Result<Renderer, Problems> {
    let mut renderer = Renderer::for_stage(campaign, stage)?;
    renderer.set_threads(Threads::everyone(placeholder(
        stage,
        campaign.sender.domain(),
        Utc::now(),
    )));
    Ok(renderer)
}

fn stage_undefined(
    renderer: &Renderer,
    stage: usize,
    columns: &crate::contacts::Columns,
) -> Vec<Diagnostic> {
    renderer
        .undefined(columns)
        .into_iter()
        .map(|mut d| {
            d.message = format!("follow-up stage {stage}: {}", d.message);
            d
        })
        .collect()
}
