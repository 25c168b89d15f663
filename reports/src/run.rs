//! The run result (`napkin load --out run.json`, SPEC section 5): the one file every later
//! command (`report`, `compare`, `check`, `merge`) reads. Histograms are embedded losslessly as
//! base64 HdrHistogram V2 deflate so that merging runs is exact.
//!
//! Fields beyond SPEC section 5 are extensions (documented in docs/run-format.md); the SPEC's
//! fields keep their names and meaning. Fields added later carry `#[serde(default)]`, so run
//! files written by earlier versions still load.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The value of the `format` field this version writes and reads.
pub const RUN_FORMAT: &str = "napkin-run/1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    pub format: String,
    pub scenario: String,
    pub target: String,
    /// `open` or `closed`.
    pub model: String,
    /// `uniform` or `poisson` (open model); `none` for the closed model.
    pub arrivals: String,
    /// Offered rate of the open model (peak of the profile for staged runs); null when closed.
    pub target_rps: Option<f64>,
    /// RFC 3339 wall-clock time of the start of the measured window (after warm-up).
    pub started_at: String,
    /// Length of the measured window in seconds.
    pub duration_s: f64,
    /// Requests sent in the measured window (each with a response, a failure, or none by the
    /// end of the grace period: `errors.unfinished`).
    pub requests: u64,
    /// Responses received within the measured window, per second of it (as wrk2 reports).
    pub achieved_rps: f64,
    /// Open model: requests intended in the measured window but never sent (the target or
    /// the generator could not keep up). Not in `requests`.
    #[serde(default)]
    pub dropped: u64,
    /// Open model: the achieved rate fell more than 2% below the offered rate, or requests
    /// were dropped (see [`crate::saturation`]).
    #[serde(default)]
    pub saturated: bool,
    /// Extension, open model: actual minus intended send time of the measured requests
    /// (how late the generator sent them, queueing behind earlier responses included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_lag_us: Option<LatencyStats>,
    /// Extension, open model: the share of the measured window the connections spent
    /// waiting on the target (send to outcome, summed over connections / (connections x
    /// window)); near 1 when the target holds every connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections_busy: Option<f64>,
    /// SPEC section 9: `http/1.1` or `h2` (runs written before it existed were HTTP/1.1).
    #[serde(default = "http1")]
    pub protocol: String,
    /// SPEC section 9: what TLS negotiated; null over plain TCP.
    #[serde(default)]
    pub tls: Option<TlsSummary>,
    /// Extension: certificate verification was off (`--insecure`).
    #[serde(default)]
    pub insecure: bool,
    /// SPEC section 9: connections opened in the measured window (their connect and TLS
    /// handshake times are `all.connect_us`).
    #[serde(default)]
    pub connections_opened: u64,
    pub interrupted: bool,
    pub errors: ErrorCounts,
    pub all: ScopeResult,
    pub actions: BTreeMap<String, ScopeResult>,
    pub timeline: Vec<TimelinePoint>,
    pub slo: SloOutcome,
    /// Extension: how the run was set up.
    #[serde(default)]
    pub settings: Settings,
    /// Extension (SPEC section 10): which shard of a distributed run this is, or for a merged
    /// run, which shards it holds. Absent for runs that were not sharded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
}

/// Extension: a shard's place in a distributed run (`napkin load --shard I/N`), or what a
/// merge of shards holds.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ShardInfo {
    /// This shard's index, 0-based; absent in a merged run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// Shards in the whole run (N).
    pub count: u32,
    /// The distributed run's id; every shard of one run has the same.
    pub run_id: String,
    /// Merged runs: the shards merged, by index, each with its start lag.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged: Vec<ShardStart>,
    /// Merged runs: the indices of shards that were not merged (`--allow-partial`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<u32>,
    /// Merged runs: some shards are missing, so the counts are not the whole run's.
    #[serde(default, skip_serializing_if = "is_false")]
    pub partial: bool,
    /// Merged runs: the spread (latest minus earliest) of the shards' start lags,
    /// microseconds; each lag is read from its own machine's clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_skew_us: Option<i64>,
}

/// One merged shard: its index and its `settings.start_lag_us`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardStart {
    pub index: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_lag_us: Option<i64>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn http1() -> String {
    "http/1.1".to_string()
}

