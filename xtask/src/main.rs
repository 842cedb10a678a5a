//! The workspace's task runner, invoked as `cargo xtask <command>`.
//!
//! - `ci`: everything CI checks, in the order that fails fastest.
//! - `bench [ID...]`: the benchmark suite of `shared/BENCHMARKS.md`, tulip against its peers.
//! - `miri`: the executor's tests, and tulip-sync's unit and stress tests, under Miri
//!   (nightly toolchain).
//! - `loom`: the loom models (`cfg(loom)`).

use std::env;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => {
            eprintln!("{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let result = match command {
        "ci" => ci(),
        "bench" => bench(rest),
        "miri" => miri(rest),
        "loom" => loom(rest),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str =
    "usage: cargo xtask <ci | bench [ID...] | miri [TEST-FILTER] | loom [TEST-FILTER]>";

/// The examples that finish in a few seconds; `ci` runs each and checks it exits successfully.
const QUICK_EXAMPLES: &[&str] = &["tour"];

/// The facade's feature sets `ci` checks one by one (the empty set is the
/// loop, tasks, time and sockets alone; the default set is all of them).
const FACADE_FEATURE_SETS: &[&str] = &["", "sync", "streams", "protocol", "process", "macros"];

/// Packages with loom models.
const LOOM_PACKAGES: &[&str] = &["tulip-executor", "tulip-sync"];

fn ci() -> Result<(), String> {
    cargo(&["fmt", "--all", "--", "--check"], &[])?;
    cargo(
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    // The facade with each crate alone: every feature builds (and lints) on
    // its own, as a user who leaves the others out gets it.
    for features in FACADE_FEATURE_SETS {
        cargo(
            &[
                "clippy",
                "--package",
                "tulip",
                "--all-targets",
                "--no-default-features",
                "--features",
                features,
                "--",
                "-D",
                "warnings",
            ],
            &[],
        )?;
    }
    cargo(&["test", "--workspace"], &[("CI", "true")])?;
    // The suites of sockets, pipes, signals and subprocesses again, on the
    // multi-thread runtime (`--tests`: unit and integration tests, no
    // doctests; about 10 s on 2 cores once built).
    cargo(
        &[
            "test",
            "--package",
            "tulip-streams",
            "--package",
            "tulip-protocol",
            "--package",
            "tulip-process",
            "--tests",
        ],
        &[("CI", "true"), ("TULIP_TEST_RUNTIME", "multi_thread")],
    )?;
    cargo(
        &["doc", "--workspace", "--no-deps"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )?;
    cargo(&["build", "--workspace", "--examples"], &[])?;
    for example in QUICK_EXAMPLES {
        cargo(&["run", "--quiet", "--example", example], &[])?;
    }
    println!("xtask ci: all checks passed");
    Ok(())
}

fn bench(ids: &[String]) -> Result<(), String> {
    let mut args = vec!["run", "--release", "--package", "tulip-bench", "--"];
    args.extend(ids.iter().map(String::as_str));
    cargo(&args, &[])
}

/// What `miri` runs: each package with the targets to test in it (all of
/// them when empty).
const MIRI_RUNS: &[(&str, &[&str])] = &[
    ("tulip-executor", &[]),
    // The unit tests, the thread stress tests (scaled down under Miri, about
    // a minute in all) and the hand-driven regression tests; the other test
    // files and the doctests run on tokio or tulip's loop and are left to the
    // ordinary test run.
    (
        "tulip-sync",
        &["--lib", "--test", "stress", "--test", "regressions"],
    ),
];

fn miri(filter: &[String]) -> Result<(), String> {
    for (package, targets) in MIRI_RUNS {
        let mut args = vec!["+nightly", "miri", "test", "--package", package];
        args.extend_from_slice(targets);
        args.extend(filter.iter().map(String::as_str));
        cargo(
            &args,
            &[(
                "MIRIFLAGS",
                "-Zmiri-disable-isolation -Zmiri-strict-provenance",
            )],
        )?;
    }
    Ok(())
}

fn loom(filter: &[String]) -> Result<(), String> {
    for package in LOOM_PACKAGES {
        // The models are unit tests named `loom_*`: they reach crate-private state machines.
        let mut args = vec![
            "test",
            "--release",
            "--package",
            package,
            "--lib",
            "--",
            "loom",
        ];
        args.extend(filter.iter().map(String::as_str));
        cargo(
            &args,
            &[
                ("RUSTFLAGS", "--cfg loom"),
                ("CARGO_TARGET_DIR", "target/loom"),
            ],
        )?;
    }
    Ok(())
}

/// Runs `cargo` with `args` and extra environment, failing if it does not succeed.
fn cargo(args: &[&str], envs: &[(&str, &str)]) -> Result<(), String> {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    // `+nightly` must reach rustup's proxy, not the pinned cargo binary.
    let program = if args.first().is_some_and(|a| a.starts_with('+')) {
        "cargo".to_owned()
    } else {
        cargo
    };
    println!("xtask: cargo {}", args.join(" "));
    let status = Command::new(&program)
        .args(args)
        .envs(envs.iter().copied())
        .status()
        .map_err(|error| format!("could not start {program}: {error}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed ({status})", args.join(" ")))
    }
}
