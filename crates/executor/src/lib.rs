//! tulip's event loop and tasks.
