//! Every endpoint, status code and error path of the Event Store API,
//! in-process (`tower::ServiceExt::oneshot` on the router).

#![cfg(feature = "store")]
#![allow(clippy::unwrap_used)]

#[path = "store_common.rs"]
mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use common::{code, diagnostics, request, send, state, state_with};
use flow_runtime::store::extract::BODY_LIMIT;
use flow_runtime::store::live::RecordingRoutes;
use serde_json::{json, Value};

#[tokio::test]
async fn healthz_needs_no_token_everything_else_does() {
    let (s, _) = state().await;
    let req = Request::get("/healthz").body(Body::empty()).unwrap();
    assert_eq!(send(&s, req).await.0, 200);
    for (method, uri) in [
        ("GET", "/events"),
        ("GET", "/flows"),
        ("GET", "/event/Ping"),
        ("GET", "/openapi.json"),
        ("DELETE", "/flow/Main"),
    ] {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::empty())
            .unwrap();
        let (status, body, parts) = send(&s, req).await;
        assert_eq!(
            (status, code(&body)),
            (401, "unauthorized"),
            "{method} {uri}"
        );
        assert!(parts.headers().contains_key("www-authenticate"));
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", "Bearer test-tokeN")
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(&s, req).await.0, 401);
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", "test-token")
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(&s, req).await.0, 401);
    }
}

#[tokio::test]
async fn lists_events_with_routes_consumers_and_pages() {
    let (s, _) = state().await;
    let (status, body, _) = send(&s, request("GET", "/events", None)).await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["Ping", "PingA", "PingB"]);
    assert_eq!(body["items"][0]["consumers"], json!(["A"]));
    assert_eq!(body["items"][0]["routes"][0]["name"], "PingToA");
    assert_eq!(body["items"][0]["routes_version"], 1);
    assert_eq!(body["items"][2]["routes_version"], 0);
    assert!(body.get("next_token").is_none());

    let mut seen = Vec::new();
    let mut uri = "/events?limit=1".to_string();
    loop {
        let (status, body, _) = send(&s, request("GET", &uri, None)).await;
        assert_eq!(status, 200);
        assert_eq!(body["items"].as_array().unwrap().len(), 1);
        seen.push(body["items"][0]["id"].as_str().unwrap().to_string());
        match body["next_token"].as_str() {
            Some(t) => uri = format!("/events?limit=1&next_token={t}"),
            None => break,
        }
    }
    assert_eq!(seen, ["Ping", "PingA", "PingB"]);
}

#[tokio::test]
async fn bad_pagination_is_400() {
    let (s, _) = state().await;
    for uri in [
        "/events?limit=0",
        "/events?limit=1001",
        "/events?limit=abc",
        "/events?limit=-1",
        "/flows?next_token=zz",
        "/flows?next_token=n1zz",
        "/events?next_token=n12e2e",
        "/events?colour=red",
        "/events?limit=99999999999999999999999",
    ] {
        let (status, body, _) = send(&s, request("GET", uri, None)).await;
        assert_eq!(status, 400, "{uri}: {body}");
        assert!(
            ["invalid_query", "invalid_next_token"].contains(&code(&body)),
            "{uri}: {body}"
        );
    }
}

#[tokio::test]
async fn gets_one_event_with_etag() {
    let (s, _) = state().await;
    let (status, body, parts) = send(&s, request("GET", "/event/PingA", None)).await;
    assert_eq!(status, 200);
    assert_eq!(body["detail_type"], "ping.a");
    assert_eq!(body["emitted_by"], "A");
    assert_eq!(body["consumers"], json!(["C"]));
    assert_eq!(parts.headers()["etag"], "\"1\"");
    let (status, body, _) = send(&s, request("GET", "/event/Nope", None)).await;
    assert_eq!((status, code(&body)), (404, "unknown_event"));
    for bad in [
        "/event/..",
        "/event/.hidden",
        "/event/a%2Fb",
        "/event/%FF",
        "/event/a%20b",
        &format!("/event/{}", "x".repeat(200)),
    ] {
        let (status, body, _) = send(&s, request("GET", bad, None)).await;
        assert_eq!((status, code(&body)), (400, "invalid_id"), "{bad}");
    }
}

