//! The HTTP API of SPEC section 6: routing, parsing and validating requests at the edge, and
//! JSON responses. Every failure is a JSON `{"error": "..."}` with a 4xx status that says what
//! was wrong and how to fix it.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use serde::{Deserialize, Serialize};

use crate::store::StoreError;
use crate::time::Rfc3339;
use crate::App;

/// Tweet text limit, in characters (Unicode scalar values), not bytes.
pub const MAX_TWEET_CHARS: usize = 280;
/// User name limit, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Default and largest page size of timelines.
pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 200;

pub(crate) type Resp = Response<Full<Bytes>>;

/// A request refused at the edge or by the store.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
    allow: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            allow: None,
        }
    }

    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    fn into_response(self) -> Resp {
        #[derive(Serialize)]
        struct Body<'a> {
            error: &'a str,
        }
        let mut resp = json(
            self.status,
            &Body {
                error: &self.message,
            },
        );
        if let Some(allow) = self.allow.and_then(|a| HeaderValue::from_str(&a).ok()) {
            resp.headers_mut().insert(ALLOW, allow);
        }
        resp
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        let status = match e {
            StoreError::UnknownUser(_) | StoreError::UnknownTweet(_) => StatusCode::NOT_FOUND,
            StoreError::SelfFollow => StatusCode::UNPROCESSABLE_ENTITY,
            StoreError::Full => StatusCode::INSUFFICIENT_STORAGE,
            StoreError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError::new(status, e.to_string())
    }
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> Resp {
    // Serializing our own plain structs cannot fail.
    let mut body = Vec::with_capacity(128);
    let _ = serde_json::to_writer(&mut body, value);
    let mut resp = json_bytes(body);
    *resp.status_mut() = status;
    resp
}

/// A 200 response with an already rendered JSON body.
fn json_bytes(body: Vec<u8>) -> Resp {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

fn no_content() -> Resp {
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = StatusCode::NO_CONTENT;
    resp
}

/// Decrements the in-flight gauge however the request ends (even if the client goes away).
struct InFlight<'a>(&'a App);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.metrics.dec_in_flight();
    }
}

/// The hyper service: answers one request and records it in the metrics.
pub(crate) async fn handle(app: Arc<App>, req: Request<Incoming>) -> Result<Resp, Infallible> {
    let started = Instant::now();
    app.metrics.inc_in_flight();
    let _guard = InFlight(&app);
    let method = req.method().clone();
    let (route, result) = dispatch(&app, req).await;
    let resp = result.unwrap_or_else(ApiError::into_response);
    let (status, elapsed) = (resp.status().as_u16(), started.elapsed());
    app.metrics.record(route, status, elapsed);
    tracing::debug!(%method, route, status, micros = elapsed.as_micros() as u64, "request");
    Ok(resp)
}

/// What a request asks for: one variant per (route, method) pair of [`ROUTES`]. Dispatch is an
/// exhaustive `match` on it, so a route without a handler does not compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    CreateUser,
    Follow,
    Unfollow,
    HomeTimeline,
    UserTimeline,
    PostTweet,
    GetTweet,
    Like,
    Healthz,
    Metrics,
}

/// One path template (`{name}` segments match one path segment each) and its methods.
struct Route {
    template: &'static str,
    methods: &'static [(&'static str, Endpoint)],
}

/// The one route table of the API (SPEC section 6): what is not here is a 404.
const ROUTES: &[Route] = &[
    Route {
        template: "/users",
        methods: &[("POST", Endpoint::CreateUser)],
    },
    Route {
        template: "/users/{id}/follows/{target}",
        methods: &[("PUT", Endpoint::Follow), ("DELETE", Endpoint::Unfollow)],
    },
    Route {
        template: "/users/{id}/timeline",
        methods: &[("GET", Endpoint::HomeTimeline)],
    },
    Route {
        template: "/users/{id}/tweets",
        methods: &[("GET", Endpoint::UserTimeline)],
    },
    Route {
        template: "/tweets",
        methods: &[("POST", Endpoint::PostTweet)],
    },
    Route {
        template: "/tweets/{id}",
        methods: &[("GET", Endpoint::GetTweet)],
    },
    Route {
        template: "/tweets/{id}/likes/{user_id}",
        methods: &[("PUT", Endpoint::Like)],
    },
    Route {
        template: "/healthz",
        methods: &[("GET", Endpoint::Healthz)],
    },
    Route {
        template: "/metrics",
        methods: &[("GET", Endpoint::Metrics)],
    },
];

