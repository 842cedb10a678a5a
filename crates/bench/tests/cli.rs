//! The `tulip-bench` binary end to end, at tiny sizes: listing, argument
//! errors, and a suite run through child processes down to `results.json`.

use std::process::{Command, Output};

fn bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tulip-bench"))
        .args(args)
        .output()
        .expect("run tulip-bench")
}

#[test]
fn list_prints_every_id() {
    let output = bench(&["--list"]);
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    for id in [
        "E1", "E2", "E3", "E4", "T1", "T2", "S1", "S2", "S3", "M1", "P1", "P2", "N1", "N2", "N3",
        "M2",
    ] {
        assert!(
            stdout.lines().any(|line| line.starts_with(id)),
            "{id} missing:\n{stdout}"
        );
    }
}

#[test]
fn unknown_id_is_an_error_listing_the_valid_ones() {
    let output = bench(&["E1", "nope"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("unknown workload `nope`"), "{stderr}");
    assert!(stderr.contains("T2 (sleep_many)"), "{stderr}");
}

#[test]
fn quick_suite_runs_children_and_writes_json() {
    let out = std::env::temp_dir().join(format!("tulip-bench-test-{}.json", std::process::id()));
    let out_arg = out.to_str().unwrap();
    let output = bench(&["--quick", "--reps", "3", "--out", out_arg, "E1", "t1", "M1"]);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("| E1 "), "{stdout}");
    assert!(stdout.contains("| T1 "), "{stdout}");
    assert!(stdout.contains("Note M1:"), "{stdout}");

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    std::fs::remove_file(&out).unwrap();
    let rows = json.as_array().unwrap();
    let ids: Vec<_> = rows.iter().map(|row| row["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["E1", "T1", "M1"]);
    for row in rows {
        assert!(row["tulip"].is_number(), "{row}");
        assert!(row["ratio"].is_number(), "{row}");
        assert_eq!(row["higher_is_better"], false);
        for peer in ["tokio_ct", "tokio_mt", "smol"] {
            assert!(row["peers"][peer].is_number(), "{peer} in {row}");
        }
        let best = row["best_peer"].as_str().unwrap();
        assert!(["tokio_ct", "tokio_mt", "smol"].contains(&best), "{row}");
        // tulip_protocol, the Python peers and the floor run network
        // workloads only.
        for server_only in ["tulip_protocol", "asyncio", "uvloop", "mio_raw"] {
            assert!(row["peers"].get(server_only).is_none(), "{row}");
        }
        assert!(row["floor"].is_null(), "{row}");
        assert!(row["tulip_protocol"].is_null(), "{row}");
        assert!(row["protocol_ratio"].is_null(), "{row}");
        assert!(row["unavailable"].as_object().unwrap().is_empty(), "{row}");
    }
}

#[test]
fn quick_process_suite_runs_on_every_rust_runtime() {
    let out = std::env::temp_dir().join(format!(
        "tulip-bench-process-test-{}.json",
        std::process::id()
    ));
    let out_arg = out.to_str().unwrap();
    let output = bench(&["--quick", "--reps", "1", "--out", out_arg, "P1", "P2"]);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("| P1 "), "{stdout}");
    assert!(stdout.contains("| P2 "), "{stdout}");
    assert!(stdout.contains("Note P1"), "{stdout}");
    // In-process workloads: no tulip_protocol column.
    assert!(!stdout.contains("| tulip_protocol |"), "{stdout}");

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    std::fs::remove_file(&out).unwrap();
    let rows = json.as_array().unwrap();
    let ids: Vec<_> = rows.iter().map(|row| row["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["P1", "P2"]);
    for row in rows {
        // P1 is processes per second, P2 milliseconds per round.
        assert_eq!(row["higher_is_better"], row["id"] == "P1", "{row}");
        assert!(row["tulip"].as_f64().unwrap() > 0.0, "{row}");
        assert!(row["ratio"].as_f64().unwrap() > 0.0, "{row}");
        for peer in ["tokio_ct", "tokio_mt", "smol"] {
            assert!(
                row["peers"][peer].as_f64().unwrap() > 0.0,
                "{peer} in {row}"
            );
        }
        for server_only in ["tulip_protocol", "asyncio", "uvloop", "mio_raw"] {
            assert!(row["peers"].get(server_only).is_none(), "{row}");
        }
        assert!(row["floor"].is_null(), "{row}");
        assert!(row["tulip_protocol"].is_null(), "{row}");
        assert!(row["unavailable"].as_object().unwrap().is_empty(), "{row}");
    }
}

#[test]
fn quick_network_suite_runs_server_and_load_generator_children() {
    let out =
        std::env::temp_dir().join(format!("tulip-bench-net-test-{}.json", std::process::id()));
    let out_arg = out.to_str().unwrap();
    let output = bench(&["--quick", "--reps", "1", "--out", out_arg, "N3", "N1", "M2"]);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("| N1 "), "{stdout}");
    assert!(stdout.contains("| M2 "), "{stdout}");
    assert!(stdout.contains("Note N1–N3"), "{stdout}");
    assert!(stdout.contains("| mio_raw |"), "{stdout}");
    assert!(stdout.contains("| vs floor |"), "{stdout}");
    // tulip's protocol server ran (every runtime does by default): its
    // column and its ratio.
    assert!(stdout.contains("| tulip_protocol |"), "{stdout}");
    assert!(stdout.contains("| protocol ratio |"), "{stdout}");

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    std::fs::remove_file(&out).unwrap();
    let rows = json.as_array().unwrap();
    let ids: Vec<_> = rows.iter().map(|row| row["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["N3", "N1", "M2"]);
    for row in rows {
        // The floor and tulip's protocol server are never peers.
        for not_a_peer in ["mio_raw", "tulip_protocol"] {
            assert!(row["peers"].get(not_a_peer).is_none(), "{row}");
            assert_ne!(row["best_peer"], not_a_peer, "{row}");
        }
        // The Python peers either ran or are reported unavailable (a
        // fresh machine has no uvloop); never a failure.
        for python in ["asyncio", "uvloop"] {
            assert!(
                row["peers"][python].is_number() || row["unavailable"][python].is_string(),
                "{python} in {row}"
            );
        }
        if row["id"] == "M2" {
            // bytes/conn: only finite (the sign is the allocator's business
            // at 50 connections).
            assert_eq!(row["higher_is_better"], false, "{row}");
            assert!(row["tulip"].is_number(), "{row}");
            assert!(row["tulip_protocol"].is_number(), "{row}");
            assert!(row["floor"].is_number(), "{row}");
            continue;
        }
        assert_eq!(row["higher_is_better"], true, "{row}");
        assert!(row["tulip"].as_f64().unwrap() > 0.0, "{row}");
        assert!(row["ratio"].is_number(), "{row}");
        assert!(row["tulip_protocol"].as_f64().unwrap() > 0.0, "{row}");
        assert!(row["protocol_ratio"].is_number(), "{row}");
        assert!(row["floor"].as_f64().unwrap() > 0.0, "{row}");
        assert!(row["vs_floor"].is_number(), "{row}");
        for peer in ["tokio_ct", "tokio_mt", "smol"] {
            assert!(
                row["peers"][peer].as_f64().unwrap() > 0.0,
                "{peer} in {row}"
            );
        }
    }
}
