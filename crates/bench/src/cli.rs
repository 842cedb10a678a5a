//! The command line.

use std::path::PathBuf;
use std::time::Duration;

use crate::net::{Target, servers};
use crate::rt::RuntimeId;
use crate::workloads::{ALL, Entry, Scale};

/// `--help`.
pub(crate) const USAGE: &str = "\
usage: tulip-bench [OPTIONS] [ID...]

Runs the benchmark workloads (all of them when no ID is given) on tulip
(its event loop), tulip_mt (its multi-thread runtime, 2 workers), tokio
(current_thread), tokio (multi_thread, 2 workers), smol and smol_mt (one
smol Executor on 2 threads), each measurement in a fresh child process,
and prints the medians side by side. tulip's ratio is to its best peer as
before (never smol_mt); tulip_mt's (mt ratio) to the best of tokio_mt and
smol_mt; loop vs runtime puts tulip against tulip_mt.
The network workloads (N1-N3, M2) also run tulip_protocol, tulip's
protocol-based echo server (a second tulip column, with its own ratio),
Python's asyncio and uvloop (python3, skipped where missing) and mio_raw,
a raw mio echo server that is the floor, not a peer.
An ID is a workload's id (E1), name (spawn_many) or both (E1_spawn_many).

options:
  --list             print the workload ids and exit
  --reps N           repetitions per runtime, interleaved (default 5)
  --runtimes A,B     only these runtimes (tulip, tulip_mt, tulip_protocol,
                     tokio_ct, tokio_mt, smol, smol_mt, asyncio, uvloop,
                     mio_raw); the multi-thread comparison is
                     --runtimes tulip,tulip_mt,tokio_mt,smol_mt
  --quick            tiny sizes, to check that everything runs; writes no
                     results.json unless --out is given
  --timeout SECS     kill a measurement that runs longer (default 300)
  --out PATH         where to write the JSON results
                     (default <workspace>/target/bench/results.json)
  -h, --help         this text";

/// Default `--reps`.
const DEFAULT_REPS: usize = 5;
/// Default `--timeout`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// What the command line asks for.
#[derive(Debug)]
pub(crate) enum Command {
    /// Print [`USAGE`].
    Help,
    /// Print the workload ids.
    List,
    /// Child mode: measure one workload once on one runtime, print the figure.
    One {
        /// The workload.
        entry: &'static Entry,
        /// The runtime.
        runtime: RuntimeId,
        /// Full or tiny sizes.
        scale: Scale,
    },
    /// Child mode: serve `runtime`'s echo server until stdin closes.
    Serve {
        /// The runtime.
        runtime: RuntimeId,
        /// How much each read asks for (`--read-size`, default 64 KiB).
        read_size: usize,
    },
    /// Child mode: run a network workload's load generator against `target`.
    Loadgen {
        /// The workload.
        entry: &'static Entry,
        /// The echo server's address and (`--server-pid`) process.
        target: Target,
        /// Full or tiny sizes.
        scale: Scale,
    },
    /// Parent mode: run the suite.
    Suite(Options),
}

/// How to run the suite.
#[derive(Debug)]
pub(crate) struct Options {
    /// The workloads, in table order.
    pub(crate) entries: Vec<&'static Entry>,
    /// The runtimes, in table order.
    pub(crate) runtimes: Vec<RuntimeId>,
    /// Repetitions per (workload, runtime).
    pub(crate) reps: usize,
    /// Full or tiny sizes.
    pub(crate) scale: Scale,
    /// Upper bound on one child's run time.
    pub(crate) timeout: Duration,
    /// Where to write `results.json`; `None` writes nothing.
    pub(crate) out: Option<PathBuf>,
}

/// `<workspace>/target/bench/results.json`.
pub(crate) fn default_results_path() -> PathBuf {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let workspace = workspace.canonicalize().unwrap_or(workspace);
    workspace.join("target").join("bench").join("results.json")
}

