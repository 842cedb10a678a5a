//! Callbacks against coroutines: three API calls in a row, written both ways.
//!
//! Seed 001 sketches why asyncio is built on coroutines: three dependent
//! calls written with callbacks nest one inside the next ("callback hell"),
//! lose the earlier requests' context and cannot share one error handler,
//! while the same logic as a coroutine reads top to bottom. The seed's
//! sketch leaves `api_call_*` and `step` undefined; this program defines them
//! (each call answers a second later through `call_later`) and runs both:
//!
//! ```python
//! def api_call(n, request, callback):
//!     print(f"api_call_{n}({request!r})")
//!     asyncio.get_running_loop().call_later(1, callback, f"response_{n}")
//!
//! def step(n, response):
//!     print(f"step_{n}({response!r})")
//!     return f"request_{n + 1}"
//!
//! def with_callbacks(request_1, done):
//!     def stage_1(response_1):
//!         request_2 = step(1, response_1)
//!         def stage_2(response_2):
//!             request_3 = step(2, response_2)
//!             def stage_3(response_3):
//!                 step(3, response_3)
//!                 done.set_result(None)
//!             api_call(3, request_3, stage_3)
//!         api_call(2, request_2, stage_2)
//!     api_call(1, request_1, stage_1)
//!
//! async def api_call_async(n, request):
//!     print(f"api_call_{n}({request!r})")
//!     await asyncio.sleep(1)
//!     return f"response_{n}"
//!
//! async def three_stages(request_1):
//!     response_1 = await api_call_async(1, request_1)
//!     request_2 = step(1, response_1)
//!     response_2 = await api_call_async(2, request_2)
//!     request_3 = step(2, response_2)
//!     response_3 = await api_call_async(3, request_3)
//!     step(3, response_3)
//!
//! async def main():
//!     loop = asyncio.get_running_loop()
//!     print("-- nested callbacks")
//!     done = loop.create_future()
//!     with_callbacks("request_1", done)
//!     await done
//!     print("-- one coroutine")
//!     await asyncio.create_task(three_stages("request_1"))
//! ```
//!
//! In Rust the callbacks are closures handed to `call_later`; each must own
//! what it uses, so every stage clones the transcript and the loop's handle
//! into the next — the lost context the seed describes, made visible. The
//! `done` future is an `Event` (a `tulip::Promise`, asyncio's future, would
//! do as well: nothing is passed through it). The loop runs on virtual time.

// The tour and the snapshot tests include this file as a module too.
#[path = "common/mod.rs"]
mod common;

use std::error::Error;
use std::io::{self, Write};
use std::rc::Rc;
use std::time::Duration;

use common::{Transcript, say};
use tulip::Handle;
use tulip::sync::Event;

/// The callback-style API: prints the call, answers a second later.
fn api_call(
    out: &Transcript,
    handle: &Handle,
    n: u32,
    request: String,
    callback: impl FnOnce(String) + 'static,
) -> Result<(), tulip::SpawnError> {
    say!(out, "api_call_{n}('{request}')");
    handle.call_later(Duration::from_secs(1), move || {
        callback(format!("response_{n}"))
    })?;
    Ok(())
}

/// What the program does with a response: prints it, makes the next request.
fn step(out: &Transcript, n: u32, response: &str) -> String {
    say!(out, "step_{n}('{response}')");
    format!("request_{}", n + 1)
}

/// The three calls as callbacks nested three deep. A call refused by the
/// loop has no caller to return to, so each stage can only record it.
fn with_callbacks(out: Transcript, handle: Handle, request_1: String, done: Rc<Event>) {
    let (out_1, handle_1) = (out.clone(), handle.clone());
    let stage_1 = move |response_1: String| {
        let request_2 = step(&out_1, 1, &response_1);
        let (out_2, handle_2) = (out_1.clone(), handle_1.clone());
        let stage_2 = move |response_2: String| {
            let request_3 = step(&out_2, 2, &response_2);
            let out_3 = out_2.clone();
            let stage_3 = move |response_3: String| {
                step(&out_3, 3, &response_3);
                done.set();
            };
            if let Err(error) = api_call(&out_2, &handle_2, 3, request_3, stage_3) {
                say!(out_2, "api_call_3 failed: {error}");
            }
        };
        if let Err(error) = api_call(&out_1, &handle_1, 2, request_2, stage_2) {
            say!(out_1, "api_call_2 failed: {error}");
        }
    };
    if let Err(error) = api_call(&out, &handle, 1, request_1, stage_1) {
        say!(out, "api_call_1 failed: {error}");
    }
}

/// The coroutine-style API.
async fn api_call_async(out: &Transcript, n: u32, request: String) -> String {
    say!(out, "api_call_{n}('{request}')");
    tulip::sleep(Duration::from_secs(1)).await;
    format!("response_{n}")
}

/// The same three calls, top to bottom, with every earlier value in scope.
async fn three_stages(out: Transcript, request_1: String) {
    let response_1 = api_call_async(&out, 1, request_1).await;
    let request_2 = step(&out, 1, &response_1);
    let response_2 = api_call_async(&out, 2, request_2).await;
    let request_3 = step(&out, 2, &response_2);
    let response_3 = api_call_async(&out, 3, request_3).await;
    step(&out, 3, &response_3);
}

async fn both(out: Transcript) -> Result<(), Box<dyn Error>> {
    say!(out, "-- nested callbacks");
    let done = Rc::new(Event::new());
    with_callbacks(
        out.clone(),
        Handle::current()?,
        "request_1".to_owned(),
        done.clone(),
    );
    done.wait().await;
    say!(out, "-- one coroutine");
    tulip::spawn(three_stages(out, "request_1".to_owned())).await?;
    Ok(())
}

/// Runs the example, printing to `out`.
pub(crate) fn run(out: &mut dyn Write) -> Result<(), Box<dyn Error>> {
    let transcript = Transcript::new();
    let event_loop = tulip::EventLoop::builder().virtual_time().build()?;
    event_loop.run_until_complete(both(transcript.clone()))??;
    Ok(transcript.write_to(out)?)
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut io::stdout().lock())
}
