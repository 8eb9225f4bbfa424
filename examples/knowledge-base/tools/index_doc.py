#!/usr/bin/env python3
"""DocIndexer: turns a shared note, a meeting transcript, whiteboard notes or
an attachment description into one KnowledgeDoc.

The custom-node protocol of `flowc run` / `flowc test` (docs/runtime.md):
one input event (standard EventBridge envelope) as a JSON line on stdin,
the emitted events as JSON lines on stdout, a non-zero exit on failure
(the last stderr line is reported). Run with `sh -c` from the project
directory. Deterministic: everything comes from the input event.

  input              kind        doc_id                          body         captured_at
  note.shared        note        data.note_id                    data.body    data.shared_at
  MeetingTranscript  meeting     profile.meeting_id, or the      transcript   data.started_at
                                 recording's file name
  BoardNotes         whiteboard  "wb-" + the photo's key         data.text    data.captured_at
  AttachmentNotes    attachment  note_id + "-" + file name       description  the event's time

tags: the note's own tags, the kind, the meeting application, the room,
the attachment's file extension and every #hashtag of the body; lower
case, sorted, without duplicates.
links: every [[wiki link]] and every "see (the) …" phrase of the body,
unresolved (target null); LinkResolver resolves them.
confidence: how far the body can be trusted, by source (a note 0.95, a
transcript 0.8, a model's description 0.7, a photographed whiteboard 0.6),
minus 0.05 per "[illegible]" / "[inaudible]" mark, at least 0.1.
"""

import json
import re
import sys
from datetime import datetime

CONFIDENCE = {"note": 0.95, "meeting": 0.8, "attachment": 0.7, "whiteboard": 0.6}
WIKI_LINK = re.compile(r"\[\[([^\[\]\n]+)\]\]")
SEE_PHRASE = re.compile(r"\bsee (?:the |our |my )?([^.;:,!?()\[\]\n]+)", re.IGNORECASE)
SELF_REFERENCES = ("above", "below", "attached", "attachment")
HASHTAG = re.compile(r"(?<![\w&])#([A-Za-z][\w-]*)")
UNREADABLE = re.compile(r"\[(?:illegible|inaudible)\]", re.IGNORECASE)

TYPE_NAMES = {int: "a whole number", float: "a number", str: "a string", dict: "an object", list: "a list"}


class BadInput(Exception):
    pass


def get(obj, path, kind, what, optional=False):
    """The value at `path` (dot-separated) in `obj`, checked against `kind`."""
    value = obj
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            if optional:
                return None
            raise BadInput(f"{what}: missing `{path}`")
        value = value[part]
    if value is None and optional:
        return None
    if kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise BadInput(f"{what}: `{path}` should be {TYPE_NAMES[kind]}, found {value!r}")
    return value


def timestamp(obj, path, what):
    text = get(obj, path, str, what)
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(f"{what}: `{path}` is not an RFC 3339 timestamp: {text!r}")
    return text


def s3_object(obj, path, what):
    ref = get(obj, path, dict, what)
    get(ref, "bucket", str, f"{what} `{path}`")
    get(ref, "key", str, f"{what} `{path}`")
    return ref


def slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def file_stem(key):
    name = key.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name


def from_note(event, detail):
    what = "note.shared"
    tags = get(detail, "data.tags", list, what, optional=True) or []
    if not all(isinstance(t, str) for t in tags):
        raise BadInput(f"{what}: `data.tags` must be a list of strings")
    return {
        "doc_id": get(detail, "data.note_id", str, what),
        "kind": "note",
        "title": get(detail, "data.title", str, what),
        "body": get(detail, "data.body", str, what),
        "origin": None,
        "tags": tags,
        "captured_at": timestamp(detail, "data.shared_at", what),
    }


def from_meeting(event, detail):
    what = "MeetingTranscript"
    recording = s3_object(detail, "data.recording", what)
    started_at = timestamp(detail, "data.started_at", what)
    app = get(detail, "application.name", str, what)
    meeting_id = get(detail, "profile.meeting_id", str, what, optional=True)
    doc_id = meeting_id or slug(file_stem(recording["key"]))
    participants = get(detail, "data.participants", list, what)
    title = f"{app} meeting {meeting_id or file_stem(recording['key'])}, {started_at[:10]}"
    if participants:
        title += f" ({', '.join(str(p) for p in participants)})"
    return {
        "doc_id": doc_id,
        "kind": "meeting",
        "title": title,
        "body": get(detail, "data.transcript", str, what),
        "origin": recording,
        "tags": [slug(app)],
        "captured_at": started_at,
    }


