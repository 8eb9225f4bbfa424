//! Views on AWS: one delivery of a summarizer (Bedrock, synchronously) or
//! of a transcriber (a Transcribe job started; its job event finishing
//! it), against the ports and the two adapters. Views keep no state:
//! their outputs' ids are derived from the input, so a redelivery emits
//! the same event again and the nodes downstream recognise it.

use super::bedrock::BedrockSummarizer;
use super::driver::{NodeDriver, Outcome, Outlet};
use super::error::FlowError;
use super::transcribe::{self, Jobs, TranscribeJobs};
use super::wire::entry_of;
use crate::engine::route::{Delivery, Routed};
use crate::engine::views::{view_output, view_request};
use crate::engine::{Event, ViewRequest};
use crate::ports::{ObjectStore, ViewAnswer};

/// The delivery of `event` to the driver's node, if a route takes it
/// there; `Err(Outcome::Refused)` past a route's `max_hops`.
fn route(driver: &NodeDriver<'_>, event: &Event) -> Result<Delivery, Result<Outcome, FlowError>> {
    let mut refused = false;
    for r in driver.router.route(event) {
        match r {
            Routed::Deliver(d) if d.node == driver.node.name => return Ok(d),
            Routed::Refused { node, .. } if node == driver.node.name => refused = true,
            _ => {}
        }
    }
    if refused {
        return Err(Ok(Outcome::Refused));
    }
    Err(Err(FlowError::bad_input(format!(
        "event {} ({} / {}) matches no route to this node",
        event.id, event.source, event.detail_type
    ))))
}

fn emit(
    driver: &NodeDriver<'_>,
    out: &mut dyn Outlet,
    delivery: &Delivery,
    answer: &ViewAnswer,
) -> Result<Outcome, FlowError> {
    let emitted = view_output(
        driver.graph,
        driver.node,
        &delivery.event_name,
        &delivery.event,
        answer,
    )
    .map_err(|e| FlowError::failed(e.0))?;
    out.put(&[entry_of(&emitted)])?;
    Ok(Outcome::Done(vec![emitted]))
}

fn object_bytes(
    objects: &mut dyn ObjectStore,
    object: &crate::engine::ObjectRef,
) -> Result<Vec<u8>, FlowError> {
    objects
        .get(object)
        .map_err(FlowError::retryable)?
        .ok_or_else(|| FlowError::failed(format!("object {object} not found")))
}

/// A summarizer's delivery: the image from S3, one Converse call, the
/// event out.
pub fn summarize(
    driver: &NodeDriver<'_>,
    bedrock: &BedrockSummarizer,
    objects: &mut dyn ObjectStore,
    out: &mut dyn Outlet,
    event: &Event,
) -> Result<Outcome, FlowError> {
    let at = |e: FlowError| e.at(&driver.node.name, &driver.node.span);
    let d = match route(driver, event) {
        Ok(d) => d,
        Err(outcome) => return outcome.map_err(at),
    };
    let request = view_request(driver.node, &d.event).map_err(|e| at(FlowError::failed(e.0)))?;
    let ViewRequest::Summary { image, .. } = &request else {
        return Err(at(FlowError::failed("not a summarizer")));
    };
    let bytes = object_bytes(objects, image).map_err(at)?;
    let answer = bedrock.converse(&request, &bytes).map_err(at)?;
    emit(driver, out, &d, &answer).map_err(at)
}

/// A transcriber's delivery: an input starts a job; Transcribe's job
/// event (source `aws.transcribe`) finishes it.
pub fn transcribe(
    driver: &NodeDriver<'_>,
    jobs: &TranscribeJobs,
    names: &Jobs,
    objects: &mut dyn ObjectStore,
    out: &mut dyn Outlet,
    event: &Event,
) -> Result<Outcome, FlowError> {
    let at = |e: FlowError| e.at(&driver.node.name, &driver.node.span);
    if event.source == transcribe::JOB_EVENT_SOURCE {
        return finish(driver, jobs, names, objects, out, event).map_err(at);
    }
    let d = match route(driver, event) {
        Ok(d) => d,
        Err(outcome) => return outcome.map_err(at),
    };
    let request = view_request(driver.node, &d.event).map_err(|e| at(FlowError::failed(e.0)))?;
    let ViewRequest::Transcript { media, language } = &request else {
        return Err(at(FlowError::failed("not a transcriber")));
    };
    let job = names.job_name(&d.event.id);
    let input = d.event.to_envelope().to_string();
    objects
        .put(&names.input(&job), input.as_bytes())
        .map_err(|e| at(FlowError::retryable(e)))?;
    jobs.start(&job, media, language, &names.transcript(&job))
        .map_err(at)?;
    Ok(Outcome::Done(Vec::new()))
}

fn finish(
    driver: &NodeDriver<'_>,
    jobs: &TranscribeJobs,
    names: &Jobs,
    objects: &mut dyn ObjectStore,
    out: &mut dyn Outlet,
    event: &Event,
) -> Result<Outcome, FlowError> {
    let state = transcribe::job_state(&event.detail).map_err(FlowError::bad_input)?;
    if !names.owns(&state.job) {
        return Err(FlowError::bad_input(format!(
            "Transcribe job {} is not one of {}'s (prefix {})",
            state.job,
            driver.node.name,
            names.name_prefix()
        )));
    }
    match state.status.as_str() {
        "COMPLETED" => {}
        "FAILED" => {
            let reason = jobs.failure_reason(&state.job)?;
            return Err(FlowError::failed(format!(
                "Transcribe job {} failed: {reason}",
                state.job
            )));
        }
        other => {
            return Err(FlowError::bad_input(format!(
                "Transcribe job {} is {other}, not COMPLETED or FAILED",
                state.job
            )))
        }
    }
    let input = object_bytes(objects, &names.input(&state.job))?;
    let input: serde_json::Value = serde_json::from_slice(&input)
        .map_err(|e| FlowError::failed(format!("the saved input of {}: {e}", state.job)))?;
    let input = Event::from_envelope(&input, event.time)
        .map_err(|e| FlowError::failed(format!("the saved input of {}: {e}", state.job)))?;
    let d = match route(driver, &input) {
        Ok(d) => d,
        Err(outcome) => return outcome,
    };
    let transcript = object_bytes(objects, &names.transcript(&state.job))?;
    let answer = transcribe::read_transcript(&state.job, &transcript).map_err(FlowError::failed)?;
    emit(driver, out, &d, &answer)
}