/// The list of valid workload ids, for error messages.
fn valid_ids() -> String {
    ALL.iter()
        .map(|entry| format!("{} ({})", entry.id, entry.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The runtime called `name`, or an error listing the valid names.
fn parse_runtime(name: &str) -> Result<RuntimeId, String> {
    RuntimeId::from_name(name).ok_or_else(|| {
        format!(
            "unknown runtime `{name}`; valid: {}",
            RuntimeId::valid_names()
        )
    })
}

/// Parses the arguments (without the program name).
pub(crate) fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut args = args.into_iter();
    let mut ids = Vec::new();
    let mut reps = DEFAULT_REPS;
    let mut runtimes = RuntimeId::ALL.to_vec();
    let mut scale = Scale::Full;
    let mut timeout = DEFAULT_TIMEOUT;
    let mut out = None;
    let mut one = None;
    let mut serve = None;
    let mut loadgen = None;
    let mut read_size = servers::READ_SIZE;
    let mut server_pid = None;
    let mut list = false;
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = |what: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs {what}"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--list" => list = true,
            "--quick" => scale = Scale::Tiny,
            "--reps" => {
                reps = value("a number")?
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or("--reps needs a positive number")?;
            }
            "--timeout" => {
                let seconds: u64 = value("a number of seconds")?
                    .parse()
                    .ok()
                    .filter(|&s| s > 0)
                    .ok_or("--timeout needs a positive number of seconds")?;
                timeout = Duration::from_secs(seconds);
            }
            "--out" => out = Some(PathBuf::from(value("a path")?)),
            "--runtimes" => {
                let names = value("a comma-separated list")?;
                let mut chosen = Vec::new();
                for name in names.split(',').filter(|name| !name.is_empty()) {
                    let runtime = RuntimeId::from_name(name).ok_or_else(|| {
                        format!(
                            "unknown runtime `{name}`; valid: {}",
                            RuntimeId::valid_names()
                        )
                    })?;
                    if !chosen.contains(&runtime) {
                        chosen.push(runtime);
                    }
                }
                if chosen.is_empty() {
                    return Err("--runtimes needs at least one runtime".into());
                }
                // Keep table order whatever the order given.
                runtimes = RuntimeId::ALL
                    .into_iter()
                    .filter(|runtime| chosen.contains(runtime))
                    .collect();
            }
            "--one" => {
                let id = value("a workload id")?;
                let runtime = args
                    .next()
                    .ok_or("--one needs a workload id and a runtime")?;
                one = Some((id, runtime));
            }
            "--serve" => serve = Some(value("a runtime")?),
            "--read-size" => {
                read_size = value("a number of bytes")?
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or("--read-size needs a positive number of bytes")?;
            }
            "--server-pid" => {
                server_pid = Some(
                    value("a process id")?
                        .parse()
                        .ok()
                        .filter(|&pid: &u32| pid > 0)
                        .ok_or("--server-pid needs a process id")?,
                );
            }
            "--loadgen" => {
                let id = value("a workload id")?;
                let addr = args
                    .next()
                    .ok_or("--loadgen needs a workload id and an address")?;
                loadgen = Some((id, addr));
            }
            _ if arg.starts_with('-') => return Err(format!("unknown option `{arg}`\n{USAGE}")),
            _ => ids.push(arg),
        }
    }
    if list {
        return Ok(Command::List);
    }
    let mut entries: Vec<&'static Entry> = Vec::new();
    for id in &ids {
        let entry = Entry::find(id)
            .ok_or_else(|| format!("unknown workload `{id}`; valid ids: {}", valid_ids()))?;
        if !entries.iter().any(|known| known.id == entry.id) {
            entries.push(entry);
        }
    }
    if let Some(runtime) = serve {
        let runtime = parse_runtime(&runtime)?;
        return Ok(Command::Serve { runtime, read_size });
    }
    if let Some((id, addr)) = loadgen {
        let entry = Entry::find(&id)
            .ok_or_else(|| format!("unknown workload `{id}`; valid ids: {}", valid_ids()))?;
        let addr = addr
            .parse()
            .map_err(|_| format!("`{addr}` is not a socket address"))?;
        let target = Target { addr, server_pid };
        return Ok(Command::Loadgen {
            entry,
            target,
            scale,
        });
    }
    if let Some((id, runtime)) = one {
        let entry = Entry::find(&id)
            .ok_or_else(|| format!("unknown workload `{id}`; valid ids: {}", valid_ids()))?;
        let runtime = parse_runtime(&runtime)?;
        return Ok(Command::One {
            entry,
            runtime,
            scale,
        });
    }
    if entries.is_empty() {
        entries = ALL.iter().collect();
    }
    if out.is_none() && scale == Scale::Full {
        out = Some(default_results_path());
    }
    Ok(Command::Suite(Options {
        entries,
        runtimes,
        reps,
        scale,
        timeout,
        out,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(line: &str) -> Result<Command, String> {
        parse(line.split_whitespace().map(String::from))
    }

    #[test]
    fn no_arguments_run_everything_with_defaults() {
        let Ok(Command::Suite(options)) = parse_str("") else {
            panic!("expected a suite");
        };
        assert_eq!(options.entries.len(), ALL.len());
        assert_eq!(options.runtimes, RuntimeId::ALL);
        assert_eq!(options.reps, DEFAULT_REPS);
        assert_eq!(options.scale, Scale::Full);
        assert!(options.out.unwrap().ends_with("target/bench/results.json"));
    }

    #[test]
    fn ids_reps_and_runtimes() {
        let Ok(Command::Suite(options)) =
            parse_str("t1 E1_spawn_many spawn_many --reps=7 --runtimes smol,tulip --quick")
        else {
            panic!("expected a suite");
        };
        let ids: Vec<_> = options.entries.iter().map(|entry| entry.id).collect();
        assert_eq!(ids, ["T1", "E1"]);
        assert_eq!(options.reps, 7);
        assert_eq!(options.runtimes, [RuntimeId::Tulip, RuntimeId::Smol]);
        assert_eq!(options.scale, Scale::Tiny);
        assert!(options.out.is_none());
    }

    #[test]
    fn errors_name_the_valid_choices() {
        let error = parse_str("E9").unwrap_err();
        assert!(error.contains("unknown workload `E9`"), "{error}");
        assert!(error.contains("E1 (spawn_many)"), "{error}");
        assert!(parse_str("--reps 0").is_err());
        assert!(parse_str("--runtimes trio").is_err());
        let error = parse_str("--serve trio").unwrap_err();
        assert!(error.contains("mio_raw"), "{error}");
        assert!(parse_str("--frobnicate").is_err());
    }

    #[test]
    fn child_mode() {
        let Ok(Command::One {
            entry,
            runtime,
            scale,
        }) = parse_str("--one E4 tokio_mt")
        else {
            panic!("expected --one");
        };
        assert_eq!(
            (entry.id, runtime, scale),
            ("E4", RuntimeId::TokioMt, Scale::Full)
        );
        assert!(matches!(parse_str("--list E1"), Ok(Command::List)));
        assert!(matches!(
            parse_str("--serve smol"),
            Ok(Command::Serve {
                runtime: RuntimeId::Smol,
                read_size: servers::READ_SIZE,
            })
        ));
        assert!(matches!(
            parse_str("--serve mio_raw --read-size 1024"),
            Ok(Command::Serve {
                runtime: RuntimeId::MioRaw,
                read_size: 1024,
            })
        ));
        assert!(parse_str("--serve tulip --read-size 0").is_err());
        let Ok(Command::Loadgen {
            entry,
            target,
            scale,
        }) = parse_str("--loadgen n3 127.0.0.1:9 --quick")
        else {
            panic!("expected --loadgen");
        };
        assert_eq!(
            (entry.id, target.addr.port(), target.server_pid, scale),
            ("N3", 9, None, Scale::Tiny)
        );
        let Ok(Command::Loadgen { entry, target, .. }) =
            parse_str("--loadgen M2 127.0.0.1:9 --server-pid 42")
        else {
            panic!("expected --loadgen");
        };
        assert_eq!((entry.id, target.server_pid), ("M2", Some(42)));
        assert!(parse_str("--loadgen M2 127.0.0.1:9 --server-pid x").is_err());
        assert!(parse_str("--loadgen N1 nowhere").is_err());
    }

    #[test]
    fn multi_thread_runtime_names_parse_and_the_usage_lists_them() {
        let Ok(Command::Suite(options)) =
            parse_str("--runtimes smol_mt,tokio_mt,tulip_mt,tulip E1 N1")
        else {
            panic!("expected a suite");
        };
        // Table order, whatever the order given.
        assert_eq!(
            options.runtimes,
            [
                RuntimeId::Tulip,
                RuntimeId::TulipMt,
                RuntimeId::TokioMt,
                RuntimeId::SmolMt
            ]
        );
        assert!(matches!(
            parse_str("--serve tulip_mt"),
            Ok(Command::Serve {
                runtime: RuntimeId::TulipMt,
                ..
            })
        ));
        for runtime in RuntimeId::ALL {
            assert!(USAGE.contains(runtime.name()), "{}", runtime.name());
        }
    }

    #[test]
    fn new_runtime_names_parse() {
        for (name, runtime) in [
            ("tulip_protocol", RuntimeId::TulipProtocol),
            ("asyncio", RuntimeId::Asyncio),
            ("uvloop", RuntimeId::Uvloop),
            ("mio_raw", RuntimeId::MioRaw),
        ] {
            assert_eq!(RuntimeId::from_name(name), Some(runtime));
            let Ok(Command::Serve {
                runtime: parsed, ..
            }) = parse_str(&format!("--serve {name}"))
            else {
                panic!("expected --serve {name}");
            };
            assert_eq!(parsed, runtime);
        }
        let Ok(Command::Suite(options)) =
            parse_str("--runtimes mio_raw,uvloop,tulip,asyncio,tulip_protocol N1")
        else {
            panic!("expected a suite");
        };
        // Table order, whatever the order given.
        assert_eq!(
            options.runtimes,
            [
                RuntimeId::Tulip,
                RuntimeId::TulipProtocol,
                RuntimeId::Asyncio,
                RuntimeId::Uvloop,
                RuntimeId::MioRaw
            ]
        );
    }
}
