//! Subprocesses: spawning, the standard streams as tulip streams, communicate without
//! deadlock, return codes as asyncio gives them, signals to children, and no zombies.

use std::io;
use std::time::Duration;

use tulip_executor::{gather_all, timeout};
use tulip_process::{Command, Stdio, create_subprocess_exec, create_subprocess_shell};

#[path = "../../streams/tests/common/mod.rs"]
mod common;

const PATIENCE: Duration = Duration::from_secs(30);

/// Runs `test` on a fresh runtime of the kind `TULIP_TEST_RUNTIME` chooses.
fn run<F: Future<Output = ()> + 'static>(test: F) {
    common::block_on(async move {
        timeout(PATIENCE, test).await.expect("the test timed out");
    })
    .unwrap();
}

/// Whether `pid` is a zombie child of this process (or still exists at all).
fn state_of(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The state follows the command name, which is in parentheses.
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// The zombies among this process's children.
fn zombie_children() -> Vec<u32> {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            let Some((_, rest)) = stat.rsplit_once(')') else {
                return false;
            };
            let fields: Vec<&str> = rest.split_whitespace().collect();
            fields.first() == Some(&"Z") && fields.get(1) == Some(&me.as_str())
        })
        .collect()
}

/// Bytes that are not all alike, so a reordering or a loss shows.
fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

#[test]
fn communicate_moves_16_mib_each_way_without_deadlock() {
    run(async {
        let input = pattern(16 * 1024 * 1024);
        // tee copies stdin to stdout and to stderr: both pipes fill while stdin is fed.
        let mut child = create_subprocess_shell("tee /dev/stderr")
            .stdin(Stdio::Piped)
            .stdout(Stdio::Piped)
            .stderr(Stdio::Piped)
            .await
            .unwrap();
        let (stdout, stderr) = child.communicate(Some(&input)).await.unwrap();
        assert!(stdout == input, "stdout differs ({} bytes)", stdout.len());
        assert!(stderr == input, "stderr differs ({} bytes)", stderr.len());
        assert_eq!(child.returncode(), Some(0));
    });
}

#[test]
fn return_codes_are_exit_codes_or_minus_the_signal() {
    run(async {
        let exited = create_subprocess_shell("exit 7").await.unwrap();
        assert_eq!(exited.wait().await.unwrap(), 7);
        assert_eq!(exited.returncode(), Some(7));

        let terminated = create_subprocess_shell("kill -TERM $$").await.unwrap();
        assert_eq!(terminated.wait().await.unwrap(), -libc::SIGTERM);

        let sleeper = create_subprocess_exec("sleep", ["100"]).await.unwrap();
        assert_eq!(sleeper.returncode(), None);
        sleeper.kill().unwrap();
        assert_eq!(sleeper.wait().await.unwrap(), -libc::SIGKILL);
        // Exited and reaped: no pid to signal any more (asyncio's ProcessLookupError).
        let error = sleeper.terminate().unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::ESRCH));
    });
}

#[test]
fn kill_on_drop_kills_and_a_dropped_child_is_reaped() {
    run(async {
        let child = Command::new("sleep")
            .arg("100")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let pid = child.pid();
        assert!(state_of(pid).is_some());
        drop(child);
        // Killed at once, then reaped in the background: gone from /proc.
        while state_of(pid).is_some() {
            tulip_executor::sleep(Duration::from_millis(5)).await;
        }
        // Without kill_on_drop, the child runs on, and is reaped when it ends.
        let child = create_subprocess_shell("sleep 0.2").await.unwrap();
        let pid = child.pid();
        drop(child);
        assert!(state_of(pid).is_some());
        while state_of(pid).is_some() {
            tulip_executor::sleep(Duration::from_millis(5)).await;
        }
    });
}

#[test]
fn two_hundred_concurrent_children_are_all_reaped() {
    run(async {
        let children: Vec<_> = (0..200)
            .map(|i| {
                create_subprocess_shell(format!("exit {}", i % 7))
                    .spawn()
                    .unwrap()
            })
            .collect();
        let waits = children.iter().map(|child| child.wait());
        let codes = gather_all(waits).await;
        for (i, code) in codes.into_iter().enumerate() {
            assert_eq!(code.unwrap(), (i % 7) as i32);
        }
        // Other tests run children at the same time: look at these 200 only.
        let pids: Vec<u32> = children.iter().map(|child| child.pid()).collect();
        let zombies = zombie_children();
        assert!(pids.iter().all(|pid| !zombies.contains(pid)), "{zombies:?}");
    });
}

#[test]
fn closing_stdin_gives_the_child_eof() {
    run(async {
        let mut child = create_subprocess_exec("cat", [] as [&str; 0])
            .stdin(Stdio::Piped)
            .stdout(Stdio::Piped)
            .await
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        stdin.write(b"abc").unwrap();
        stdin.close();
        stdin.wait_closed().await.unwrap();
        let out = child.stdout.as_mut().unwrap().read_to_end().await.unwrap();
        assert_eq!(out, b"abc");
        assert_eq!(child.wait().await.unwrap(), 0);
    });
}

