//! The one way this program builds an async runtime: single-threaded, with
//! time and I/O. Every action is one short-lived process doing a handful
//! of requests, so a thread pool would only cost start-up time.

/// A current-thread tokio runtime, or the reason it could not be made
/// (out of file descriptors or memory, in practice).
pub fn new() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}
