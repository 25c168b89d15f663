//! Bad templates and scenarios are build errors that name the action, the field and where it
//! sits in the file.

mod traffic_common;

use loadgen::traffic::TrafficError;
use traffic_common::*;

fn build_err(path: &str, body: Option<&str>) -> String {
    let mut req = request("POST", path, body);
    req.locations
        .insert("request.path".into(), "twitter.yaml:12:13".into());
    req.locations
        .insert("request.body".into(), "twitter.yaml:14:13".into());
    let s = scenario(
        vec![action("post_tweet", 1.0, req)],
        vec![zipf("user", 10, 1.0)],
    );
    source(&s).unwrap_err().to_string()
}

#[test]
fn unknown_name_points_at_action_field_and_file() {
    let err = build_err("/users/{{usr}}", None);
    assert!(
        err.starts_with("twitter.yaml:12:13: action `post_tweet`, field `request.path`: "),
        "{err}"
    );
    assert!(err.contains("unknown template name `usr`"), "{err}");
    assert!(err.contains("known names: user (key space)"), "{err}");
    assert!(err.contains("at character 8"), "{err}");
}

#[test]
fn malformed_templates_are_errors() {
    for (body, want) in [
        (r#"{"user_id": {{user}"#, "unbalanced braces"),
        (r#"{"user_id": {{user"#, "unbalanced braces"),
        (r#"{"text": "{{text 0}}"}"#, "from 1 to"),
        (r#"{"n": {{int 9 1}}}"#, "must not exceed"),
        (r#"{"n": {{int 1}}}"#, "two bounds"),
        (r#"{"n": {{int x y}}}"#, "whole numbers"),
    ] {
        let err = build_err("/tweets", Some(body));
        assert!(
            err.starts_with("twitter.yaml:14:13: action `post_tweet`, field `request.body`: "),
            "{err}"
        );
        assert!(err.contains(want), "{body}: {err}");
    }
}

#[test]
fn key_spaces_the_parser_should_reject_are_still_caught() {
    let req = || request("GET", "/users/{{user}}", None);
    for space in [
        zipf("user", 0, 1.0),
        zipf("user", 10, 0.0),
        zipf("user", 10, -1.0),
        uniform("user", 0),
    ] {
        let err = source(&scenario(vec![action("a", 1.0, req())], vec![space])).unwrap_err();
        assert!(matches!(err, TrafficError::Scenario(_)), "{err}");
        assert!(err.to_string().contains("`load.keys.user`"), "{err}");
    }
}

#[test]
fn pools_must_be_filled_and_some_traffic_must_go_first() {
    let like = || request("PUT", "/tweets/{{tweet}}/likes/1", None);
    // Nobody captures `tweet`: the name is unknown.
    let err = source(&scenario(vec![action("like", 1.0, like())], vec![]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown template name `tweet`"), "{err}");
    // Only the drawing action captures: it can never start.
    let mut selfish = like();
    selfish.capture = vec![("tweet".into(), "id".into())];
    let err = source(&scenario(vec![action("like", 1.0, selfish)], vec![]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("every action draws from a capture pool"),
        "{err}"
    );
    // The capturing action has no traffic.
    let mut post = request("POST", "/tweets", None);
    post.capture = vec![("tweet".into(), "id".into())];
    let s = scenario(
        vec![
            action("post", 0.0, post),
            action("like", 1.0, like()),
            action("read", 1.0, request("GET", "/", None)),
        ],
        vec![],
    );
    let err = source(&s).unwrap_err().to_string();
    assert!(
        err.contains("action `like`: uses `{{tweet}}` but no action with a positive rate captures"),
        "{err}"
    );
}

#[test]
fn bad_request_blocks_are_errors() {
    let s = scenario(
        vec![action("a", 1.0, request("GET", "users", None))],
        vec![],
    );
    assert!(source(&s)
        .unwrap_err()
        .to_string()
        .contains("must start with `/`"));
    let s = scenario(vec![action("a", 1.0, request("G ET", "/", None))], vec![]);
    assert!(source(&s)
        .unwrap_err()
        .to_string()
        .contains("not an HTTP method"));
    let mut no_request = action("a", 1.0, request("GET", "/", None));
    no_request.request = None;
    let err = source(&scenario(vec![no_request], vec![]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no action with a `request:` block"), "{err}");
    let mut clash = request("POST", "/", None);
    clash.capture = vec![("user".into(), "id".into())];
    let s = scenario(vec![action("a", 1.0, clash)], vec![uniform("user", 3)]);
    assert!(source(&s)
        .unwrap_err()
        .to_string()
        .contains("has the name of a key space"));
}