#[test]
fn stdout_reads_to_eof_while_the_child_still_runs() {
    run(async {
        let mut child = create_subprocess_shell("echo hi; exec 1>&-; sleep 100")
            .stdout(Stdio::Piped)
            .kill_on_drop(true)
            .await
            .unwrap();
        let out = child.stdout.as_mut().unwrap().read_to_end().await.unwrap();
        assert_eq!(out, b"hi\n");
        assert_eq!(child.returncode(), None);
        child.kill().unwrap();
        assert_eq!(child.wait().await.unwrap(), -libc::SIGKILL);
    });
}

#[test]
fn a_missing_program_is_an_error_at_spawn_naming_it() {
    run(async {
        let error = create_subprocess_exec("tulip-no-such-program", ["x"])
            .await
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
        assert!(
            error.to_string().contains("tulip-no-such-program"),
            "{error}"
        );
    });
}

#[test]
fn writing_to_the_stdin_of_an_exited_child_is_a_broken_pipe() {
    run(async {
        let mut child = create_subprocess_exec("true", [] as [&str; 0])
            .stdin(Stdio::Piped)
            .await
            .unwrap();
        assert_eq!(child.wait().await.unwrap(), 0);
        let stdin = child.stdin.take().unwrap();
        let big = vec![0; 1024 * 1024];
        let error = loop {
            if let Err(error) = stdin.write(&big) {
                break error;
            }
            if let Err(error) = stdin.drain().await {
                break error;
            }
        };
        assert!(error.to_string().contains("Broken pipe"), "{error}");
    });
}

#[test]
fn stderr_can_join_stdout() {
    run(async {
        let mut child = create_subprocess_shell("echo out; echo err >&2")
            .stdout(Stdio::Piped)
            .stderr(Stdio::Stdout)
            .await
            .unwrap();
        assert!(child.stderr.is_none());
        let (stdout, stderr) = child.communicate(None).await.unwrap();
        assert_eq!(stdout, b"out\nerr\n");
        assert!(stderr.is_empty());
    });
}

#[test]
fn stdout_as_stdin_is_refused() {
    run(async {
        let error = Command::new("true")
            .stdin(Stdio::Stdout)
            .spawn()
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    });
}

#[test]
fn environment_directory_and_process_group_are_applied() {
    run(async {
        let dir = std::env::temp_dir();
        let mut child = Command::new("/bin/sh")
            .args(["-c", "echo \"$A:$HOME:$(pwd)\""])
            .env_clear()
            .env("A", "a")
            .current_dir(&dir)
            .process_group(0)
            .stdout(Stdio::Piped)
            .spawn()
            .unwrap();
        let pid = child.pid();
        // SAFETY: getpgid takes a plain integer.
        let pgid = unsafe { libc::getpgid(pid as libc::pid_t) };
        let (stdout, _) = child.communicate(None).await.unwrap();
        let expected = format!("a::{}\n", dir.canonicalize().unwrap().display());
        assert_eq!(String::from_utf8(stdout).unwrap(), expected);
        // The leader of a group of its own (asked before it was reaped).
        assert_eq!(pgid, pid as i32);
    });
}

#[test]
fn a_child_killed_by_timeout() {
    run(async {
        let child = create_subprocess_exec("sleep", ["100"]).await.unwrap();
        let waited = timeout(Duration::from_millis(50), child.wait()).await;
        assert!(waited.is_err());
        // The timed-out wait left the child as it was: kill it and wait again.
        assert_eq!(child.returncode(), None);
        child.kill().unwrap();
        assert_eq!(child.wait().await.unwrap(), -libc::SIGKILL);
    });
}

#[test]
fn several_tasks_may_wait_for_one_child() {
    run(async {
        let child = create_subprocess_shell("sleep 0.1; exit 4").await.unwrap();
        let (a, b) = tulip_executor::gather!(child.wait(), child.wait()).await;
        assert_eq!((a.unwrap(), b.unwrap()), (4, 4));
    });
}

#[test]
fn a_cancelled_communicate_keeps_what_was_read() {
    run(async {
        let mut child = create_subprocess_shell("echo first; exec sleep 100")
            .stdout(Stdio::Piped)
            .kill_on_drop(true)
            .await
            .unwrap();
        let cut = timeout(Duration::from_millis(200), child.communicate(None)).await;
        assert!(cut.is_err());
        child.kill().unwrap();
        let (stdout, _) = child.communicate(None).await.unwrap();
        assert_eq!(stdout, b"first\n");
        assert_eq!(child.returncode(), Some(-libc::SIGKILL));
    });
}

#[test]
fn spawning_off_the_loop_is_an_error_before_anything_runs() {
    let marker = std::env::temp_dir().join(format!("tulip-offloop-{}", std::process::id()));
    let error = Command::new("touch").arg(&marker).spawn().unwrap_err();
    assert!(error.to_string().contains("touch"), "{error}");
    std::thread::sleep(Duration::from_millis(100));
    assert!(!marker.exists(), "the child ran");
}

#[test]
fn a_child_dropped_on_a_loop_that_ends_first_is_reaped_later() {
    let pid = common::block_on(async {
        let child = create_subprocess_shell("sleep 0.1").await.unwrap();
        child.pid()
    })
    .unwrap();
    // The loop (and its reaper task) is gone; the child exits meanwhile.
    std::thread::sleep(Duration::from_millis(300));
    run(async move {
        // The next spawn reaps the orphans.
        let child = create_subprocess_exec("true", [] as [&str; 0])
            .await
            .unwrap();
        child.wait().await.unwrap();
        assert_ne!(state_of(pid), Some('Z'), "left a zombie");
    });
}
