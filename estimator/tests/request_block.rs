//! `request:` blocks: the one validator. Every bad method, path, header, template, capture or
//! status is a scenario error at `file:line:column` with the field path; a good block comes out
//! typed and compiled (what `napkin load` renders).

use estimator::*;

const HEAD: &str = "name: t\nactions:\n  - name: post\n    per_day: 10\n    request:\n";
const KEYS: &str = "load:\n  keys:\n    user: {count: 10}\n";

/// `HEAD` + `request` (the block's lines, indented 6) + `KEYS`.
fn scenario(request: &str) -> Result<Scenario, ScenarioError> {
    parse_str(&format!("{HEAD}{request}{KEYS}"), "s.yaml", &[])
}

/// The error of a bad block: `s.yaml:LINE:COL: FIELD: MESSAGE`.
fn error(request: &str) -> String {
    scenario(request).unwrap_err().to_string()
}

#[test]
fn template_errors_name_file_position_field_and_action() {
    for (path, want) in [
        (
            "/users/{{usr}}",
            "unknown template name `usr` in `{{usr}}`; known names: user (key space); also text \
             N, int A B, seq. Add a key space under `load.keys` or a `capture:` that fills pool \
             `usr` (at character 8 of the value)",
        ),
        ("/users/{{user", "unbalanced braces"),
        ("/users/{{user}", "unbalanced braces"),
        ("/users/{{{user}}", "unbalanced braces"),
        ("/x?t={{text 0}}", "from 1 to 65536"),
        ("/x?t={{text x}}", "from 1 to 65536"),
        ("/x?t={{text}}", "needs one length"),
        ("/x?n={{int 5 1}}", "must not exceed"),
        ("/x?n={{int 1}}", "two bounds"),
        ("/x?n={{int x y}}", "whole numbers"),
        ("/x/{{}}", "empty template"),
        ("/x/{{user 3}}", "takes no arguments"),
        ("/x/{{seq 3}}", "takes no arguments"),
    ] {
        let err = error(&format!("      method: GET\n      path: '{path}'\n"));
        assert!(
            err.starts_with("s.yaml:7:13: actions[0].request.path: action `post`: "),
            "{path}: {err}"
        );
        assert!(err.contains(want), "{path}: want `{want}` in `{err}`");
    }
}

#[test]
fn body_and_header_templates_point_at_their_own_field() {
    // A block scalar is placed at its first line of text.
    let err =
        error("      method: POST\n      path: /t\n      body: |\n        {\"a\": {{text 0}}}\n");
    assert!(
        err.starts_with("s.yaml:9:9: actions[0].request.body: action `post`: `{{text 0}}`"),
        "{err}"
    );
    // The field path keeps the header's key as written (its case too), so it is found.
    let err =
        error("      method: GET\n      path: /t\n      headers:\n        X-User: 'u{{usr}}'\n");
    assert!(
        err.starts_with("s.yaml:9:17: actions[0].request.headers.X-User: action `post`: unknown template name `usr`"),
        "{err}"
    );
    assert!(err.contains("(at character 2 of the value)"), "{err}");
}

#[test]
fn a_template_in_an_aliased_block_points_at_the_anchor() {
    let text = "name: t\nactions:\n  - name: a\n    per_day: 1\n    request:\n      method: GET\n      path: /a\n      headers: &h {x-id: '{{nope}}'}\n  - name: b\n    per_day: 1\n    request: {method: GET, path: /b, headers: *h}\n";
    let e = parse_str(text, "s.yaml", &[]).unwrap_err();
    // The first use fails first; both uses resolve to the anchored node.
    assert_eq!(e.field.as_deref(), Some("actions[0].request.headers.x-id"));
    assert_eq!((e.line, e.column), (Some(8), Some(26)), "{e}");
}

#[test]
fn a_template_from_set_is_placed_at_the_flag() {
    let text = format!("{HEAD}      method: GET\n      path: /users/{{{{user}}}}\n{KEYS}");
    let set = Override::parse("actions.post.request.path=/users/{{usr}}").unwrap();
    let e = parse_str(&text, "s.yaml", &[set]).unwrap_err();
    assert!(
        e.to_string().starts_with(
            "--set actions.post.request.path=/users/{{usr}}: actions[0].request.path: action \
             `post`: unknown template name `usr`"
        ),
        "{e}"
    );
}

