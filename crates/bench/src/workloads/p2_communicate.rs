//! P2 communicate: 100 times, spawn `cat`, write 64 KiB to its stdin, read
//! it all back, wait.

use std::time::Instant;

use super::{Scale, Unit, Workload};
use crate::rt::Rt;

/// P2.
pub(crate) struct Communicate;

impl Workload for Communicate {
    const ID: &'static str = "P2";
    const NAME: &'static str = "communicate";
    const UNIT: Unit = Unit::lower("ms/round");
    const NOTE: Option<&'static str> = Some(
        "P2: tulip runs Process::communicate (asyncio's); tokio joins write_all + drop of \
         the child's stdin with Child::wait_with_output; smol zips the same with \
         async-process's Child::output",
    );

    fn measure<R: Rt>(scale: Scale) -> f64 {
        // Tiny sizes send 256 KiB, more than the two pipes hold together, so
        // a round only completes if writing and reading really overlap.
        let (rounds, size): (u32, usize) = scale.pick((100, 64 * 1024), (4, 256 * 1024));
        let elapsed = R::run(async move {
            // Not all one byte, so that a mixed-up or truncated echo shows.
            let input: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let start = Instant::now();
            for round in 0..rounds {
                let (output, code) = R::communicate("cat", &input)
                    .await
                    .unwrap_or_else(|error| panic!("P2: round {round}: {error}"));
                assert_eq!(
                    output.len(),
                    size,
                    "P2: round {round}: cat gave back {} bytes, not {size}",
                    output.len()
                );
                assert!(output == input, "P2: round {round}: cat's output differs");
                assert_eq!(code, 0, "P2: round {round}: cat exited with {code}");
            }
            start.elapsed()
        });
        elapsed.as_secs_f64() * 1_000.0 / f64::from(rounds)
    }
}
