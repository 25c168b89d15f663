//! The one validator of `request:` blocks: method, path, headers, body, captures and expected
//! statuses are checked, and their templates compiled, here and nowhere else, so the load
//! generator receives typed, compiled requests and only renders them.
//!
//! It runs in two steps. [`check`] reads one action's block field by field while the actions
//! are validated. Templates can name key spaces (`load.keys`) and capture pools (any action's
//! `capture:`), which are known only once every action and the `load:` block are read; then
//! [`compile`] resolves those names and fills in each action's [`RequestSpec`]. Every failure
//! is a [`Problem`] at the field's path, placed at `file:line:column` like any scenario error.

use yaml_serde::{Mapping, Value};

use crate::error::{index, join, Problem};
use crate::model::*;
use crate::raw::RawRequest;
use crate::template::{Names, Template};
use crate::values::{self, check_identifier};

/// A `request:` block whose fields passed their own checks; templates still as written.
#[derive(Debug)]
pub(crate) struct CheckedRequest {
    /// Field path of the block, e.g. `actions[0].request`.
    path: String,
    method: Method,
    url: String,
    /// (name, the key as written, the value as written).
    headers: Vec<(HeaderName, String, String)>,
    body: Option<String>,
    /// (pool, JSON field path).
    capture: Vec<(String, String)>,
    expect: Vec<u16>,
}

/// Checks an action's `request:` block at field path `path`.
pub(crate) fn check(raw: RawRequest, path: &str) -> Result<CheckedRequest, Problem> {
    let method = method(&raw.method, &join(path, "method"))?;
    if !raw.path.starts_with('/') {
        return Err(Problem::new(
            join(path, "path"),
            format!("`{}` does not start with `/`; write the path and query, e.g. /users/{{{{user}}}}/timeline", raw.path),
        ));
    }
    Ok(CheckedRequest {
        path: path.to_string(),
        method,
        url: raw.path,
        headers: headers(raw.headers.unwrap_or_default(), &join(path, "headers"))?,
        body: raw.body,
        capture: captures(raw.capture.unwrap_or_default(), &join(path, "capture"))?,
        expect: statuses(&raw.expect.unwrap_or_default(), &join(path, "expect"))?,
    })
}

/// A method is letters only; `get` is `GET`.
fn method(written: &str, path: &str) -> Result<Method, Problem> {
    let upper = written.trim().to_ascii_uppercase();
    match Method::from_bytes(upper.as_bytes()) {
        Ok(m) if upper.chars().all(|c| c.is_ascii_alphabetic()) => Ok(m),
        _ => Err(Problem::new(
            path,
            format!("`{written}` is not an HTTP method; use e.g. GET, POST, PUT or DELETE"),
        )),
    }
}

/// (name, key as written, value as written) per header; names must be valid HTTP names.
fn headers(raw: Mapping, path: &str) -> Result<Vec<(HeaderName, String, String)>, Problem> {
    let mut headers = Vec::with_capacity(raw.len());
    for (k, v) in raw {
        let written = values::scalar_text(&k, path, "a header name")?;
        let p = join(path, &written);
        let Ok(name) = HeaderName::from_bytes(written.to_ascii_lowercase().as_bytes()) else {
            return Err(Problem {
                message: format!(
                    "`{written}` is not a valid header name; use letters, digits and -, e.g. \
                     content-type"
                ),
                path: p,
                at_key: true,
            });
        };
        let value = values::scalar_text(&v, &p, "a header value")?;
        headers.push((name, written, value));
    }
    Ok(headers)
}

/// (pool, JSON field) per capture; pool names are identifiers, fields are not empty.
fn captures(raw: Mapping, path: &str) -> Result<Vec<(String, String)>, Problem> {
    let mut capture = Vec::with_capacity(raw.len());
    for (k, v) in raw {
        let pool = values::scalar_text(&k, path, "a pool name")?;
        let p = join(path, &pool);
        check_identifier(&pool, &p, "pool name")?;
        let field = values::scalar_text(&v, &p, "a response JSON field name")?;
        if field.is_empty() {
            return Err(Problem::new(
                p,
                "name the response JSON field to capture, e.g. id",
            ));
        }
        capture.push((pool, field));
    }
    Ok(capture)
}

