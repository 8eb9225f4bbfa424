#!/usr/bin/env node
// LinkResolver: resolves the unresolved links of a KnowledgeDoc ("see the
// Q3 planning notes") into document ids, a few per pass, and re-emits the
// document.
//
// The custom-node protocol of `flowc run` / `flowc test` (docs/runtime.md):
// one input event (standard EventBridge envelope) as a JSON line on stdin,
// the emitted events as JSON lines on stdout, a non-zero exit on failure
// (the last stderr line is reported). Run with `sh -c` from the project
// directory. Deterministic: the catalogue is a file next to this script.
//
// A link (`target` null) resolves to a document of kb-catalogue.json when
// its text names the document's id, or when every word of it (lower case,
// without filler words such as "the" or "notes") is a word of the
// document's title or of one of its aliases; the match with the fewest
// extra words wins, then the smallest id. A document never links to itself.
//
// Each pass resolves at most PER_PASS links, in order, and emits the
// document once with `unresolved_links` recounted. The route `Unresolved`
// brings it back while links remain, at most three times (`max_hops 3`).
// A pass that resolves nothing emits nothing: another pass would not
// either, so the loop ends there.

import { readFileSync } from "node:fs";

const PER_PASS = 3;
const FILLER = new Set(["a", "an", "the", "of", "for", "on", "in", "to", "our", "my", "from", "notes", "note", "doc", "document"]);

class BadInput extends Error {}

function words(text) {
  return text.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w && !FILLER.has(w));
}

function loadCatalogue() {
  const path = new URL("./kb-catalogue.json", import.meta.url);
  const { documents } = JSON.parse(readFileSync(path, "utf8"));
  return documents.map((d) => ({
    docId: d.doc_id,
    names: [d.title, ...(d.aliases ?? [])].map((n) => new Set(words(n))),
  }));
}

function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function resolve(text, catalogue, selfId) {
  const lower = text.toLowerCase();
  const others = catalogue.filter((d) => d.docId !== selfId);
  const named = others.find((d) => new RegExp(`(^|[^a-z0-9-])${escape(d.docId.toLowerCase())}($|[^a-z0-9-])`).test(lower));
  if (named) return named.docId;
  const wanted = words(text);
  if (wanted.length === 0) return null;
  let best = null;
  for (const doc of others) {
    for (const name of doc.names) {
      if (!wanted.every((w) => name.has(w))) continue;
      const extra = name.size - wanted.length;
      if (!best || extra < best.extra || (extra === best.extra && doc.docId < best.docId)) {
        best = { docId: doc.docId, extra };
      }
    }
  }
  return best ? best.docId : null;
}

function check(value, test, what) {
  if (!test(value)) throw new BadInput(what);
  return value;
}

function parse(line) {
  let event;
  try {
    event = JSON.parse(line);
  } catch (e) {
    throw new BadInput(`the input is not a JSON event: ${e.message}`);
  }
  const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
  check(event, isObject, "the input is not a JSON object");
  if (event["detail-type"] !== "kb.document") {
    throw new BadInput(`cannot resolve the links of a ${JSON.stringify(event["detail-type"])} event (expected kb.document)`);
  }
  const detail = check(event.detail, isObject, "KnowledgeDoc: missing object `detail`");
  check(detail.profile, isObject, "KnowledgeDoc: missing object `detail.profile`");
  const data = check(detail.data, isObject, "KnowledgeDoc: missing object `detail.data`");
  check(data.doc_id, (v) => typeof v === "string" && v !== "", "KnowledgeDoc: `data.doc_id` is not a non-empty string");
  const links = check(data.links, Array.isArray, "KnowledgeDoc: `data.links` is not a list");
  links.forEach((link, i) => {
    check(link, isObject, `KnowledgeDoc: link ${i} is not an object`);
    check(link.text, (v) => typeof v === "string", `KnowledgeDoc: link ${i} has no string \`text\``);
    check(link.target ?? null, (v) => v === null || typeof v === "string", `KnowledgeDoc: link ${i} has a \`target\` that is neither a string nor null`);
  });
  return event;
}

async function main() {
  let input = "";
  for await (const chunk of process.stdin) input += chunk;
  const line = input.split("\n").find((l) => l.trim() !== "") ?? "";
  const event = parse(line);
  const data = event.detail.data;
  const catalogue = loadCatalogue();

  let resolved = 0;
  const links = data.links.map((link) => {
    if ((link.target ?? null) !== null || resolved >= PER_PASS) return link;
    const target = resolve(link.text, catalogue, data.doc_id);
    if (target === null) return { ...link, target: null };
    resolved += 1;
    return { ...link, target };
  });
  if (resolved === 0) return;

  const unresolved = links.filter((l) => (l.target ?? null) === null).length;
  const out = {
    "detail-type": "kb.document",
    detail: {
      profile: event.detail.profile,
      ...(event.detail.application ? { application: event.detail.application } : {}),
      data: { ...data, links, unresolved_links: unresolved },
    },
  };
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((e) => {
  const message = e instanceof BadInput ? `bad input: ${e.message}` : (e.stack ?? String(e)).split("\n")[0];
  process.stderr.write(`resolve-links.mjs: ${message}\n`);
  process.exit(1);
});
