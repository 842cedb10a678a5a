//! asyncio's subprocesses on tulip: `create_subprocess_exec`,
//! `create_subprocess_shell`, `Command` and `Process`.
//!
//! Subprocesses arrive with the subprocess milestone; until then the crate
//! exports nothing.