impl Route {
    /// The path's values of the template's `{...}` segments (at most two), if the path matches.
    fn captures<'p>(&self, segments: &[&'p str]) -> Option<[&'p str; 2]> {
        let mut parts = self.template.trim_start_matches('/').split('/');
        let (mut params, mut n) = ([""; 2], 0);
        for &seg in segments {
            let part = parts.next()?;
            if part.starts_with('{') {
                *params.get_mut(n)? = seg;
                n += 1;
            } else if part != seg {
                return None;
            }
        }
        parts.next().is_none().then_some(params)
    }

    /// The `Allow` header value: the route's methods.
    fn allow(&self) -> String {
        let names: Vec<&str> = self.methods.iter().map(|(m, _)| *m).collect();
        names.join(", ")
    }
}

/// Finds the route of the path, then the endpoint of the method, then runs it.
async fn dispatch(app: &App, req: Request<Incoming>) -> (&'static str, Result<Resp, ApiError>) {
    let path = req.uri().path().to_owned();
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(&path).split('/').collect();
    let Some((route, params)) = ROUTES
        .iter()
        .find_map(|r| Some((r, r.captures(&segments)?)))
    else {
        let msg = format!("no route for {path}; see the API in docs/server.md");
        return ("unmatched", Err(ApiError::new(StatusCode::NOT_FOUND, msg)));
    };
    let method = req.method().clone();
    let Some(&(_, endpoint)) = route.methods.iter().find(|(m, _)| *m == method.as_str()) else {
        let allow = route.allow();
        let msg = format!(
            "method {method} is not allowed on {}; use {allow}",
            route.template
        );
        let mut err = ApiError::new(StatusCode::METHOD_NOT_ALLOWED, msg);
        err.allow = Some(allow);
        return (route.template, Err(err));
    };
    (route.template, run(app, endpoint, &params, req).await)
}

/// Runs one endpoint with the path parameters of its template, in template order.
async fn run(
    app: &App,
    endpoint: Endpoint,
    params: &[&str; 2],
    req: Request<Incoming>,
) -> Result<Resp, ApiError> {
    let param = |i: usize| params[i];
    match endpoint {
        Endpoint::CreateUser => create_user(app, req).await,
        Endpoint::Follow => follow(app, param(0), param(1), true).await,
        Endpoint::Unfollow => follow(app, param(0), param(1), false).await,
        Endpoint::HomeTimeline => timeline(app, param(0), req.uri().query(), true),
        Endpoint::UserTimeline => timeline(app, param(0), req.uri().query(), false),
        Endpoint::PostTweet => post_tweet(app, req).await,
        Endpoint::GetTweet => get_tweet(app, param(0)),
        Endpoint::Like => like(app, param(0), param(1)).await,
        Endpoint::Healthz => Ok(json(StatusCode::OK, &serde_json::json!({"status": "ok"}))),
        Endpoint::Metrics => Ok(metrics(app)),
    }
}

fn get_tweet(app: &App, id: &str) -> Result<Resp, ApiError> {
    let id = parse_id(id, "tweet id")?;
    Ok(json_bytes(app.tweet_json(id)?))
}

/// Parses a path id: a positive decimal u64.
fn parse_id(raw: &str, what: &str) -> Result<u64, ApiError> {
    let ok = !raw.is_empty() && raw.len() <= 20 && raw.bytes().all(|b| b.is_ascii_digit());
    match raw.parse::<u64>() {
        Ok(id) if ok && id > 0 => Ok(id),
        _ => Err(ApiError::bad_request(format!(
            "bad {what} {raw:?} in the path; use a positive integer such as 1"
        ))),
    }
}

/// Reads a body of at most `max_body_bytes`, refusing larger ones with 413.
async fn read_body(app: &App, req: Request<Incoming>) -> Result<Bytes, ApiError> {
    let max = app.config.max_body_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body is over the limit of {max} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max as u64) {
        return Err(too_large());
    }
    match Limited::new(req.into_body(), max).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(too_large()),
        Err(e) => Err(ApiError::bad_request(format!(
            "could not read the request body: {e}"
        ))),
    }
}

/// Parses a JSON body: 400 when it is not JSON, 422 when a field is missing or mistyped.
fn parse_json<'a, T: Deserialize<'a>>(body: &'a [u8], example: &str) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            ApiError::invalid(format!("invalid body: {e}; expected {example}"))
        } else {
            ApiError::bad_request(format!("malformed JSON body: {e}; expected {example}"))
        }
    })
}

