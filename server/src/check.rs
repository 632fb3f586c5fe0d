//! `aion check`: validate scenarios without running them.

use std::path::PathBuf;
use std::process::ExitCode;

use aion_engine::scenario;
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
                println!(
                    "ok: {} ({} characters, {n_relationships} relationships after expansion)",
                    path.display(),
                    world.characters.len()
                );
            }
            Err(e) => {
                failed += 1;
                eprintln!("error: {e}");
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