fn ping_c(version: Option<u64>) -> Value {
    let mut v = json!({"name": "PingC", "source": "t.src", "detail_type": "ping.c", "schema": {"type": "object"}});
    if let Some(n) = version {
        v["version"] = json!(n);
    }
    v
}

#[tokio::test]
async fn put_event_creates_updates_and_checks_versions() {
    let (s, _) = state().await;
    let (status, body, _) = send(&s, request("PUT", "/event/PingC", Some(ping_c(None)))).await;
    assert_eq!(
        (status, body["version"].as_u64(), body["changed"].as_bool()),
        (201, Some(1), Some(true))
    );
    let (status, body, _) = send(&s, request("PUT", "/event/PingC", Some(ping_c(None)))).await;
    assert_eq!((status, body["changed"].as_bool()), (200, Some(false)));
    let mut changed = ping_c(None);
    changed["detail_type"] = json!("ping.cc");
    let (status, body, _) = send(&s, request("PUT", "/event/PingC", Some(changed.clone()))).await;
    assert_eq!(
        (
            status,
            code(&body),
            body["error"]["current_version"].as_u64()
        ),
        (428, "version_required", Some(1))
    );
    let mut stale = request("PUT", "/event/PingC", Some(changed.clone()));
    stale
        .headers_mut()
        .insert("if-match", "\"7\"".parse().unwrap());
    let (status, body, _) = send(&s, stale).await;
    assert_eq!(
        (
            status,
            code(&body),
            body["error"]["current_version"].as_u64()
        ),
        (409, "version_conflict", Some(1))
    );
    let mut bad = request("PUT", "/event/PingC", Some(changed.clone()));
    bad.headers_mut()
        .insert("if-match", "seven".parse().unwrap());
    assert_eq!(code(&send(&s, bad).await.1), "invalid_version");
    let mut disagree = request(
        "PUT",
        "/event/PingC",
        Some({
            let mut c = changed.clone();
            c["version"] = json!(2);
            c
        }),
    );
    disagree
        .headers_mut()
        .insert("if-match", "1".parse().unwrap());
    assert_eq!(code(&send(&s, disagree).await.1), "invalid_version");
    let mut ok = request("PUT", "/event/PingC", Some(changed.clone()));
    ok.headers_mut()
        .insert("if-match", "W/\"1\"".parse().unwrap());
    let (status, body, parts) = send(&s, ok).await;
    assert_eq!((status, body["version"].as_u64()), (200, Some(2)));
    assert_eq!(parts.headers()["etag"], "\"2\"");
    let mut via_field = ping_c(Some(2));
    via_field["detail_type"] = json!("ping.c3");
    assert_eq!(
        send(&s, request("PUT", "/event/PingC", Some(via_field)))
            .await
            .0,
        200
    );
    let (status, body, _) = send(&s, request("PUT", "/event/Other", Some(ping_c(None)))).await;
    assert_eq!((status, code(&body)), (422, "id_mismatch"));
}

#[tokio::test]
async fn flows_list_get_create_delete() {
    let (s, _) = state().await;
    let (status, body, _) = send(&s, request("GET", "/flows", None)).await;
    assert_eq!(status, 200);
    assert_eq!(body["items"][0]["id"], "Main");
    assert_eq!(body["items"][0]["nodes"], json!(["A", "C"]));
    assert_eq!(body["items"][0]["routes"], json!(["PingAToC", "PingToA"]));
    assert_eq!(body["items"][0]["origin"], "t.flow:1:1");
    let (status, body, parts) = send(&s, request("GET", "/flow/Main", None)).await;
    assert_eq!(
        (status, body["steps"].clone()),
        (200, json!(["Ping", "A", "PingA", "C"]))
    );
    assert_eq!(parts.headers()["etag"], "\"1\"");
    assert_eq!(
        code(&send(&s, request("GET", "/flow/Nope", None)).await.1),
        "unknown_flow"
    );

    let flow = json!({"name": "Side", "steps": ["Ping", "B", "PingB"]});
    let (status, body, parts) = send(&s, request("POST", "/flow", Some(flow.clone()))).await;
    assert_eq!((status, body["id"].as_str()), (201, Some("Side")));
    assert_eq!(parts.headers()["location"], "/flow/Side");
    let (status, body, _) = send(&s, request("GET", "/flow/Side", None)).await;
    assert_eq!((status, body["origin"].as_str()), (200, Some("api")));
    let (status, body, _) = send(&s, request("POST", "/flow", Some(flow))).await;
    assert_eq!((status, code(&body)), (409, "flow_exists"));

    let mut stale = request("DELETE", "/flow/Side", None);
    stale
        .headers_mut()
        .insert("if-match", "\"5\"".parse().unwrap());
    assert_eq!(send(&s, stale).await.0, 409);
    let (status, body, _) = send(&s, request("DELETE", "/flow/Side", None)).await;
    assert_eq!((status, body), (204, Value::Null));
    let (status, body, _) = send(&s, request("DELETE", "/flow/Side", None)).await;
    assert_eq!((status, code(&body)), (404, "unknown_flow"));
}

