//! One pass of a Sentinel's event loop: the kernel's context, plus the
//! events the pass emits. sentinelEvent() logs an event and publishes it on
//! the channel named after it; here the log line goes to the trace at once
//! and the publication to subscribers at the end of the pass, from the
//! Sentinel's own record of what it emitted (never read back from the
//! trace).

use std::ops::{Deref, DerefMut};

use crate::proto::Ctx;
use crate::trace::{Level, Source};

pub struct Pass<'a, 'b> {
    ctx: &'a mut Ctx<'b>,
    /// (channel, payload) of each event emitted in this pass that
    /// subscribers hear (not the verbose ones), in order.
    pub(super) events: Vec<(&'static str, String)>,
}

impl<'a, 'b> Pass<'a, 'b> {
    pub fn new(ctx: &'a mut Ctx<'b>) -> Self {
        Self {
            ctx,
            events: Vec::new(),
        }
    }

    /// sentinelEvent(): logs the event, and keeps it for publication unless
    /// it is verbose.
    pub fn event(&mut self, level: Level, event: &'static str, detail: String) {
        if level != Level::Verbose {
            self.events.push((event, detail.clone()));
        }
        self.ctx.emit(Source::Sentinel, level, event.into(), detail);
    }
}

impl<'b> Deref for Pass<'_, 'b> {
    type Target = Ctx<'b>;

    fn deref(&self) -> &Self::Target {
        self.ctx
    }
}

impl DerefMut for Pass<'_, '_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.ctx
    }
}
