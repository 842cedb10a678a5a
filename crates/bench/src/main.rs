//! `tulip-bench`: the benchmark suite of `shared/BENCHMARKS.md`, run on
//! tulip and on its peers (tokio `current_thread`, tokio `multi_thread`
//! with 2 workers, smol; for the network workloads also Python's asyncio
//! and uvloop, and a raw mio server as the floor) side by side; and on
//! tulip's multi-thread runtime with 2 workers (`tulip_mt`) against the
//! multi-thread peers with 2 threads (tokio `multi_thread`, and `smol_mt`,
//! one smol `Executor` on 2 threads), see [`report`].
//!
//! ```text
//! cargo xtask bench [ID...]                      # or:
//! cargo run --release -p tulip-bench -- [OPTIONS] [ID...]
//! ```
//!
//! Every (workload, runtime) measurement runs in a fresh child process
//! (this binary again, with a hidden `--one ID RUNTIME`), so allocator
//! state and RSS never carry over between measurements. The parent
//! interleaves the runtimes within each repetition, takes the median per
//! runtime, prints one table and writes `target/bench/results.json` at
//! the workspace root. See `docs/benchmarks.md`.
//!
//! Layout: [`rt`] puts each runtime behind one trait, [`workloads`] holds
//! one small file per workload written once against that trait, [`net`]
//! the network workloads' echo servers and load generator, [`harness`]
//! runs the children and [`report`] turns their figures into the table.

mod cli;
mod harness;
mod net;
mod report;
mod rss;
mod rt;
mod workloads;

use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::parse(std::env::args().skip(1)) {
        Ok(cli::Command::Help) => {
            println!("{}", cli::USAGE);
            ExitCode::SUCCESS
        }
        Ok(cli::Command::List) => {
            for entry in workloads::ALL {
                println!("{}\t{}\t{}", entry.id, entry.name, entry.unit.label);
            }
            ExitCode::SUCCESS
        }
        Ok(cli::Command::One {
            entry,
            runtime,
            scale,
        }) => harness::run_one(entry, runtime, scale),
        Ok(cli::Command::Serve { runtime, read_size }) => match net::run_server(runtime, read_size)
        {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("tulip-bench: the {} server failed: {error}", runtime.name());
                ExitCode::FAILURE
            }
        },
        Ok(cli::Command::Loadgen {
            entry,
            target,
            scale,
        }) => harness::run_loadgen(entry, &target, scale),
        Ok(cli::Command::Suite(options)) => harness::run_suite(&options),
        Err(message) => {
            eprintln!("tulip-bench: {message}");
            ExitCode::from(2)
        }
    }
}