#[tokio::test]
async fn invalid_flows_carry_the_compilers_codes() {
    let (s, _) = state().await;
    let cases = [
        (
            json!({"name": "F", "steps": ["Ping", "Nowhere"]}),
            vec!["E012"],
        ),
        (json!({"name": "F", "steps": ["Ghost", "D"]}), vec!["E011"]),
        (json!({"name": "F", "steps": ["Ping", "C"]}), vec!["E036"]),
        (
            json!({"name": "F", "steps": ["Ping", "PingA"]}),
            vec!["E036"],
        ),
        (json!({"name": "F", "steps": ["A", "PingB"]}), vec!["E036"]),
        (
            json!({"name": "F", "steps": ["Ping", "A", "PingA", "C", "Ping"]}),
            vec!["E030"],
        ),
        (json!({"name": "F", "steps": ["Ping"]}), vec!["E036"]),
        (
            json!({"name": "../F", "steps": ["Ping", "A"]}),
            vec!["invalid_id"],
        ),
    ];
    for (flow, codes) in cases {
        let (status, body, _) = send(&s, request("POST", "/flow", Some(flow.clone()))).await;
        assert_eq!((status, code(&body)), (422, "invalid_flow"), "{flow}");
        assert_eq!(diagnostics(&body), codes, "{flow}: {body}");
    }
}

#[tokio::test]
async fn bodies_are_checked_before_anything_else() {
    let (s, _) = state().await;
    let raw = |body: Vec<u8>, ct: Option<&str>| {
        let mut b = Request::post("/flow").header("authorization", "Bearer test-token");
        if let Some(ct) = ct {
            b = b.header("content-type", ct);
        }
        b.body(Body::from(body)).unwrap()
    };
    let cases: Vec<(Request<Body>, u16, &str)> = vec![
        (
            raw(b"{\"name\": ".to_vec(), Some("application/json")),
            400,
            "malformed_json",
        ),
        (
            raw(
                b"{\"name\": \"x\", \"steps\": [\"a\", ".to_vec(),
                Some("application/json"),
            ),
            400,
            "malformed_json",
        ),
        (
            raw(vec![0xff, 0xfe, b'{', b'}'], Some("application/json")),
            400,
            "malformed_json",
        ),
        (
            raw(b"{\"name\": \"\xff\"}".to_vec(), Some("application/json")),
            400,
            "malformed_json",
        ),
        (
            raw(b"".to_vec(), Some("application/json")),
            400,
            "malformed_json",
        ),
        (
            raw(
                format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(),
                Some("application/json"),
            ),
            400,
            "invalid_body",
        ),
        (
            raw(
                b"{\"name\": \"F\", \"steps\": [], \"colour\": 1}".to_vec(),
                Some("application/json"),
            ),
            400,
            "unknown_field",
        ),
        (
            raw(
                b"{\"name\": 5, \"steps\": []}".to_vec(),
                Some("application/json"),
            ),
            400,
            "invalid_body",
        ),
        (
            raw(b"{\"steps\": []}".to_vec(), Some("application/json")),
            400,
            "invalid_body",
        ),
        (
            raw(b"[]".to_vec(), Some("application/json")),
            400,
            "invalid_body",
        ),
        (
            raw(b"{}".to_vec(), Some("text/plain")),
            415,
            "unsupported_media_type",
        ),
        (raw(b"{}".to_vec(), None), 415, "unsupported_media_type"),
        (
            raw(b"{}".to_vec(), Some("application/jsonx")),
            415,
            "unsupported_media_type",
        ),
        (
            raw(vec![b' '; BODY_LIMIT + 1], Some("application/json")),
            413,
            "body_too_large",
        ),
    ];
    for (req, status, expected) in cases {
        let (got, body, _) = send(&s, req).await;
        assert_eq!((got, code(&body)), (status, expected), "{body}");
    }
    // A declared Content-Length over the limit is refused before reading.
    let req = Request::post("/flow")
        .header("authorization", "Bearer test-token")
        .header("content-type", "application/json; charset=utf-8")
        .header("content-length", (BODY_LIMIT + 1).to_string())
        .body(Body::from("{}"))
        .unwrap();
    let (got, body, _) = send(&s, req).await;
    assert_eq!((got, code(&body)), (413, "body_too_large"));
    // Nothing was created by any of them.
    let (_, body, _) = send(&s, request("GET", "/flows", None)).await;
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
}

