//! Runs the measurements: the parent side (children, repetitions, medians)
//! and the child side (one measurement, one line on stdout).

use std::ffi::OsStr;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::{OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::cli::Options;
use crate::net::{self, Target, python, servers};
use crate::report::{self, Row};
use crate::rt::{RuntimeId, RuntimeKind};
use crate::workloads::{Entry, Measure, Scale};

/// The prefix of the child's one line of output.
const RESULT_PREFIX: &str = "RESULT ";

/// How often the parent checks whether a child has exited.
const WAIT_TICK: Duration = Duration::from_millis(5);

/// Child mode: measures `entry` once on `runtime` and prints the figure.
pub(crate) fn run_one(entry: &Entry, runtime: RuntimeId, scale: Scale) -> ExitCode {
    let value = match entry.measure {
        Measure::InProcess(measure) => measure(runtime, scale)
            .ok_or_else(|| format!("{} runs network workloads only", runtime.name())),
        // Server and load generator in this one process: for trying things
        // out only, the suite runs them in two.
        Measure::Network(network) => {
            net::measure_in_process(network, runtime, scale).map_err(|error| error.to_string())
        }
    };
    match value {
        Ok(value) => {
            println!("{RESULT_PREFIX}{value}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("tulip-bench: {} on {}: {error}", entry.id, runtime.name());
            ExitCode::FAILURE
        }
    }
}

/// Child mode `--loadgen`: runs `entry`'s load generator against `target`
/// and prints the figure.
pub(crate) fn run_loadgen(entry: &Entry, target: &Target, scale: Scale) -> ExitCode {
    let Measure::Network(network) = entry.measure else {
        eprintln!("tulip-bench: {} is not a network workload", entry.id);
        return ExitCode::from(2);
    };
    match (network.load)(target, scale) {
        Ok(value) => {
            println!("{RESULT_PREFIX}{value}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("tulip-bench: {} load generator: {error}", entry.id);
            ExitCode::FAILURE
        }
    }
}

/// Whether `runtime` can run here; warns once per unavailable runtime.
fn available(runtime: RuntimeId) -> Result<(), &'static str> {
    static WARNED: OnceLock<std::sync::Mutex<Vec<RuntimeId>>> = OnceLock::new();
    let result = python::availability(runtime);
    if let Err(reason) = result {
        let mut warned = WARNED
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !warned.contains(&runtime) {
            warned.push(runtime);
            eprintln!(
                "tulip-bench: warning: skipping {}: {reason} (its cells read n/a)",
                runtime.name()
            );
        }
    }
    result
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
        // Runtimes that do not run this workload get no child and an
        // empty cell; those that cannot run here, a reason.
        let mut unavailable = Vec::new();
        let mut samples: Vec<(RuntimeId, Vec<f64>)> = Vec::new();
        for &runtime in &options.runtimes {
            if !entry.applies_to(runtime) {
                continue;
            }
            match available(runtime) {
                Ok(()) => samples.push((runtime, Vec::new())),
                Err(reason) => unavailable.push((runtime, reason)),
            }
        }
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
        rows.push(Row::new(entry, &samples, unavailable, failures));
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

/// Runs `entry` on `runtime` in fresh child processes, killing them after `timeout`.
fn measure_in_child(
    exe: &Path,
    entry: &Entry,
    runtime: RuntimeId,
    scale: Scale,
    timeout: Duration,
) -> Result<f64, String> {
    if let Measure::Network(network) = entry.measure {
        return measure_network(exe, entry, network, runtime, scale, timeout);
    }
    let mut command = Command::new(exe);
    command.args(["--one", entry.id, runtime.name()]);
    if scale == Scale::Tiny {
        command.arg("--quick");
    }
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|error| format!("cannot start: {error}"))?;
    wait_for_result(child, timeout)
}

/// Waits for `child` (killing it after `timeout`) and parses its `RESULT` line.
fn wait_for_result(mut child: Child, timeout: Duration) -> Result<f64, String> {
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

/// How long a server may take to stop once its stdin is closed.
const SERVER_STOP_GRACE: Duration = Duration::from_secs(5);

/// Whether `taskset` can pin to CPUs 0 and 1 here; warns once if not.
fn can_pin() -> bool {
    static CAN_PIN: OnceLock<bool> = OnceLock::new();
    *CAN_PIN.get_or_init(|| {
        let cpus = thread::available_parallelism().map_or(1, usize::from);
        let works = cpus >= 2
            && Command::new("taskset")
                .args(["-c", "1", "true"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success());
        if !works {
            eprintln!(
                "tulip-bench: warning: cannot pin with taskset to CPUs 0 and 1; \
                 network servers and load generator run unpinned"
            );
        }
        works
    })
}

/// `program args…`, pinned to `cpu` with `taskset` when it can (taskset
/// execs the program, so the child's pid is the program's).
fn pinned<S: AsRef<OsStr>>(program: impl AsRef<OsStr>, cpu: &str, args: &[S]) -> Command {
    let mut command = if can_pin() {
        let mut command = Command::new("taskset");
        command.args(["-c", cpu]).arg(program);
        command
    } else {
        Command::new(program)
    };
    command.args(args);
    command
}

/// A network workload: `runtime`'s echo server in one child (CPU 0), the
/// load generator in another (CPU 1); the figure is the load generator's.
/// A Python peer's server is `python3` itself, so that its pid is the
/// server's (M2 reads its RSS).
fn measure_network(
    exe: &Path,
    entry: &Entry,
    network: net::Network,
    runtime: RuntimeId,
    scale: Scale,
    timeout: Duration,
) -> Result<f64, String> {
    let read_size = network.read_size.to_string();
    let mut command = if runtime.kind() == RuntimeKind::Python {
        let argv = python::server_argv(runtime, network.read_size).map_err(|e| e.to_string())?;
        pinned(&argv[0], "0", &argv[1..])
    } else {
        pinned(
            exe,
            "0",
            &["--serve", runtime.name(), "--read-size", &read_size],
        )
    };
    let mut server = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|error| format!("cannot start the server: {error}"))?;
    let result = drive_server(exe, entry, &mut server, scale, timeout);
    // Closing its stdin stops the server; kill it if it does not stop.
    servers::stop_child(&mut server, SERVER_STOP_GRACE);
    result
}

/// Waits for `server` to listen, then runs the load generator against it.
fn drive_server(
    exe: &Path,
    entry: &Entry,
    server: &mut Child,
    scale: Scale,
    timeout: Duration,
) -> Result<f64, String> {
    let stdout = server.stdout.take().ok_or("the server has no stdout")?;
    let (addr_tx, addr_rx) = mpsc::channel();
    // Reading blocks: do it on a thread, to bound the wait. If the server
    // is killed, the thread sees EOF and ends.
    thread::spawn(move || {
        let _ = addr_tx.send(net::read_listening(stdout));
    });
    let addr = match addr_rx.recv_timeout(timeout) {
        Ok(addr) => addr?,
        Err(_) => return Err(format!("the server did not listen within {timeout:?}")),
    };
    let addr = addr.to_string();
    let pid = server.id().to_string();
    let mut args = vec!["--loadgen", entry.id, &addr, "--server-pid", &pid];
    if scale == Scale::Tiny {
        args.push("--quick");
    }
    let loadgen = pinned(exe, "1", &args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|error| format!("cannot start the load generator: {error}"))?;
    wait_for_result(loadgen, timeout).map_err(|error| format!("load generator: {error}"))
}