/// Expected statuses, each a whole number in 100-599.
fn statuses(raw: &[Value], path: &str) -> Result<Vec<u16>, Problem> {
    let mut expect = Vec::with_capacity(raw.len());
    for (i, v) in raw.iter().enumerate() {
        let p = index(path, i);
        let code = values::count(v, &p)?;
        if code.fract() != 0.0 || !(100.0..=599.0).contains(&code) {
            return Err(Problem::new(
                p,
                format!("`{code}` is not an HTTP status; use 100-599, e.g. 201"),
            ));
        }
        expect.push(code as u16);
    }
    Ok(expect)
}

/// Compiles every action's checked request (`checked[i]` belongs to `actions[i]`) against the
/// key spaces of `load` and the pools the captures name, which it records in `load.pools`.
pub(crate) fn compile(
    actions: &mut [Action],
    checked: Vec<Option<CheckedRequest>>,
    load: &mut LoadSpec,
) -> Result<(), Problem> {
    let keys: Vec<String> = load.keys.iter().map(|k| k.name.clone()).collect();
    let mut pools: Vec<String> = Vec::new();
    for request in checked.iter().flatten() {
        for (pool, _) in &request.capture {
            if keys.contains(pool) {
                return Err(Problem {
                    path: join(&join(&request.path, "capture"), pool),
                    message: format!(
                        "capture pool `{pool}` has the name of a key space in `load.keys`; \
                         rename one of them so `{{{{{pool}}}}}` is unambiguous"
                    ),
                    at_key: true,
                });
            }
            if !pools.contains(pool) {
                pools.push(pool.clone());
            }
        }
    }
    let names = Names {
        keys: &keys,
        pools: &pools,
    };
    for (action, request) in actions.iter_mut().zip(checked) {
        if let Some(request) = request {
            action.request = Some(compile_one(request, &action.name, &names)?);
        }
    }
    load.pools = pools;
    Ok(())
}

fn compile_one(
    request: CheckedRequest,
    action: &str,
    names: &Names<'_>,
) -> Result<RequestSpec, Problem> {
    let template = |field: &str, text: &str| {
        Template::compile(text, names).map_err(|p| {
            Problem::new(
                join(&request.path, field),
                format!(
                    "action `{action}`: {} (at character {} of the value)",
                    p.message,
                    text[..p.offset].chars().count() + 1
                ),
            )
        })
    };
    let path = template("path", &request.url)?;
    let mut headers = Vec::with_capacity(request.headers.len());
    for (name, written, value) in &request.headers {
        let field = join("headers", written);
        let compiled = template(&field, value)?;
        let part = if compiled.is_literal() {
            let fixed = HeaderValue::from_str(value).map_err(|_| {
                Problem::new(
                    join(&request.path, &field),
                    format!(
                        "`{value}` holds characters not allowed in a header value; use \
                         printable ASCII (no control characters or non-ASCII text)"
                    ),
                )
            })?;
            HeaderPart::Fixed(fixed)
        } else {
            HeaderPart::Template(compiled)
        };
        headers.push((name.clone(), part));
    }
    let body = match &request.body {
        Some(b) => Some(template("body", b)?),
        None => None,
    };
    let capture = request
        .capture
        .iter()
        .map(|(pool, field)| Capture {
            pool: names
                .pools
                .iter()
                .position(|p| p == pool)
                .expect("every captured pool is listed"),
            field: field.split('.').map(str::to_owned).collect(),
        })
        .collect();
    Ok(RequestSpec {
        method: request.method,
        path,
        headers,
        body,
        capture,
        expect: request.expect,
    })
}
