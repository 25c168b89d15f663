//! Lossless histogram interchange: base64 of HdrHistogram's V2 deflate encoding (starts with
//! `HISTF`), as HdrHistogram's own tools write and read it.

use base64::Engine;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;

use crate::run::LatencyStats;

/// Lowest and highest trackable latency (microseconds) and significant digits of every
/// histogram napkin records: 1 us to 60 s, 3 digits.
pub const LOWEST_US: u64 = 1;
pub const HIGHEST_US: u64 = 60_000_000;
pub const SIGFIG: u8 = 3;

#[derive(Debug, thiserror::Error)]
pub enum HistogramError {
    #[error("histogram is not valid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    #[error("histogram could not be decoded: {0:?}")]
    Decode(hdrhistogram::serialization::DeserializeError),
    #[error("histogram could not be encoded: {0:?}")]
    Encode(hdrhistogram::serialization::V2DeflateSerializeError),
}

/// A new empty histogram with napkin's bounds (values above the top are clamped by callers).
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(LOWEST_US, HIGHEST_US, SIGFIG).expect("constant bounds are valid")
}

/// base64(V2 deflate(hist)).
pub fn encode(hist: &Histogram<u64>) -> Result<String, HistogramError> {
    let mut buf = Vec::new();
    V2DeflateSerializer::new()
        .serialize(hist, &mut buf)
        .map_err(HistogramError::Encode)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(buf))
}

/// base64 of bytes already V2-deflate encoded (the engine's interval histograms); empty
/// bytes give an empty string.
pub fn base64_of(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Inverse of [`encode`].
pub fn decode(text: &str) -> Result<Histogram<u64>, HistogramError> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(text.trim())?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(HistogramError::Decode)
}

/// min, mean, p50, p90, p99, p99.9, max of a histogram (all zero when it is empty).
pub fn stats(hist: &Histogram<u64>) -> LatencyStats {
    if hist.is_empty() {
        return LatencyStats::default();
    }
    LatencyStats {
        min: hist.min(),
        mean: hist.mean(),
        p50: hist.value_at_quantile(0.50),
        p90: hist.value_at_quantile(0.90),
        p99: hist.value_at_quantile(0.99),
        p999: hist.value_at_quantile(0.999),
        max: hist.max(),
    }
}

impl crate::run::ScopeResult {
    /// A scope's results from its two histograms (latency from intended send, service from
    /// actual send) and its error counts.
    pub fn from_histograms(
        latency: &Histogram<u64>,
        service: &Histogram<u64>,
        requests: u64,
        error_kinds: crate::run::ErrorCounts,
    ) -> Result<Self, HistogramError> {
        Ok(crate::run::ScopeResult {
            requests,
            errors: error_kinds.total,
            latency_us: stats(latency),
            service_us: stats(service),
            histogram: encode(latency)?,
            service_histogram: encode(service)?,
            error_kinds,
            connect_us: None,
            connect_histogram: None,
        })
    }

    /// Adds the connect (TCP + TLS handshake) histogram: `all` only.
    pub fn set_connect(&mut self, connect: &Histogram<u64>) -> Result<(), HistogramError> {
        self.connect_us = Some(stats(connect));
        self.connect_histogram = Some(encode(connect)?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip_is_lossless() {
        let mut h = new_histogram();
        for v in [1u64, 7, 250, 1_000, 1_001, 59_000_000] {
            h.record_n(v, v % 13 + 1).unwrap();
        }
        let text = encode(&h).unwrap();
        assert!(text.starts_with("HISTF"), "{text}");
        let back = decode(&text).unwrap();
        assert_eq!(back, h);
        assert_eq!(stats(&back), stats(&h));
    }
}
