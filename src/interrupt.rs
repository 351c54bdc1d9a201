//! SIGINT and SIGTERM as a request to stop. Long commands (`fuzz`,
//! `conform`, `sweep`) poll [`requested`] between units of work and stop
//! cleanly: what finished is reported, real processes are stopped and
//! their directories removed by the guards that own them. A second signal
//! while the first is being handled ends redsim at once (exit 130), as a
//! user pressing Ctrl-C twice expects.

use std::sync::Arc;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

static INSTALL: Once = Once::new();
static FLAG: AtomicBool = AtomicBool::new(false);
static WHICH: AtomicI32 = AtomicI32::new(0);

/// Registers the handlers (once per process). Before this, SIGINT and
/// SIGTERM keep their default action.
pub fn install() {
    INSTALL.call_once(|| {
        for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            let shared = Arc::new(AtomicBool::new(false));
            // A second signal, once the first set `shared`, exits at once.
            let _ = signal_hook::flag::register_conditional_shutdown(sig, 130, shared.clone());
            let _ = signal_hook::flag::register(sig, shared);
            // SAFETY: the handler only stores to atomics, which is
            // async-signal-safe.
            let _ = unsafe {
                signal_hook::low_level::register(sig, move || {
                    FLAG.store(true, Ordering::SeqCst);
                    WHICH.store(sig, Ordering::SeqCst);
                })
            };
        }
    });
}

/// True once SIGINT or SIGTERM arrived.
pub fn requested() -> bool {
    FLAG.load(Ordering::SeqCst)
}

/// The signal that asked to stop, by name.
pub fn signal_name() -> Option<&'static str> {
    match WHICH.load(Ordering::SeqCst) {
        signal_hook::consts::SIGINT => Some("SIGINT"),
        signal_hook::consts::SIGTERM => Some("SIGTERM"),
        _ => None,
    }
}

/// The conventional exit status after a signal: 128 + its number.
pub fn exit_status() -> u8 {
    128 + WHICH.load(Ordering::SeqCst).clamp(0, 127) as u8
}
