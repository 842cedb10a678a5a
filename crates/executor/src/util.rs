//! Small helpers shared by the crate's modules.

use std::any::Any;

/// The text of a panic payload: the `&str` or `String` passed to `panic!`,
/// else a fixed description.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(message) = payload.downcast_ref::<&'static str>() {
        message
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message
    } else {
        "Box<dyn Any>"
    }
}