#[test]
fn other_request_fields_are_checked_where_they_are_written() {
    for (block, want) in [
        (
            "      method: G ET\n      path: /\n",
            "s.yaml:6:15: actions[0].request.method: `G ET` is not an HTTP method; use e.g. GET",
        ),
        (
            "      method: GET\n      path: users\n",
            "s.yaml:7:13: actions[0].request.path: `users` does not start with `/`",
        ),
        (
            "      method: GET\n      path: /\n      headers: {'a(b': x}\n",
            "s.yaml:8:17: actions[0].request.headers.a(b: `a(b` is not a valid header name; use \
             letters, digits and -",
        ),
        (
            "      method: GET\n      path: /\n      headers: {x-a: \"1\\u0001\"}\n",
            "s.yaml:8:22: actions[0].request.headers.x-a: `1\u{1}` holds characters not allowed in \
             a header value",
        ),
        (
            "      method: GET\n      path: /\n      capture: {user: id}\n",
            "s.yaml:8:17: actions[0].request.capture.user: capture pool `user` has the name of a \
             key space in `load.keys`",
        ),
        (
            "      method: GET\n      path: /\n      capture: {'a b': id}\n",
            "s.yaml:8:24: actions[0].request.capture.a b: `a b` is not a valid pool name",
        ),
        (
            "      method: GET\n      path: /\n      capture: {tweet: ''}\n",
            "s.yaml:8:24: actions[0].request.capture.tweet: name the response JSON field",
        ),
        (
            "      method: GET\n      path: /\n      expect: [201, 700]\n",
            "s.yaml:8:21: actions[0].request.expect[1]: `700` is not an HTTP status",
        ),
    ] {
        let err = error(block);
        assert!(err.starts_with(want), "want `{want}`, got `{err}`");
    }
}

#[test]
fn a_good_block_comes_out_typed_and_compiled() {
    let s = scenario(
        "      method: post\n      path: /u/{{user}}/items?s={{seq}}\n      headers: {Content-Type: application/json, X-Id: 'i{{item}}'}\n      body: '{\"n\": {{int -2 7}}}'\n      capture: {item: data.id, other: id}\n      expect: [201, 202]\n  - name: get\n    per_day: 5\n    request: {method: GET, path: '/items/{{item}}/{{other}}', capture: {item: id}}\n",
    )
    .unwrap();
    assert_eq!(s.load.pools, ["item", "other"]);
    let post = s.actions[0].request.as_ref().unwrap();
    assert_eq!(post.method, Method::POST);
    assert_eq!(
        post.path.segments(),
        [
            Segment::Literal(0, 3),
            Segment::Key(0),
            Segment::Literal(11, 20),
            Segment::Seq
        ]
    );
    assert_eq!(post.headers[0].0, HeaderName::from_static("content-type"));
    assert_eq!(
        post.headers[0].1,
        HeaderPart::Fixed(HeaderValue::from_static("application/json"))
    );
    assert_eq!(post.headers[1].0.as_str(), "x-id");
    let HeaderPart::Template(id) = &post.headers[1].1 else {
        panic!("{:?}", post.headers[1].1)
    };
    assert_eq!(id.segments()[1], Segment::Pool(0));
    assert_eq!(
        post.body.as_ref().unwrap().segments()[1],
        Segment::Int(-2, 7)
    );
    assert_eq!(
        post.capture,
        [
            Capture {
                pool: 0,
                field: vec!["data".into(), "id".into()]
            },
            Capture {
                pool: 1,
                field: vec!["id".into()]
            }
        ]
    );
    assert_eq!(post.expect, [201, 202]);
    assert_eq!(post.pools_drawn(), [0]);
    let get = s.actions[1].request.as_ref().unwrap();
    assert_eq!(get.pools_drawn(), [0, 1]);
    assert_eq!(get.capture[0].pool, 0);
}

#[test]
fn estimate_rejects_a_bad_template_like_any_bad_field() {
    // The estimate ignores requests, but a scenario is validated whole, as with `load:`.
    let e = scenario("      method: GET\n      path: /x/{{nope}}\n").unwrap_err();
    assert_eq!(e.field.as_deref(), Some("actions[0].request.path"));
}
