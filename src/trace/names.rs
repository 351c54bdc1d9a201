//! Trace event names that more than one part of redsim reads: the model
//! that logs them, the checkers, `explain`, the fuzzer's signatures and the
//! conformance parser of real Redis logs. One spelling each, so a renamed
//! event cannot silently stop matching.

/// Sentinel's events (sentinelEvent()): each is also the pub/sub channel
/// it is published on. `_OFF` names the `-` event that ends a `+` one.
pub mod sentinel {
    pub const CONFIG_UPDATE_FROM: &str = "+config-update-from";
    pub const CONVERT_TO_SLAVE: &str = "+convert-to-slave";
    pub const ELECTED_LEADER: &str = "+elected-leader";
    pub const FAILOVER_END: &str = "+failover-end";
    pub const FAILOVER_END_FOR_TIMEOUT: &str = "+failover-end-for-timeout";
    pub const FAILOVER_STATE_RECONF_SLAVES: &str = "+failover-state-reconf-slaves";
    pub const FAILOVER_STATE_SELECT_SLAVE: &str = "+failover-state-select-slave";
    pub const FAILOVER_STATE_SEND_SLAVEOF_NOONE: &str = "+failover-state-send-slaveof-noone";
    pub const FAILOVER_STATE_WAIT_PROMOTION: &str = "+failover-state-wait-promotion";
    pub const FIX_SLAVE_CONFIG: &str = "+fix-slave-config";
    pub const MONITOR: &str = "+monitor";
    pub const MONITOR_OFF: &str = "-monitor";
    pub const NEW_EPOCH: &str = "+new-epoch";
    pub const ODOWN: &str = "+odown";
    pub const PROMOTED_SLAVE: &str = "+promoted-slave";
    pub const REBOOT: &str = "+reboot";
    pub const RESET_MASTER: &str = "+reset-master";
    pub const SDOWN: &str = "+sdown";
    pub const SELECTED_SLAVE: &str = "+selected-slave";
    pub const SENTINEL: &str = "+sentinel";
    pub const SENTINEL_ADDRESS_SWITCH: &str = "+sentinel-address-switch";
    pub const SENTINEL_INVALID_ADDR: &str = "+sentinel-invalid-addr";
    pub const SLAVE: &str = "+slave";
    pub const SLAVE_RECONF_DONE: &str = "+slave-reconf-done";
    pub const SLAVE_RECONF_INPROG: &str = "+slave-reconf-inprog";
    pub const SLAVE_RECONF_SENT: &str = "+slave-reconf-sent";
    pub const SLAVE_RECONF_SENT_BE: &str = "+slave-reconf-sent-be";
    pub const SWITCH_MASTER: &str = "+switch-master";
    pub const TILT: &str = "+tilt";
    pub const TRY_FAILOVER: &str = "+try-failover";
    pub const VOTE_FOR_LEADER: &str = "+vote-for-leader";
    pub const FAILOVER_ABORT_NO_GOOD_SLAVE: &str = "-failover-abort-no-good-slave";
    pub const FAILOVER_ABORT_NOT_ELECTED: &str = "-failover-abort-not-elected";
    pub const FAILOVER_ABORT_SLAVE_TIMEOUT: &str = "-failover-abort-slave-timeout";
    pub const ODOWN_OFF: &str = "-odown";
    pub const SDOWN_OFF: &str = "-sdown";
    pub const SLAVE_RECONF_SENT_TIMEOUT: &str = "-slave-reconf-sent-timeout";
    pub const TILT_OFF: &str = "-tilt";
}

/// Sentinel log lines that are not events (serverLog()'s fixed text).
pub mod sentinel_log {
    /// `SENTINEL FAILOVER`: the failover that follows is forced.
    pub const USER_REQUESTED_FAILOVER: &str = "Executing user requested FAILOVER";
}

/// Redis log lines (their fixed text, as serverLog() prints it before any
/// variable part).
/// Events of the simulator's own processes (the operator's redis-cli).
pub mod sim {
    /// One of the scenario's command lines, sent.
    pub const COMMAND: &str = "command";
    /// A reply to one of the scenario's command lines.
    pub const REPLY: &str = "reply";
    /// A command line that got no reply: refused or closed connection.
    pub const NO_REPLY: &str = "no-reply";
    /// A message pushed to a session that subscribed.
    pub const MESSAGE: &str = "message";
    /// An outside connection (`[[connection]]`) opens.
    pub const CONNECT: &str = "connect";
    /// An outside connection's client hangs up.
    pub const DISCONNECT: &str = "disconnect";
}

