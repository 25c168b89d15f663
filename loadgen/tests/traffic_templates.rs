//! Scenarios whose `request:` blocks the estimator accepts but whose traffic cannot run are
//! build errors that name the action; bad templates and request blocks never reach the load
//! generator (the estimator rejects them with their file position: estimator/tests/
//! request_block.rs).

mod traffic_common;

use loadgen::traffic::TrafficError;
use traffic_common::*;

#[test]
fn bad_templates_are_the_estimators_errors_with_action_and_field() {
    let err = try_scenario(
        vec![action(
            "post_tweet",
            1.0,
            request("GET", "/users/{{usr}}", None),
        )],
        vec![zipf("user", 10, 1.0)],
    )
    .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("actions[0].request.path"));
    assert!(err.line.is_some() && err.column.is_some(), "{err:?}");
    assert!(
        err.message
            .starts_with("action `post_tweet`: unknown template name `usr`"),
        "{err}"
    );
    assert!(err.message.contains("at character 8"), "{err}");
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
        let mut s = scenario(vec![action("a", 1.0, req())], vec![uniform("user", 10)]);
        s.load.keys = vec![space];
        let err = source(&s).unwrap_err();
        assert!(matches!(err, TrafficError::Scenario(_)), "{err}");
        assert!(err.to_string().contains("`load.keys.user`"), "{err}");
    }
}

#[test]
fn requests_naming_key_spaces_or_pools_the_scenario_lacks_are_caught() {
    let mut s = scenario(
        vec![action("a", 1.0, request("GET", "/users/{{user}}", None))],
        vec![uniform("user", 10)],
    );
    s.load.keys.clear();
    let err = source(&s).unwrap_err().to_string();
    assert!(
        err.starts_with("action `a`: the request names a key space or capture pool"),
        "{err}"
    );
}

#[test]
fn pools_must_be_filled_and_some_traffic_must_go_first() {
    let like = || request("PUT", "/tweets/{{tweet}}/likes/1", None);
    // Nobody captures `tweet`: the name is unknown (the estimator says so).
    let err = try_scenario(vec![action("like", 1.0, like())], vec![])
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
fn a_scenario_without_traffic_is_an_error() {
    let mut no_request = action("a", 1.0, request("GET", "/", None));
    no_request.request = None;
    let err = source(&scenario(vec![no_request], vec![]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no action with a `request:` block"), "{err}");
    let err = source(&scenario(
        vec![action("a", 0.0, request("GET", "/", None))],
        vec![],
    ))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("every action with a `request:` block has 0 requests/day"),
        "{err}"
    );
}
