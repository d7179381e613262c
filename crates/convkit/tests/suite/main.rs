//! The `convkit` binary, run as a user runs it, on the small datasets in `tests/fixtures/`
//! (written by `tools/refgen/cli_fixtures.py`).

mod bad_input;
mod cli_fuzz;
mod common;
mod hostile;
mod info_tour;
mod sandbox;
mod subcommands;
mod train_eval_predict;
