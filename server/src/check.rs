//! `aion check`: validate scenarios without running them.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use aion_engine::scenario::{self, LoadError};
use aion_engine::world::with_reverses;
use clap::Args;

/// Arguments of `aion check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Scenario files to validate.
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
}

/// Runs `aion check`: one `ok:` line on stdout per valid file, every problem of the others on
/// stderr; exit code 1 if any file has a problem.
pub fn check(args: &CheckArgs) -> ExitCode {
    let mut failed = 0;
    for path in &args.scenarios {
        match scenario::load(path) {
            Ok(s) => {
                // Count what a run would build: the population expanded and every bond's reverse added.
                let world = s.expand(s.world.seed);
                let n_relationships = with_reverses(world.relationships).len();
                say!(
                    "ok: {} ({} characters, {n_relationships} relationships after expansion)",
                    path.display(),
                    world.characters.len()
                );
            }
            Err(e) => {
                failed += 1;
                eprintln!("error: {}", describe(path, &e));
            }
        }
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        eprintln!("{failed} of {} scenario(s) invalid", args.scenarios.len());
        ExitCode::FAILURE
    }
}

/// A load error as one message that names the file: every problem of an invalid scenario, one per
/// line, or why it could not be read.
pub fn describe(path: &Path, e: &LoadError) -> String {
    match e {
        LoadError::Invalid(_) => format!("invalid scenario {}: {e}", path.display()),
        LoadError::Io { .. } => e.to_string(),
    }
}
