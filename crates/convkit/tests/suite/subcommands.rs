//! Every subcommand `convkit --help` lists faces the same hostile cases (issue #21): a bad
//! device, a bad or tiny memory limit (flag and environment), an unknown flag, closed
//! output streams. A new subcommand fails this test until it is given minimal arguments in
//! `sandbox::minimal_args`, and so inherits them.

use std::time::Duration;

use crate::sandbox::{Outcome, Sandbox, Streams, minimal_args, subcommands};

const TIMEOUT: Duration = Duration::from_secs(300);

/// `convkit global… command minimal… extra…`, expanded.
fn argv(sandbox: &Sandbox, global: &[&str], command: &str, extra: &[&str]) -> Vec<String> {
    let minimal = minimal_args(command).unwrap();
    global
        .iter()
        .chain([&command])
        .chain(minimal)
        .chain(extra)
        .map(|a| sandbox.expand(a))
        .collect()
}

/// Runs and checks the shared rules, returning the outcome.
fn run(sandbox: &Sandbox, args: &[String], env: &[(&str, &str)], streams: Streams) -> Outcome {
    let outcome = sandbox.run(args, env, streams, TIMEOUT);
    assert!(!outcome.timed_out, "{args:?} ran past {TIMEOUT:?}");
    if let Err(why) = outcome.check(args) {
        panic!("{args:?} ({streams:?}): {why}");
    }
    outcome
}

/// The run failed (exit 1) with an `error:` line containing `needle`.
fn assert_error(outcome: &Outcome, args: &[String], needle: &str) {
    assert_eq!(outcome.code, Some(1), "{args:?}: {}", outcome.stderr);
    let last = outcome.stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains(needle),
        "{args:?}: expected `{needle}` in {last}"
    );
}

#[test]
fn every_subcommand_rejects_the_shared_hostile_cases() {
    let commands = subcommands();
    assert!(commands.len() >= 5, "{commands:?}");
    let unlisted: Vec<&String> = commands
        .iter()
        .filter(|c| minimal_args(c).is_none())
        .collect();
    assert!(
        unlisted.is_empty(),
        "give {unlisted:?} minimal arguments in sandbox::minimal_args so they face the shared \
         hostile cases"
    );

    let sandbox = Sandbox::new();
    let before = sandbox.snapshot();
    for command in &commands {
        let command = command.as_str();
        let baseline_args = argv(&sandbox, &[], command, &[]);
        let baseline = run(&sandbox, &baseline_args, &[], Streams::Captured);
        // The tour's one epoch misses its 95% promise: a clean failure is its baseline.
        let expected = if command == "tour" { 1 } else { 0 };
        assert_eq!(
            baseline.code,
            Some(expected),
            "{command}: {}",
            baseline.stderr
        );

        let args = argv(&sandbox, &["--device", "bogus"], command, &[]);
        assert_error(
            &run(&sandbox, &args, &[], Streams::Captured),
            &args,
            "device `bogus`: unknown device",
        );

        let args = argv(&sandbox, &["--memory-limit", "lots"], command, &[]);
        assert_error(
            &run(&sandbox, &args, &[], Streams::Captured),
            &args,
            "invalid --memory-limit: `lots` is not a size",
        );
        let env = [("CONVKIT_MEMORY_LIMIT", "-3G")];
        assert_error(
            &run(&sandbox, &baseline_args, &env, Streams::Captured),
            &baseline_args,
            "invalid $CONVKIT_MEMORY_LIMIT: `-3G` is not a size",
        );

        // One byte: every command that holds data refuses before allocating; `info` says
        // what the limit is.
        let args = argv(&sandbox, &["--memory-limit", "1"], command, &[]);
        let tiny = run(&sandbox, &args, &[], Streams::Captured);
        if command == "info" {
            assert_eq!(tiny.code, Some(0), "{}", tiny.stderr);
            assert!(
                tiny.stdout.contains("memory limit: 1 bytes"),
                "{}",
                tiny.stdout
            );
        } else {
            assert_error(&tiny, &args, "more than the memory limit of 1 bytes");
        }

        let args = argv(&sandbox, &[], command, &["--no-such-flag"]);
        let usage = run(&sandbox, &args, &[], Streams::Captured);
        assert_eq!(usage.code, Some(2), "{args:?}");
        assert!(
            usage
                .stderr
                .contains("unexpected argument '--no-such-flag'"),
            "{}",
            usage.stderr
        );

        // Every command prints its result on stdout: a reader that has gone ends it quietly
        // with 141. A closed stderr changes nothing.
        assert!(!baseline.stdout.is_empty(), "{command} printed nothing");
        let closed = run(&sandbox, &baseline_args, &[], Streams::StdoutClosed);
        assert_eq!(closed.code, Some(141), "{command}: {}", closed.stderr);
        assert!(closed.stderr.lines().all(|l| !l.starts_with("error")));
        let closed = run(&sandbox, &baseline_args, &[], Streams::StderrClosed);
        assert_eq!(closed.code, baseline.code, "{command} with stderr closed");
    }
    assert_eq!(
        sandbox.snapshot().changed_since(&before),
        Vec::<std::path::PathBuf>::new(),
        "files outside --out changed"
    );
}