/// What TLS negotiated (SPEC section 9), with the resumption count as an extension.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TlsSummary {
    /// `TLSv1.3` or `TLSv1.2`.
    pub version: String,
    /// IANA name of the cipher suite, e.g. `TLS_AES_128_GCM_SHA256`.
    pub cipher: String,
    /// Protocol chosen by ALPN (`h2`, `http/1.1`), or null.
    pub alpn: Option<String>,
    /// Extension: connections of the window that resumed an earlier TLS session.
    #[serde(default)]
    pub resumed: u64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ErrorCounts {
    pub total: u64,
    pub connect: u64,
    pub timeout: u64,
    pub io: u64,
    /// Responses whose status was outside the action's `expect`, by status code.
    pub status: BTreeMap<String, u64>,
    /// Extension: successful responses that lacked a field named in `capture`.
    #[serde(default)]
    pub capture: u64,
    /// Extension: requests sent in the measured window without an outcome when the run
    /// ended (in flight at the end of the grace period). Omitted when 0. Runs written before
    /// `dropped` existed also counted never-sent requests here (see `settings.unsent`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unfinished: u64,
    /// Extension: TLS failures (handshake, certificate verification, a client certificate
    /// the server required, no HTTP/2 negotiated). Omitted when 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub tls: u64,
    /// Extension: `tls` by reason (`unknown_issuer`, `name_mismatch`, `expired`,
    /// `no_client_cert`, `client_cert_rejected`, `no_h2`, `handshake`). Omitted when empty.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tls_reasons: BTreeMap<String, u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl ErrorCounts {
    /// Adds `other`'s counts (every kind and status) to these.
    pub fn add(&mut self, other: &ErrorCounts) {
        // Destructured, so that a new kind does not compile until it is added here.
        let ErrorCounts {
            total,
            connect,
            timeout,
            io,
            status,
            capture,
            unfinished,
            tls,
            tls_reasons,
        } = other;
        self.total += total;
        self.connect += connect;
        self.timeout += timeout;
        self.io += io;
        self.capture += capture;
        self.unfinished += unfinished;
        self.tls += tls;
        for (status, n) in status {
            *self.status.entry(status.clone()).or_default() += n;
        }
        for (reason, n) in tls_reasons {
            *self.tls_reasons.entry(reason.clone()).or_default() += n;
        }
    }
}

/// Results for `all` or for one action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScopeResult {
    pub requests: u64,
    pub errors: u64,
    /// From each request's intended send time (coordinated-omission corrected).
    pub latency_us: LatencyStats,
    /// From the actual send time.
    pub service_us: LatencyStats,
    /// base64 HdrHistogram V2 deflate of `latency_us`, microseconds.
    pub histogram: String,
    /// Extension: the same encoding of `service_us`.
    #[serde(default)]
    pub service_histogram: String,
    /// Extension: errors of this scope by kind.
    #[serde(default)]
    pub error_kinds: ErrorCounts,
    /// SPEC section 9, `all` only: TCP connect plus TLS handshake per connection opened in the
    /// measured window, microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_us: Option<LatencyStats>,
    /// Extension, `all` only: `connect_us` as a lossless histogram (merged exactly).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_histogram: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct LatencyStats {
    pub min: u64,
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TimelinePoint {
    /// Seconds since `started_at` at the end of this interval (1 = the first second).
    pub t_s: u64,
    /// Requests whose outcome came in this second (responses and failures; requests answered
    /// in the end-of-run grace and unfinished ones count in the last second).
    pub requests: u64,
    pub errors: u64,
    /// Extension: open-model requests due in this second that were never sent. Omitted
    /// when 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    /// Extension: base64 HdrHistogram V2 deflate of this interval's latency (all actions,
    /// microseconds), the per-interval sample of `napkin compare`. Absent in runs of older
    /// versions and for an interval without responses.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub histogram: String,
    /// Extension: the same per action (actions without a response in the interval omitted).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub action_histograms: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SloOutcome {
    pub pass: bool,
    pub checks: Vec<SloCheck>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloCheck {
    /// `all` or an action name.
    pub scope: String,
    /// p50 p90 p99 p999 max mean error_rate min_rps.
    pub metric: String,
    /// Microseconds for latency metrics, a fraction for error_rate, requests/s for min_rps.
    pub limit: f64,
    pub value: f64,
    pub pass: bool,
    /// Extension: why a check failed other than by its value (e.g. its scope is not in the
    /// run); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Extension: the settings a run was made with.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub scenario_file: Option<String>,
    pub connections: Option<u32>,
    pub concurrency: Option<u32>,
    pub warmup_s: f64,
    pub timeout_s: f64,
    pub seed: Option<u64>,
    /// Requests whose actual send was more than 1 ms after their intended time.
    pub late: u64,
    /// Of those, the sends whose connection was idle and waiting for them: the generator's
    /// own lateness (the rest waited behind earlier responses). Absent in older runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub late_idle: Option<u64>,
    /// Turns given to another action because a capture pool was still empty.
    pub deferred: u64,
    /// Open model: requests the schedule offered in the measured window
    /// (= `requests` + `dropped`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offered: Option<u64>,
    /// Read from runs written before `dropped` existed: offered requests never sent, then
    /// counted in `errors.unfinished` and `requests`. No longer written (always 0).
    #[serde(skip_serializing_if = "is_zero")]
    pub unsent: u64,
    /// Requests without an outcome when the run ended (= `errors.unfinished`). Omitted
    /// when 0.
    #[serde(skip_serializing_if = "is_zero")]
    pub unfinished: u64,
    /// Action name -> share of the traffic mix (0..1).
    pub mix: BTreeMap<String, f64>,
    /// `--start-at`: the requested wall-clock start of the run (its warm-up), RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_at: Option<String>,
    /// With `start_at`: how late the run's first request went out against its intended
    /// wall-clock time, microseconds (negative: early), by this machine's clock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_lag_us: Option<i64>,
    /// HTTP/2: concurrent streams per connection (`--streams`); omitted for HTTP/1.1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub streams: Option<u32>,
    /// `--no-keepalive`: a new connection per request. Omitted when false.
    #[serde(skip_serializing_if = "is_false")]
    pub no_keepalive: bool,
}
