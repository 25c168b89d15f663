//! HdrHistogram interval log writer (`napkin load --hlog FILE`): log format 1.3 exactly as
//! Java's `HistogramLogWriter` writes it, so HdrHistogram's own `HistogramLogProcessor` and
//! plotters read it:
//!
//! ```text
//! #[Histogram log format version 1.3]
//! #[StartTime: 1700000000.000 (seconds since epoch), 2023-11-14T22:13:20.000Z]
//! "StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"
//! Tag=post_tweet,0.000,1.000,12345.000,HISTFAAA...
//! ```
//!
//! Values (and `Interval_Max`) are microseconds; timestamps are seconds relative to
//! `StartTime`. The interval lines come from the `hdrhistogram` crate's interval log writer,
//! which does not emit the version and legend lines, so this module writes those itself. The
//! log goes to a temp file beside the target and is renamed into place by [`HlogWriter::finish`];
//! a writer dropped without `finish` leaves nothing behind.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::Histogram;

use crate::error::ReportError;
use crate::io::OutputFile;

/// The legend line Java's `HistogramLogWriter.outputLegend` writes.
const LEGEND: &str =
    "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"";

/// Writes one interval log; see the module doc.
pub struct HlogWriter {
    path: PathBuf,
    out: BufWriter<OutputFile>,
    serializer: V2DeflateSerializer,
}

impl std::fmt::Debug for HlogWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HlogWriter")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl HlogWriter {
    /// Starts a log for `path` whose intervals are offsets from `start` (the start of the
    /// measured window). Writes the header now; nothing appears at `path` before [`finish`].
    ///
    /// [`finish`]: HlogWriter::finish
    pub fn create(path: &Path, start: SystemTime) -> Result<Self, ReportError> {
        let mut out = BufWriter::new(OutputFile::create(path)?);
        // Rounded to the millisecond once, so the number and the date agree.
        let ms = start
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs_f64()
            * 1000.0;
        let since_epoch = Duration::from_millis(ms.round() as u64);
        let header = format!(
            "#[Histogram log format version 1.3]\n\
             #[StartTime: {:.3} (seconds since epoch), {}]\n\
             {LEGEND}\n",
            since_epoch.as_secs_f64(),
            humantime::format_rfc3339_millis(UNIX_EPOCH + since_epoch),
        );
        out.write_all(header.as_bytes())
            .map_err(|e| ReportError::io(path, e))?;
        Ok(HlogWriter {
            path: path.to_path_buf(),
            out,
            serializer: V2DeflateSerializer::new(),
        })
    }

    /// Appends one interval: `Tag=TAG,START,LENGTH,MAX,HISTF...`. `start_offset_s` is seconds
    /// since the `start` given to [`HlogWriter::create`]. Characters a tag may not hold
    /// (`,`, space, CR, LF) are replaced by `_`; an empty tag writes an untagged line.
    pub fn write_interval(
        &mut self,
        tag: &str,
        start_offset_s: f64,
        length_s: f64,
        hist: &Histogram<u64>,
    ) -> Result<(), ReportError> {
        let clean = sanitize_tag(tag);
        let tag = Tag::new(&clean);
        let mut writer = IntervalLogWriterBuilder::new()
            .begin_log_with(&mut self.out, &mut self.serializer)
            .map_err(|e| ReportError::io(&self.path, e))?;
        writer
            .write_histogram(
                hist,
                secs(start_offset_s),
                secs(length_s),
                tag.filter(|_| !clean.is_empty()),
            )
            .map_err(|e| {
                ReportError::Invalid(format!(
                    "{}: writing interval log: {e}",
                    self.path.display()
                ))
            })
    }

    /// Flushes the log and moves it into place at the path given to [`HlogWriter::create`].
    pub fn finish(self) -> Result<(), ReportError> {
        let path = self.path;
        self.out
            .into_inner()
            .map_err(|e| ReportError::io(&path, e.into_error()))?
            .commit()
    }
}

fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.max(0.0)).unwrap_or(Duration::ZERO)
}

/// Replaces the characters an interval-log tag may not contain with `_`.
pub fn sanitize_tag(tag: &str) -> String {
    tag.chars()
        .map(|c| {
            if matches!(c, ',' | ' ' | '\r' | '\n') {
                '_'
            } else {
                c
            }
        })
        .collect()
}