fn routes_body(routes: Value, version: Option<u64>) -> Value {
    let mut v = json!({ "routes": routes });
    if let Some(n) = version {
        v["version"] = json!(n);
    }
    v
}

#[tokio::test]
async fn post_route_replaces_routing_and_reaches_the_live_bus() {
    let (s, live) = state().await;
    let body = routes_body(
        json!([{"name": "PingToB", "targets": ["B"], "pattern": {"detail": {"data": {"n": [{"numeric": [">", 3]}]}}}}]),
        Some(1),
    );
    let (status, out, parts) = send(&s, request("POST", "/route/Ping", Some(body))).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["version"], 2);
    assert_eq!(parts.headers()["etag"], "\"2\"");
    assert_eq!(out["routes"][0]["pattern"]["source"], json!(["t.src"]));
    assert_eq!(out["routes"][0]["pattern"]["detail-type"], json!(["ping"]));
    let applied = live.applied.lock().unwrap().clone();
    assert_eq!(applied.len(), 1);
    assert_eq!(applied[0].0, "Ping");
    assert_eq!(applied[0].1[0].targets, ["B"]);
    let (_, event, _) = send(&s, request("GET", "/event/Ping", None)).await;
    assert_eq!(
        (event["consumers"].clone(), event["routes_version"].clone()),
        (json!(["B"]), json!(2))
    );

    // Stale version, no version, If-Match.
    let again = routes_body(json!([{"targets": ["A"]}]), Some(1));
    let (status, out, _) = send(&s, request("POST", "/route/Ping", Some(again))).await;
    assert_eq!(
        (status, code(&out), out["error"]["current_version"].as_u64()),
        (409, "version_conflict", Some(2))
    );
    let (status, out, _) = send(
        &s,
        request(
            "POST",
            "/route/Ping",
            Some(routes_body(json!([{"targets": ["A"]}]), None)),
        ),
    )
    .await;
    assert_eq!((status, code(&out)), (428, "version_required"));
    let mut with_header = request(
        "POST",
        "/route/Ping",
        Some(routes_body(json!([{"targets": ["A"]}]), None)),
    );
    with_header
        .headers_mut()
        .insert("if-match", "\"2\"".parse().unwrap());
    let (status, out, _) = send(&s, with_header).await;
    assert_eq!(
        (status, out["routes"][0]["name"].as_str()),
        (200, Some("Ping-1"))
    );
    // A first routing of an unrouted event needs no version (or version 0).
    let (status, _, _) = send(
        &s,
        request("POST", "/route/PingB", Some(routes_body(json!([]), None))),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(live.applied.lock().unwrap().len(), 3);
    let (status, out, _) = send(
        &s,
        request("POST", "/route/Nope", Some(routes_body(json!([]), None))),
    )
    .await;
    assert_eq!((status, code(&out)), (404, "unknown_event"));
}

