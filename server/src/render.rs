//! JSON of tweets and timeline pages, the hot path of the read API. Each tweet's JSON up to its
//! like count is rendered once by serde_json and cached in the tweet; a page is then those
//! fragments, each completed with the current like count, in a fixed envelope
//! `{"tweets":[...],"next":ID|null}`. Seeded texts are escaped once for all tweets.

use std::io::Write;
use std::sync::OnceLock;

use serde::Serialize;
use serde_json::value::RawValue;

use crate::store::{PageIds, Store, Text, Tweet};
use crate::time::Rfc3339;

/// Tweet text for JSON: a seeded text escaped once and copied raw, or a posted text.
#[derive(Serialize)]
#[serde(untagged)]
enum TextJson<'a> {
    Raw(&'static RawValue),
    Plain(&'a str),
}

impl<'a> TextJson<'a> {
    fn of(text: &'a Text) -> TextJson<'a> {
        static ESCAPED: OnceLock<Vec<Box<RawValue>>> = OnceLock::new();
        let escaped = ESCAPED.get_or_init(|| {
            crate::store::TEXTS
                .iter()
                .filter_map(|t| RawValue::from_string(serde_json::to_string(t).ok()?).ok())
                .collect()
        });
        match text {
            Text::Seeded(i) => match escaped.get(usize::from(*i)) {
                Some(raw) => TextJson::Raw(raw),
                None => TextJson::Plain(text),
            },
            Text::Shared(s) => TextJson::Plain(s),
        }
    }
}

/// The fields of a tweet before `likes`, in API order.
#[derive(Serialize)]
struct Head<'a> {
    id: u64,
    user_id: u64,
    text: TextJson<'a>,
    created_at: Rfc3339,
}

/// `{"id":..,"user_id":..,"text":..,"created_at":..,"likes":` for tweet `tid`.
fn head(tid: u32, tweet: &Tweet) -> Box<str> {
    finish_head(&Head {
        id: u64::from(tid),
        user_id: u64::from(tweet.user_id),
        text: TextJson::of(&tweet.text),
        created_at: Rfc3339(tweet.created_ms),
    })
}

/// The head of a tweet known by its fields (the durable tier renders stored tweets this way).
pub(crate) fn head_of(tid: u32, user_id: u32, created_ms: u64, text: &str) -> Box<str> {
    finish_head(&Head {
        id: u64::from(tid),
        user_id: u64::from(user_id),
        text: TextJson::Plain(text),
        created_at: Rfc3339(created_ms),
    })
}

/// `{..."likes":` from the fields before `likes`.
fn finish_head(head: &Head<'_>) -> Box<str> {
    // Serializing a struct of numbers and strings cannot fail; it ends with '}'.
    let mut json = serde_json::to_string(head).unwrap_or_else(|_| "{".into());
    json.pop();
    json.push_str(",\"likes\":");
    json.into_boxed_str()
}

/// The JSON of one tweet from its head and like count.
pub(crate) fn single_of(head: &str, likes: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(head.len() + 12);
    out.extend_from_slice(head.as_bytes());
    let _ = write!(out, "{likes}}}");
    out
}

/// The JSON of a timeline page from tweet heads and like counts, in page order.
pub(crate) fn page_of<H: AsRef<str>>(heads: &[H], likes: &[u32], next: Option<u64>) -> Vec<u8> {
    let size: usize = heads.iter().map(|h| h.as_ref().len() + 8).sum();
    let mut out = Vec::with_capacity(48 + size);
    out.extend_from_slice(b"{\"tweets\":[");
    for (i, (head, likes)) in heads.iter().zip(likes).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(head.as_ref().as_bytes());
        let _ = write!(out, "{likes}}}");
    }
    close_page(&mut out, next);
    out
}

fn close_page(out: &mut Vec<u8>, next: Option<u64>) {
    out.extend_from_slice(b"],\"next\":");
    let _ = match next {
        Some(next) => write!(out, "{next}}}"),
        None => write!(out, "null}}"),
    };
}

/// Appends the JSON object of tweet `tid` to `out`.
pub(crate) fn tweet(out: &mut Vec<u8>, tid: u32, tweet: &Tweet) {
    let head = tweet.rendered.get_or_init(|| head(tid, tweet));
    out.extend_from_slice(head.as_bytes());
    let likes = tweet.likes.load(std::sync::atomic::Ordering::Relaxed);
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{likes}}}");
}

/// The JSON of one tweet, or None if there is no such tweet.
pub(crate) fn single(store: &Store, tid: u32) -> Option<Vec<u8>> {
    let snapshot = store.tweets.snapshot();
    let t = snapshot.get(tid)?;
    let mut out = Vec::with_capacity(192);
    tweet(&mut out, tid, t);
    Some(out)
}

/// The JSON of a timeline page: `{"tweets":[...],"next":ID|null}`.
pub(crate) fn page(store: &Store, page: &PageIds) -> Vec<u8> {
    let snapshot = store.tweets.snapshot();
    // Tweets and their cached JSON sit at random places in a large store: look all of them up
    // before copying any, so the CPU overlaps the cache misses instead of taking them in turn.
    let found: Vec<(u32, &Tweet)> = page
        .ids
        .iter()
        .filter_map(|&tid| Some((tid, snapshot.get(tid)?)))
        .collect();
    let heads: Vec<&str> = found
        .iter()
        .map(|&(tid, t)| &**t.rendered.get_or_init(|| head(tid, t)))
        .collect();
    let touched = heads.iter().fold(0u8, |acc, h| {
        let b = h.as_bytes();
        acc ^ b.first().copied().unwrap_or(0) ^ b.last().copied().unwrap_or(0)
    });
    std::hint::black_box(touched);
    let size: usize = heads.iter().map(|h| h.len() + 8).sum();
    let mut out = Vec::with_capacity(48 + size);
    out.extend_from_slice(b"{\"tweets\":[");
    for (i, (&(_, t), head)) in found.iter().zip(&heads).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(head.as_bytes());
        let likes = t.likes.load(std::sync::atomic::Ordering::Relaxed);
        let _ = write!(out, "{likes}}}");
    }
    drop(snapshot);
    close_page(&mut out, page.next);
    out
}
