//! `repmail log`: review the delivery log. (Being built: issue #4.)

use std::path::Path;

use clap::Args;

use super::{Exit, Output};

#[derive(Debug, Args)]
pub struct LogArgs {}

pub fn run(_config: &Path, _args: &LogArgs, _out: Output) -> anyhow::Result<Exit> {
    anyhow::bail!("`repmail log` is not built yet")
}