#[tokio::test]
async fn invalid_routes_are_422_with_codes_and_change_nothing() {
    let (s, live) = state().await;
    let cases = [
        (json!([{"targets": ["Nobody"]}]), vec!["E012"]),
        (json!([{"targets": ["C"]}]), vec!["E031"]),
        (json!([{"targets": []}]), vec!["E031"]),
        (json!([{"targets": ["A", "A"]}]), vec!["E017"]),
        (
            json!([{"targets": ["A"], "pattern": {"detail": {"n": [{"bogus": 1}]}}}]),
            vec!["invalid_pattern"],
        ),
        (
            json!([{"targets": ["A"], "pattern": {"detail": {"n": 5}}}]),
            vec!["invalid_pattern"],
        ),
        (
            json!([{"targets": ["A"], "pattern": [1]}]),
            vec!["invalid_pattern"],
        ),
        (
            json!([{"targets": ["A"], "pattern": {"source": ["other"]}}]),
            vec!["invalid_pattern"],
        ),
        (
            json!([{"targets": ["A"], "pattern": {"detail": {"s": ["x".repeat(3000)]}}}]),
            vec!["E040"],
        ),
        (
            json!([{"name": "PingAToC", "targets": ["A"]}]),
            vec!["E010"],
        ),
        (
            json!([{"name": "R", "targets": ["A"]}, {"name": "R", "targets": ["B"]}]),
            vec!["E010"],
        ),
        (
            json!([{"name": "bad name!", "targets": ["A"]}]),
            vec!["invalid_id"],
        ),
    ];
    for (routes, codes) in cases {
        let (status, out, _) = send(
            &s,
            request(
                "POST",
                "/route/Ping",
                Some(routes_body(routes.clone(), Some(1))),
            ),
        )
        .await;
        assert_eq!((status, code(&out)), (422, "invalid_route"), "{routes}");
        assert_eq!(diagnostics(&out), codes, "{routes}: {out}");
    }
    // A → PingA → C → Ping → A loops unless a route in it has max_hops.
    let (status, out, _) = send(
        &s,
        request(
            "POST",
            "/route/Ping",
            Some(routes_body(json!([{"targets": ["A"]}]), Some(1))),
        ),
    )
    .await;
    assert_eq!(status, 200, "{out}");
    let (_, out, _) = send(&s, request("GET", "/event/Ping", None)).await;
    assert_eq!(out["routes_version"], 2);
    // C emits Ping, routed to A: PingA → C without max_hops closes A → C → A.
    let (status, out, _) = send(
        &s,
        request(
            "POST",
            "/route/PingA",
            Some(routes_body(json!([{"targets": ["C"]}]), Some(1))),
        ),
    )
    .await;
    assert_eq!(
        (status, diagnostics(&out)),
        (422, vec!["E030".to_string()]),
        "{out}"
    );
    let (status, _, _) = send(
        &s,
        request(
            "POST",
            "/route/PingA",
            Some(routes_body(
                json!([{"targets": ["C"], "max_hops": 3}]),
                Some(1),
            )),
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(live.applied.lock().unwrap().len(), 2);
    let (_, out, _) = send(
        &s,
        request(
            "POST",
            "/route/Ping",
            Some(json!({"routes": [], "version": 2, "extra": 1})),
        ),
    )
    .await;
    assert_eq!(code(&out), "unknown_field");
}

#[tokio::test]
async fn a_refused_live_update_leaves_the_old_routing() {
    let live = Arc::new(RecordingRoutes {
        fail_with: Some("bus down".into()),
        ..RecordingRoutes::default()
    });
    let s = state_with(live, None).await;
    let (status, out, _) = send(
        &s,
        request(
            "POST",
            "/route/Ping",
            Some(routes_body(json!([{"targets": ["B"]}]), Some(1))),
        ),
    )
    .await;
    assert_eq!((status, code(&out)), (503, "live_update_failed"));
    let (_, event, _) = send(&s, request("GET", "/event/Ping", None)).await;
    assert_eq!(event["consumers"], json!(["A"]));
    let (status, out, _) = send(
        &s,
        request("POST", "/route/PingB", Some(routes_body(json!([]), None))),
    )
    .await;
    assert_eq!(status, 503, "{out}");
    let (_, event, _) = send(&s, request("GET", "/event/PingB", None)).await;
    assert_eq!(event["routes_version"], 0);
}

#[tokio::test]
async fn racing_route_writes_one_wins_one_conflicts() {
    let (s, live) = state().await;
    let mut tasks = Vec::new();
    for target in ["A", "B", "A", "B", "A", "B", "A", "B"] {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            send(
                &s,
                request(
                    "POST",
                    "/route/Ping",
                    Some(routes_body(json!([{"targets": [target]}]), Some(1))),
                ),
            )
            .await
            .0
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, [200, 409, 409, 409, 409, 409, 409, 409]);
    let applied = live.applied.lock().unwrap().clone();
    assert_eq!(applied.len(), 1);
    let (_, event, _) = send(&s, request("GET", "/event/Ping", None)).await;
    assert_eq!(event["consumers"], json!(applied[0].1[0].targets));
}

#[tokio::test]
async fn ingest_without_an_engine_is_404() {
    let (s, _) = state().await;
    let (status, out, _) = send(&s, request("POST", "/ingest", Some(json!({})))).await;
    assert_eq!((status, code(&out)), (404, "ingest_unavailable"));
}

#[tokio::test]
async fn openapi_is_3_1_and_lists_every_endpoint() {
    let (s, _) = state().await;
    let (status, doc, _) = send(&s, request("GET", "/openapi.json", None)).await;
    assert_eq!(status, 200);
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    for (path, method) in [
        ("/events", "get"),
        ("/event/{id}", "get"),
        ("/event/{id}", "put"),
        ("/flows", "get"),
        ("/flow/{id}", "get"),
        ("/flow", "post"),
        ("/flow/{id}", "delete"),
        ("/route/{id}", "post"),
        ("/ingest", "post"),
        ("/healthz", "get"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn unknown_paths_and_methods_are_json_4xx() {
    let (s, _) = state().await;
    for (method, uri, status, expected) in [
        ("GET", "/nope", 404, "no_such_endpoint"),
        ("GET", "/event/a/b", 404, "no_such_endpoint"),
        ("GET", "/../../etc/passwd", 404, "no_such_endpoint"),
        ("PATCH", "/flow/Main", 405, "method_not_allowed"),
        ("POST", "/events", 405, "method_not_allowed"),
        ("GET", "/flow", 405, "method_not_allowed"),
        ("DELETE", "/route/Ping", 405, "method_not_allowed"),
    ] {
        let (got, body, _) = send(&s, request(method, uri, None)).await;
        assert_eq!((got, code(&body)), (status, expected), "{method} {uri}");
    }
}

/// The router serves exactly `ENDPOINTS` (which the template's API routes
/// are made from): each listed method and path reaches a handler, every
/// other method on a listed path is 405, and the OpenAPI document
/// describes the same set.
#[tokio::test]
async fn the_router_serves_exactly_the_listed_endpoints() {
    use flow_runtime::store::ENDPOINTS;
    let (s, _) = state().await;
    let concrete = |path: &str| path.replace("{id}", "Ping");
    for e in &ENDPOINTS {
        let (status, body, _) = send(&s, request(e.method, &concrete(e.path), None)).await;
        assert!(
            !matches!(code(&body), "no_such_endpoint" | "method_not_allowed"),
            "{} {} is listed but not routed: {status} {body}",
            e.method,
            e.path
        );
    }
    for path in ENDPOINTS.iter().map(|e| e.path) {
        for method in ["GET", "PUT", "POST", "DELETE", "PATCH"] {
            if ENDPOINTS
                .iter()
                .any(|e| e.path == path && e.method == method)
            {
                continue;
            }
            let (status, body, _) = send(&s, request(method, &concrete(path), None)).await;
            assert_eq!(
                (status, code(&body)),
                (405, "method_not_allowed"),
                "{method} {path} is routed but not listed"
            );
        }
    }
    let (_, doc, _) = send(&s, request("GET", "/openapi.json", None)).await;
    let mut documented: Vec<String> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    let mut listed: Vec<String> = ENDPOINTS
        .iter()
        .map(|e| format!("{} {}", e.method, e.path))
        .collect();
    documented.sort();
    listed.sort();
    assert_eq!(documented, listed);
}