async fn create_user(app: &App, req: Request<Incoming>) -> Result<Resp, ApiError> {
    #[derive(Deserialize)]
    struct NewUser {
        name: String,
    }
    let body = read_body(app, req).await?;
    let new: NewUser = parse_json(&body, r#"{"name": "alice"}"#)?;
    let chars = new.name.chars().count();
    if new.name.trim().is_empty() || chars > MAX_NAME_CHARS {
        return Err(ApiError::invalid(format!(
            "name has {chars} characters; use 1 to {MAX_NAME_CHARS} non-blank characters"
        )));
    }
    let id = app.create_user(&new.name).await?;
    Ok(json(StatusCode::CREATED, &serde_json::json!({ "id": id })))
}

async fn follow(app: &App, id: &str, target: &str, add: bool) -> Result<Resp, ApiError> {
    let (id, target) = (
        parse_id(id, "user id")?,
        parse_id(target, "target user id")?,
    );
    app.follow(id, target, add).await?;
    Ok(no_content())
}

async fn post_tweet(app: &App, req: Request<Incoming>) -> Result<Resp, ApiError> {
    #[derive(Deserialize)]
    struct NewTweet {
        user_id: u64,
        text: String,
    }
    #[derive(Serialize)]
    struct Created {
        id: u64,
        user_id: u64,
        created_at: Rfc3339,
    }
    let body = read_body(app, req).await?;
    let new: NewTweet = parse_json(&body, r#"{"user_id": 1, "text": "hello"}"#)?;
    let chars = new.text.chars().count();
    if new.text.trim().is_empty() || chars > MAX_TWEET_CHARS {
        return Err(ApiError::invalid(format!(
            "text has {chars} characters; use 1 to {MAX_TWEET_CHARS} characters, not all blank"
        )));
    }
    let t = app.post_tweet(new.user_id, &new.text).await?;
    let created = Created {
        id: t.id,
        user_id: t.user_id,
        created_at: Rfc3339(t.created_ms),
    };
    Ok(json(StatusCode::CREATED, &created))
}

async fn like(app: &App, tweet: &str, user: &str) -> Result<Resp, ApiError> {
    let (tweet, user) = (parse_id(tweet, "tweet id")?, parse_id(user, "user id")?);
    app.like(tweet, user).await?;
    Ok(no_content())
}

/// Timeline query: `limit` (1..=MAX_LIMIT, default 20) and `before` (a tweet id).
fn parse_query(query: Option<&str>) -> Result<(usize, Option<u64>), ApiError> {
    let (mut limit, mut before) = (DEFAULT_LIMIT, None);
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let digits =
            !value.is_empty() && value.len() <= 20 && value.bytes().all(|b| b.is_ascii_digit());
        match key {
            "limit" => {
                limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|&l| digits && (1..=MAX_LIMIT).contains(&l))
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "bad limit {value:?}; use an integer from 1 to {MAX_LIMIT}"
                        ))
                    })?;
            }
            "before" => {
                let id = value
                    .parse::<u64>()
                    .ok()
                    .filter(|_| digits)
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "bad before {value:?}; use a tweet id, as given in `next`"
                        ))
                    })?;
                before = Some(id);
            }
            _ => {}
        }
    }
    Ok((limit, before))
}

fn timeline(app: &App, id: &str, query: Option<&str>, home: bool) -> Result<Resp, ApiError> {
    let id = parse_id(id, "user id")?;
    let (limit, before) = parse_query(query)?;
    Ok(json_bytes(app.timeline_json(id, before, limit, home)?))
}

fn metrics(app: &App) -> Resp {
    let text = app.metrics_text();
    let mut resp = Response::new(Full::new(Bytes::from(text)));
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_route_table_has_unique_templates_and_endpoints() {
        let mut templates: Vec<&str> = ROUTES.iter().map(|r| r.template).collect();
        let mut endpoints: Vec<String> = ROUTES
            .iter()
            .flat_map(|r| r.methods.iter().map(|(_, e)| format!("{e:?}")))
            .collect();
        let (t, e) = (templates.len(), endpoints.len());
        templates.sort_unstable();
        templates.dedup();
        endpoints.sort_unstable();
        endpoints.dedup();
        assert_eq!((templates.len(), endpoints.len()), (t, e));
        assert!(ROUTES.iter().all(|r| r.template.matches('{').count() <= 2));
    }

    #[test]
    fn templates_capture_their_parameters() {
        let follows = &ROUTES[1];
        assert_eq!(
            follows.captures(&["users", "7", "follows", "9"]),
            Some(["7", "9"])
        );
        assert_eq!(follows.captures(&["users", "7", "follows"]), None);
        assert_eq!(follows.captures(&["users", "7", "follows", "9", "x"]), None);
        assert_eq!(ROUTES[0].captures(&["users"]), Some(["", ""]));
        assert_eq!(ROUTES[0].captures(&["metrics"]), None);
        assert_eq!(follows.allow(), "PUT, DELETE");
    }
}
