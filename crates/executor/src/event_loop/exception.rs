//! What the loop reports to its exception handler (asyncio's context dict).

use std::fmt;
use std::rc::Rc;

use crate::task::Task;

/// A report handed to the loop's exception handler: a message, and where
/// known the panic that caused it and the task it happened in.
///
/// The loop builds one for a task whose panic was never retrieved ("Task
/// exception was never retrieved") and for a callback that panicked
/// ("Exception in callback"); [`EventLoop::call_exception_handler`] lets
/// user code raise its own.
///
/// [`EventLoop::call_exception_handler`]: crate::EventLoop::call_exception_handler
///
/// ```
/// use tulip_executor::ExceptionContext;
///
/// let context = ExceptionContext::new("connection lost").with_panic("peer reset");
/// assert_eq!(context.message(), "connection lost");
/// assert_eq!(context.panic_message(), Some("peer reset"));
/// assert_eq!(context.to_string(), "connection lost: peer reset");
/// ```
#[derive(Debug, Clone)]
pub struct ExceptionContext {
    message: String,
    panic: Option<String>,
    task: Option<Task>,
}

impl ExceptionContext {
    /// A report with just a message.
    pub fn new(message: impl Into<String>) -> ExceptionContext {
        ExceptionContext {
            message: message.into(),
            panic: None,
            task: None,
        }
    }

    /// Adds the message of the panic behind the report.
    #[must_use]
    pub fn with_panic(mut self, panic: impl Into<String>) -> ExceptionContext {
        self.panic = Some(panic.into());
        self
    }

    /// Adds the task the report is about.
    #[must_use]
    pub fn with_task(mut self, task: Task) -> ExceptionContext {
        self.task = Some(task);
        self
    }

    /// What happened, in asyncio's words where asyncio has them.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The panic's message, when a panic caused the report.
    pub fn panic_message(&self) -> Option<&str> {
        self.panic.as_deref()
    }

    /// The task the report is about, if any.
    pub fn task(&self) -> Option<&Task> {
        self.task.as_ref()
    }

    pub(crate) fn unretrieved_panic(task: &Task, panic: &str) -> ExceptionContext {
        ExceptionContext::new("Task exception was never retrieved")
            .with_panic(panic)
            .with_task(task.clone())
    }

    /// What the default handler does: one `tracing` error event.
    pub(crate) fn log(&self) {
        match &self.task {
            Some(task) => tracing::error!(
                target: "tulip::event_loop",
                task = %task.name(),
                task_id = %task.id(),
                spawned_at = %task.location(),
                "{self}"
            ),
            None => tracing::error!(target: "tulip::event_loop", "{self}"),
        }
    }
}

impl fmt::Display for ExceptionContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(panic) = &self.panic {
            write!(f, ": {panic}")?;
        }
        Ok(())
    }
}

/// A handler of the loop's error reports, as
/// [`EventLoop::get_exception_handler`](super::EventLoop::get_exception_handler)
/// returns it: shared, called on the loop's thread.
pub type ExceptionHandler = Rc<dyn Fn(&ExceptionContext)>;

/// The handler used when none is set: reports the context through `tracing`
/// at error level (target `tulip::event_loop`), with the task's name, id and
/// spawn location when there is a task.
///
/// A custom handler can call this to keep the default report.
pub fn default_exception_handler(context: &ExceptionContext) {
    context.log();
}