pub mod redis {
    pub const FULL_RESYNC: &str = "Full resync from master";
    pub const PARTIAL_RESYNC_DONE: &str = "Successful partial resynchronization with master.";
    pub const SERVER_INITIALIZED: &str = "Server initialized";
    pub const SECONDARY_REPLID: &str = "Setting secondary replication ID";
    pub const MASTER_MODE: &str = "MASTER MODE enabled";
    pub const REPLICAOF_ENABLED: &str = "REPLICAOF enabled";
    pub const CONNECTING_TO_MASTER: &str = "Connecting to MASTER";
    pub const TRYING_PARTIAL_RESYNC: &str = "Trying a partial resynchronization";
    pub const NO_BACKLOG_FOR_PSYNC: &str =
        "Unable to partial resync with replica for lack of backlog";
    pub const REPLID_MISMATCH: &str =
        "Partial resynchronization not accepted: Replication ID mismatch";
    pub const FLUSHING_OLD_DATA: &str = "MASTER <-> REPLICA sync: Flushing old data";
    pub const OUTPUT_BUFFER_LIMIT: &str =
        "scheduled to be closed ASAP for overcoming of output buffer limits.";
    pub const READY: &str = "Ready to accept connections";
    pub const ELECTION_WON: &str = "Failover election won: I'm the new master.";
    pub const ELECTION_STARTED: &str = "Starting a failover election for epoch";
    pub const POSSIBLY_FAILING: &str = "*** NODE possibly failing";
    /// nodeUpdateAddressIfNeeded(): a peer announced a new address.
    pub const ADDRESS_UPDATED: &str = "Address updated for node";
    /// clusterProcessPacket(): this node learnt its own address anew.
    pub const MY_IP_UPDATED: &str = "IP address for this node updated to";
    pub const MARKED_FAILING: &str = "Marking node as failing (quorum reached)";
    pub const RECONFIGURED_AS_REPLICA: &str =
        "Configuration change detected. Reconfiguring myself as a replica of";
    pub const CONFIG_EPOCH_COLLISION: &str = "WARNING: configEpoch collision with node";
    pub const FAIL_CLEARED_NO_SERVER: &str = "Clear FAIL state for node: is reachable again and nobody is serving its slots after some time.";
    pub const REPLICA_RANK_UPDATED: &str = "Replica rank updated";
    pub const UNABLE_TO_FAILOVER: &str = "Currently unable to failover";
    pub const AUTH_DENIED: &str = "Failover auth denied to";
    pub const AUTH_GRANTED: &str = "Failover auth granted to";
    pub const RESHARDING_DONE: &str = "Resharding done";
    pub const RESHARDING_ABORTED: &str = "Resharding aborted";

    /// Every name above: what a real server's log line is matched against.
    pub const ALL: &[&str] = &[
        FULL_RESYNC,
        PARTIAL_RESYNC_DONE,
        SERVER_INITIALIZED,
        SECONDARY_REPLID,
        MASTER_MODE,
        REPLICAOF_ENABLED,
        CONNECTING_TO_MASTER,
        TRYING_PARTIAL_RESYNC,
        NO_BACKLOG_FOR_PSYNC,
        REPLID_MISMATCH,
        FLUSHING_OLD_DATA,
        OUTPUT_BUFFER_LIMIT,
        READY,
        ELECTION_WON,
        ELECTION_STARTED,
        POSSIBLY_FAILING,
        ADDRESS_UPDATED,
        MY_IP_UPDATED,
        MARKED_FAILING,
        RECONFIGURED_AS_REPLICA,
        CONFIG_EPOCH_COLLISION,
        FAIL_CLEARED_NO_SERVER,
        REPLICA_RANK_UPDATED,
        UNABLE_TO_FAILOVER,
        AUTH_DENIED,
        AUTH_GRANTED,
        RESHARDING_DONE,
        RESHARDING_ABORTED,
    ];
}