def from_board(event, detail):
    what = "BoardNotes"
    image = s3_object(detail, "data.image", what)
    captured_at = timestamp(detail, "data.captured_at", what)
    room = get(detail, "data.room", str, what, optional=True)
    key = image["key"]
    if key.startswith("whiteboards/"):
        key = key[len("whiteboards/"):]
    title = f"Whiteboard{f' in room {room}' if room else ''}, {captured_at[:16].replace('T', ' ')} UTC"
    return {
        "doc_id": "wb-" + slug(key.rsplit(".", 1)[0]),
        "kind": "whiteboard",
        "title": title,
        "body": get(detail, "data.text", str, what),
        "origin": image,
        "tags": [f"room-{slug(room)}"] if room else [],
        "captured_at": captured_at,
    }


def from_attachment(event, detail):
    what = "AttachmentNotes"
    note_id = get(detail, "data.note_id", str, what)
    name = get(detail, "data.name", str, what)
    extension = name.rsplit(".", 1)[1].lower() if "." in name else None
    return {
        "doc_id": f"{note_id}-{slug(name)}",
        "kind": "attachment",
        "title": f"{name} (attached to {note_id})",
        "body": get(detail, "data.description", str, what),
        "origin": s3_object(detail, "data.file", what),
        "tags": [extension] if extension else [],
        "captured_at": timestamp(event, "time", what),
    }


INDEXERS = {
    "note.shared": from_note,
    "MeetingTranscript": from_meeting,
    "BoardNotes": from_board,
    "AttachmentNotes": from_attachment,
}


def links_in(body):
    """[[wiki links]] and "see …" phrases, in order, without duplicates."""
    found = [(m.start(), m.group(1)) for m in WIKI_LINK.finditer(body)]
    for m in SEE_PHRASE.finditer(body):
        phrase = m.group(1)
        if not phrase.lower().startswith(SELF_REFERENCES):
            found.append((m.start(), phrase))
    links, seen = [], set()
    for _, text in sorted(found):
        text = " ".join(text.split())[:120]
        if text and text.lower() not in seen:
            seen.add(text.lower())
            links.append({"text": text, "target": None})
    return links


def main():
    line = sys.stdin.readline()
    if not line.strip():
        raise BadInput("no input event on stdin")
    try:
        event = json.loads(line)
    except json.JSONDecodeError as e:
        raise BadInput(f"the input is not a JSON event: {e}")
    if not isinstance(event, dict):
        raise BadInput("the input is not a JSON object")
    kind = event.get("detail-type")
    if kind not in INDEXERS:
        raise BadInput(f"cannot index a {kind!r} event (expected one of {', '.join(INDEXERS)})")
    timestamp(event, "time", kind)
    detail = get(event, "detail", dict, kind)
    profile = get(detail, "profile", dict, kind)
    get(profile, "workspace_id", str, kind)
    get(profile, "user_id", str, kind)
    get(detail, "data", dict, kind)

    doc = INDEXERS[kind](event, detail)
    body = doc["body"]
    tags = {t.lower() for t in doc["tags"] if t.strip()} | {doc["kind"]}
    tags |= {t.lower() for t in HASHTAG.findall(body)}
    links = links_in(body)
    confidence = CONFIDENCE[doc["kind"]] - 0.05 * len(UNREADABLE.findall(body))
    doc.update(
        tags=sorted(tags),
        links=links,
        unresolved_links=sum(1 for link in links if link["target"] is None),
        confidence=round(max(0.1, confidence), 2),
    )
    out = {
        "detail-type": "kb.document",
        "detail": {
            "profile": {k: v for k, v in profile.items() if k in ("workspace_id", "user_id", "meeting_id")},
            "data": doc,
        },
    }
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    try:
        main()
    except BadInput as e:
        print(f"index_doc.py: bad input: {e}", file=sys.stderr)
        sys.exit(1)
