//! Runs the measurements: the parent side (children, repetitions, medians)
//! and the child side (one measurement, one line on stdout).

use std::io::Read;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::cli::Options;
use crate::report::{self, Row};
use crate::rt::RuntimeId;
use crate::workloads::{Entry, Scale};

/// The prefix of the child's one line of output.
const RESULT_PREFIX: &str = "RESULT ";

/// How often the parent checks whether a child has exited.
const WAIT_TICK: Duration = Duration::from_millis(5);

/// Child mode: measures `entry` once on `runtime` and prints the figure.
pub(crate) fn run_one(entry: &Entry, runtime: RuntimeId, scale: Scale) {
    let value = (entry.measure)(runtime, scale);
    println!("{RESULT_PREFIX}{value}");
}

/// Parent mode: runs the suite, prints the table, writes the JSON.
pub(crate) fn run_suite(options: &Options) -> ExitCode {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(error) => {
            eprintln!("tulip-bench: cannot find my own executable: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut rows = Vec::with_capacity(options.entries.len());
    for &entry in &options.entries {
        let mut samples: Vec<(RuntimeId, Vec<f64>)> = options
            .runtimes
            .iter()
            .map(|&rt| (rt, Vec::new()))
            .collect();
        let mut failures = Vec::new();
        for rep in 1..=options.reps {
            let mut line = format!("[{} {} rep {rep}/{}]", entry.id, entry.name, options.reps);
            for (runtime, values) in &mut samples {
                match measure_in_child(&exe, entry, *runtime, options.scale, options.timeout) {
                    Ok(value) => {
                        line.push_str(&format!(
                            " {} {}",
                            runtime.name(),
                            report::format_value(value)
                        ));
                        values.push(value);
                    }
                    Err(error) => {
                        line.push_str(&format!(" {} FAILED", runtime.name()));
                        failures.push(format!(
                            "{} on {} (rep {rep}): {error}",
                            entry.id,
                            runtime.name()
                        ));
                    }
                }
            }
            eprintln!("{line} ({})", entry.unit.label);
        }
        rows.push(Row::new(entry, &samples, failures));
    }

    println!();
    print!("{}", report::table(&rows, options.reps));
    let mut ok = rows.iter().all(|row| row.failures.is_empty());
    if let Some(path) = &options.out {
        match write_json(path, &rows) {
            Ok(()) => eprintln!("tulip-bench: wrote {}", path.display()),
            Err(error) => {
                eprintln!("tulip-bench: cannot write {}: {error}", path.display());
                ok = false;
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Writes `rows` as `results.json` to `path`, creating its directory.
fn write_json(path: &Path, rows: &[Row]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut text = serde_json::to_string_pretty(&report::json(rows))?;
    text.push('\n');
    std::fs::write(path, text)
}

/// Runs `entry` on `runtime` in a fresh child process, killing it after `timeout`.
fn measure_in_child(
    exe: &Path,
    entry: &Entry,
    runtime: RuntimeId,
    scale: Scale,
    timeout: Duration,
) -> Result<f64, String> {
    let mut command = Command::new(exe);
    command.args(["--one", entry.id, runtime.name()]);
    if scale == Scale::Tiny {
        command.arg("--quick");
    }
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|error| format!("cannot start: {error}"))?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > timeout => {
                // The child is ours and still running: end it, by its handle.
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {timeout:?}"));
            }
            Ok(None) => thread::sleep(WAIT_TICK),
            Err(error) => return Err(format!("cannot wait: {error}")),
        }
    };
    let mut output = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout
            .read_to_string(&mut output)
            .map_err(|error| format!("cannot read its output: {error}"))?;
    }
    if !status.success() {
        return Err(format!("exited with {status}"));
    }
    output
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix(RESULT_PREFIX))
        .and_then(|value| value.trim().parse::<f64>().ok())
        .ok_or_else(|| format!("printed no result: {output:?}"))
}
